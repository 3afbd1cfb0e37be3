"""Governance over HTTP: proposals and votes, delegation, the treasury and its reports. The rules are in
proposals.py, votes.py, delegation.py and treasury.py."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from backend.accounts.deps import CurrentUser, LoopUser, OptionalUser
from backend.governance import budget, delegation, proposals, votes
from backend.governance.schemas import (
    DelegationCreate,
    DelegationPublic,
    DelegationStatePublic,
    GovernanceBudgetPublic,
    GovernanceBudgetUpdate,
    GovernancePublic,
    ProposalCreate,
    ProposalPublic,
    TreasuryPublic,
    VoteCreate,
    VotePublic,
)
from backend.governance.treasury import report as report_table
from backend.governance.treasury import treasury_public
from backend.platform.http import (
    PAGED,
    DbId,
    Limit,
    LoopSessionDep,
    Page,
    ServicesDep,
    SessionDep,
    SettingsDep,
    WritesDep,
    errors,
    paged,
)
from backend.platform.paging import DEFAULT_LIMIT
from backend.reports.csv import CSV_DOC, csv_response

router = APIRouter()
GOVERNANCE, TREASURY, SPONSOR = ["governance"], ["treasury"], ["sponsor"]


# ---------------------------------------------------------------------------------------------------- proposals


@router.get("/governance", response_model=GovernancePublic, tags=GOVERNANCE)
def governance(services: ServicesDep, user: OptionalUser) -> GovernancePublic:
    """The community's governance settings, and the caller's current voting power."""
    return proposals.governance_settings(contracts=services.contracts, user=user)


@router.get("/proposals", response_model=list[ProposalPublic], tags=GOVERNANCE, responses=PAGED)
def list_proposals(request: Request, response: Response, session: SessionDep, services: ServicesDep,
                   state: str | None = Query(default=None, max_length=20, description="only proposals in this state"),
                   limit: Limit = DEFAULT_LIMIT, offset: Page = 0):
    """Newest first, with their tallies and quorum progress as the indexer saw them on chain."""
    return paged(response, proposals.list_proposals(session=session, w3=request.app.state.web3,
                                                    contracts=services.contracts, state=state, limit=limit,
                                                    offset=offset))


@router.get("/proposals/{proposal_id}", response_model=ProposalPublic, tags=GOVERNANCE)
def read_proposal(proposal_id: DbId, request: Request, session: SessionDep, services: ServicesDep,
                  user: OptionalUser):
    """One proposal; for a logged-in member also their vote and their voting power at the snapshot."""
    return proposals.read_proposal(session=session, w3=request.app.state.web3, contracts=services.contracts,
                                   proposal_id=proposal_id, user=user, chain_id=request.app.state.chain_id)


@router.get("/proposals/{proposal_id}/text", tags=GOVERNANCE)
def proposal_text(proposal_id: DbId, session: SessionDep) -> dict:
    """The official text: SHA-256 of `canonical` (UTF-8) is the hash in the on-chain `description`."""
    return proposals.proposal_text(session=session, proposal_id=proposal_id)


@router.get("/proposals/{proposal_id}/votes", response_model=list[VotePublic], tags=GOVERNANCE, responses=PAGED)
def list_votes(proposal_id: DbId, response: Response, session: SessionDep,
               limit: int = Query(default=500, ge=1, le=5000), offset: Page = 0):
    """Every vote on the proposal, a page at a time: voter address, choice, weight, reason and transaction."""
    return paged(response, votes.list_votes(session=session, proposal_id=proposal_id, limit=limit, offset=offset))


@router.post("/proposals", response_model=ProposalPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(402, 403, 409, 429), tags=GOVERNANCE)
def create_proposal(body: ProposalCreate, request: Request, session: SessionDep, services: ServicesDep,
                    user: CurrentUser):
    """Proposes a decision, a treasury grant or a parameter change. A custodial member pays no gas: the relayer
    sends the proposal from the member's own address. A member with their own wallet gets the `transaction` to send
    from it (state `awaiting_wallet` until it is on chain). 402 once the community's governance budget has no room
    for another proposal; 429 beyond the proposals a member may make per day."""
    return proposals.create_proposal(session=session, w3=request.app.state.web3, contracts=services.contracts,
                                     chain_id=request.app.state.chain_id, user=user, body=body)


@router.get("/proposals/{proposal_id}/ballot", responses=errors(409), tags=GOVERNANCE)
def ballot_to_sign(proposal_id: DbId, session: SessionDep, services: ServicesDep, user: CurrentUser,
                   support: int = Query(ge=0, le=2, description="0 against, 1 for, 2 abstain"),
                   reason: str = Query(default="", max_length=1000)) -> dict:
    """The EIP-712 ballot for the caller's wallet to sign (eth_signTypedData_v4); send the signature with
    POST /proposals/{id}/votes. Numbers are decimal strings, as wallets take them."""
    return proposals.ballot_to_sign(session=session, governor=services.contracts.governor, user=user,
                                    proposal_id=proposal_id, support=support, reason=reason)


@router.post("/proposals/{proposal_id}/votes", response_model=VotePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(400, 403, 409), tags=GOVERNANCE)
async def cast_vote(proposal_id: DbId, body: VoteCreate, request: Request, session: LoopSessionDep,
                    services: ServicesDep, user: LoopUser, writes: WritesDep):
    """Votes: answered at once with `accepted`; the relayer sends the ballot (gasless) and the vote turns
    `confirmed`. Sending the same ballot again returns the same vote."""
    # On the event loop, as the claim route (a vote burst's hot path): see backend/governance/votes.py.
    state = request.app.state
    return await votes.cast(session=session, writes=writes, chain_reads=state.chain_reads, vault=state.vault,
                            contracts=services.contracts, user=user, proposal_id=proposal_id, body=body)


@router.post("/proposals/{proposal_id}/queue", status_code=status.HTTP_202_ACCEPTED, responses=errors(409),
             tags=GOVERNANCE)
def queue_proposal(proposal_id: DbId, session: SessionDep, services: ServicesDep, user: CurrentUser) -> dict:
    """Queues a succeeded proposal in the timelock (the relayer sends it; anyone may ask)."""
    return proposals.queue(session=session, contracts=services.contracts, proposal_id=proposal_id)


@router.post("/proposals/{proposal_id}/execute", status_code=status.HTTP_202_ACCEPTED, responses=errors(409),
             tags=GOVERNANCE)
def execute_proposal(proposal_id: DbId, session: SessionDep, services: ServicesDep, user: CurrentUser) -> dict:
    """Executes a queued proposal once the timelock delay has passed (the relayer sends it; anyone may ask)."""
    return proposals.execute(session=session, contracts=services.contracts, proposal_id=proposal_id)


# ---------------------------------------------------------------------------------------------------- delegation


@router.get("/me/delegation", response_model=DelegationStatePublic, tags=GOVERNANCE)
def delegation_state(session: SessionDep, services: ServicesDep, user: CurrentUser):
    """Whom the member's points vote for, and the member's points and voting power (from the indexer)."""
    return delegation.delegation_state(session=session, points=services.contracts.points, user=user)


@router.get("/me/delegation/typed-data", tags=GOVERNANCE)
def delegation_to_sign(services: ServicesDep, user: CurrentUser,
                       delegatee: str = Query(pattern=r"^0x[0-9a-fA-F]{40}$")) -> dict:
    """The EIP-712 Delegation for the caller's wallet to sign; send it back with nonce, expiry and signature."""
    return delegation.delegation_to_sign(points=services.contracts.points, user=user, delegatee=delegatee)


