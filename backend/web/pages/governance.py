"""Proposals, voting and the treasury: pages that read the chain (503 while it is away)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from backend.accounts.deps import OptionalUser
from backend.governance import proposals, treasury, votes
from backend.governance.actions import PARAMETERS
from backend.organizations import service as organizations
from backend.platform.http import (
    DbId,
    SessionDep,
    SettingsDep,
    services_of,
)
from backend.web.render import PageNumber, login_redirect, pages_of, render

# Voters on the proposal page, a page at a time: a phone shows a few screens of them, not a whole festival's, and
# rendering hundreds was most of the page's time; the API's /proposals/{id}/votes pages through all of them.
VOTERS_PER_PAGE = 50

router = APIRouter(include_in_schema=False)


PROPOSALS_PER_PAGE = 50


@router.get("/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, session: SessionDep, user: OptionalUser, page: PageNumber = 1):
    services = services_of(request)
    rows = proposals.list_proposals(session=session, w3=request.app.state.web3, contracts=services.contracts,
                                    limit=PROPOSALS_PER_PAGE, offset=(page - 1) * PROPOSALS_PER_PAGE)
    return render(request, "proposals.html", user, proposals=rows, page=page,
                  pages=pages_of(rows.total, PROPOSALS_PER_PAGE))


# Before /proposals/{proposal_id}, which would otherwise take "new" for an id (and answer 422).
@router.get("/proposals/new", response_class=HTMLResponse)
def new_proposal_page(request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return login_redirect(request)
    settings = proposals.governance_settings(contracts=services_of(request).contracts, user=user)
    on_chain = [o for o in organizations.organizations_by_id(session=session).values() if o.chain_id is not None]
    return render(request, "proposal_new.html", user, governance=settings, parameters=sorted(PARAMETERS),
                  organizations=on_chain)


@router.get("/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(proposal_id: DbId, request: Request, session: SessionDep, user: OptionalUser,
                  page: int = Query(default=1, ge=1, le=10**7, description="page of the voters' list")):
    services = services_of(request)
    proposal = proposals.read_proposal(session=session, w3=request.app.state.web3, contracts=services.contracts,
                                       proposal_id=proposal_id, user=user, chain_id=request.app.state.chain_id)
    voter_count = votes.count_votes(session=session, proposal_id=proposal_id)
    pages = max(1, -(-voter_count // VOTERS_PER_PAGE))
    page = min(page, pages)  # past the end (an old link, fewer voters since): the last page
    voters = votes.list_votes(session=session, proposal_id=proposal_id, limit=VOTERS_PER_PAGE,
                              offset=(page - 1) * VOTERS_PER_PAGE)
    return render(request, "proposal.html", user, proposal=proposal, votes=voters, voter_count=voter_count,
                  page=page, pages=pages, first_listed=(page - 1) * VOTERS_PER_PAGE + 1)


@router.get("/treasury", response_class=HTMLResponse)
def treasury_page(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser):
    data = treasury.treasury_public(session=session, settings=settings, w3=request.app.state.web3,
                                    contracts=services_of(request).contracts)
    return render(request, "treasury.html", user, treasury=data)
