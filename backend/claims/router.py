"""Claiming a badge, and the member's claims."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from backend.accounts.deps import CurrentUser, LoopUser
from backend.claims import service
from backend.claims.schemas import ClaimCreate, ClaimPublic
from backend.platform.http import (
    PAGED,
    DbId,
    Limit,
    LoopSessionDep,
    Page,
    SessionDep,
    SettingsDep,
    WritesDep,
    client_ip,
    errors,
    paged,
)
from backend.platform.paging import DEFAULT_LIMIT

router = APIRouter(tags=["claims"])


@router.post("/events/{event_id}/claims", response_model=ClaimPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(400, 402, 403, 409, 410, 429))
async def claim(event_id: DbId, body: ClaimCreate, request: Request, session: LoopSessionDep, settings: SettingsDep,
                user: LoopUser, writes: WritesDep):
    """Claims the event's badge for the caller's wallet. Answers at once with `accepted`; follow it with
    GET /claims/{id}. An own wallet whose code turned a badge down is refused (409 recipient_refuses_badges) until
    its code changes."""
    return await service.accept_claim(session=session, writes=writes, user=user, event_id=event_id,
                                      method=body.method, secret=body.secret, client_ip=client_ip(request),
                                      explorer_tx_url=settings.explorer_tx_url, w3=request.app.state.web3)


@router.get("/claims/{claim_id}", response_model=ClaimPublic)
def read_claim(claim_id: DbId, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    return service.read_claim(session=session, user=user, claim_id=claim_id, explorer_tx_url=settings.explorer_tx_url)


@router.get("/me/claims", response_model=list[ClaimPublic], responses=PAGED)
def my_claims(session: SessionDep, response: Response, settings: SettingsDep, user: CurrentUser,
              limit: Limit = DEFAULT_LIMIT, offset: Page = 0):
    """The caller's claims, newest first."""
    return paged(response, service.claims_of(session=session, user=user, explorer_tx_url=settings.explorer_tx_url,
                                             limit=limit, offset=offset))
