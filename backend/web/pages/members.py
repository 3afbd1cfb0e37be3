"""A member's own pages: My page (wallet, badges, missions, delegation) and linking a wallet of their own."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.accounts import service as accounts
from backend.accounts.deps import OptionalUser
from backend.claims import service as claims
from backend.events import service as events
from backend.governance import delegation
from backend.missions import service as missions
from backend.platform.http import (
    SessionDep,
    SettingsDep,
    services_of,
)
from backend.web.render import login_redirect, render

router = APIRouter(include_in_schema=False)


@router.get("/me", response_class=HTMLResponse)
def my_page(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser):
    if user is None:
        return login_redirect(request)
    services = services_of(request)
    wallet = accounts.wallet_view(session=session, user=user, base_url=settings.public_base_url)
    history = claims.claims_of(session=session, user=user, explorer_tx_url=settings.explorer_tx_url)
    titles = events.events_by_ids(session=session, ids={c.event_id for c in history})
    state = delegation.delegation_state(session=session, points=services.contracts.points, user=user)
    return render(request, "me.html", user, wallet=wallet, history=history, events=titles, delegation=state,
                  missions=missions.mission_statuses(session=session, user=user))


@router.get("/wallet", response_class=HTMLResponse)
def wallet_link(request: Request, user: OptionalUser):
    if user is None:
        return login_redirect(request)
    return render(request, "wallet.html", user, chain_id=request.app.state.chain_id)
