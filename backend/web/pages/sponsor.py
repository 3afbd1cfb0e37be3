"""The sponsor's page: what the city paid for gas, per organization and kind of transaction, and every budget (the
sponsor's accounts only; others get the error page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.accounts.deps import OptionalUser
from backend.governance.treasury import to_whole_units
from backend.platform.http import SessionDep
from backend.reports import spend
from backend.web.render import login_redirect, render

router = APIRouter(include_in_schema=False)


def eth(wei: str | int) -> str:
    """Wei as ETH, exactly (fees on a cheap chain are tiny fractions)."""
    return to_whole_units(int(wei), 18)


@router.get("/console/spend", response_class=HTMLResponse)
def sponsor_spend_page(request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return login_redirect(request)
    report = spend.sponsor_spend(session=session, user=user)
    return render(request, "console_spend.html", user, report=report, eth=eth)