@router.post("/me/delegation", response_model=DelegationPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(400, 402, 409), tags=GOVERNANCE)
def delegate(body: DelegationCreate, request: Request, session: SessionDep, services: ServicesDep,
             user: CurrentUser):
    """Delegates the member's voting power to `delegatee` (the member's own address takes it back). It counts for
    proposals whose voting opens after it is confirmed."""
    return delegation.delegate(session=session, points=services.contracts.points, vault=request.app.state.vault,
                               user=user, body=body)


@router.delete("/me/delegation", response_model=DelegationPublic, status_code=status.HTTP_202_ACCEPTED,
               responses=errors(400, 402, 409), tags=GOVERNANCE)
def undelegate(request: Request, session: SessionDep, services: ServicesDep, user: CurrentUser):
    """Takes the custodial member's voting power back (delegates to themselves). Own-wallet members POST a signed
    delegation to their own address."""
    return delegation.undelegate(session=session, points=services.contracts.points, vault=request.app.state.vault,
                                 user=user)


# ---------------------------------------------------------------------------------------------------- sponsor


@router.get("/sponsor/governance-budget", response_model=GovernanceBudgetPublic, responses=errors(403), tags=SPONSOR)
def governance_budget(session: SessionDep, user: CurrentUser):
    """The community's governance gas budget, what its transactions used, and what proposals in flight hold (the
    sponsor's accounts only)."""
    return budget.read_budget(session=session, user=user)


@router.put("/sponsor/governance-budget", response_model=GovernanceBudgetPublic, responses=errors(403),
            tags=SPONSOR)
def set_governance_budget(body: GovernanceBudgetUpdate, session: SessionDep, user: CurrentUser):
    """The sponsor (the city, which pays the gas) sets the gas of the community's governance: members' proposals,
    votes, delegations, queue and execute, moves to an own wallet. New proposals and delegations stop at four fifths
    of it; votes and executions never do."""
    return budget.set_budget(session=session, user=user, gas_budget=body.gas_budget)


# ---------------------------------------------------------------------------------------------------- treasury


@router.get("/treasury", response_model=TreasuryPublic, tags=TREASURY)
def treasury(request: Request, session: SessionDep, settings: SettingsDep, services: ServicesDep):
    """What the community treasury holds (ETH and known tokens) and every grant it paid."""
    return treasury_public(session=session, settings=settings, w3=request.app.state.web3,
                                    contracts=services.contracts)


@router.get("/reports/{table}.csv", response_class=Response, tags=TREASURY,
            responses=CSV_DOC)
def report(table: Literal["proposals", "votes", "payouts"], request: Request, session: SessionDep,
           services: ServicesDep):
    """Proposals, votes or payouts as CSV, for municipal reporting."""
    header, rows = report_table(session=session, w3=request.app.state.web3, table=table)
    return csv_response(header, rows, table)
