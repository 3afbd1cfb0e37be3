"""Proposals: read with live tallies from the indexer, made (gasless for custodial members), the ballot an own-wallet
member signs, and a passed proposal queued or executed (by the relayer, at anyone's request).

The governor's state comes in as arguments of the rules (`check_threshold`, `check_advance`...), so that each rule
is checked without a chain; the functions that read the chain pass it on."""

from __future__ import annotations

from datetime import datetime, timezone

from eth_utils import keccak
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.accounts.models import ExportStatus, User, WalletExport, WalletKind
from backend.governance import actions as proposal_actions
from backend.governance import ballots, budget
from backend.governance.models import Proposal, ProposalKind, RelayStatus, Vote
from backend.governance.public import vote_public
from backend.governance.schemas import GovernancePublic, ProposalCreate, ProposalPublic, TransactionPublic, VoteTally
from backend.governance.state import chain_now, proposal_state, quorum_points, state_column
from backend.governance.text import canonical_text, description, text_sha256
from backend.governance.treasury import (
    NotAToken,
    balance_of,
    grant_public,
    to_base_units,
    to_whole_units,
    token_info,
)
from backend.organizations import service as organizations
from backend.platform import rate_limits, throttle
from backend.platform.chain.eip712 import for_wallet, typed_data
from backend.platform.errors import Conflict, Forbidden, NotFound, Unprocessable
from backend.platform.paging import DEFAULT_LIMIT, Paged, page_of

ACTIVE = ballots.PROPOSAL_STATES.index("active")
PENDING = ballots.PROPOSAL_STATES.index("pending")
SUCCEEDED = ballots.PROPOSAL_STATES.index("succeeded")
QUEUED = ballots.PROPOSAL_STATES.index("queued")


def at(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, timezone.utc) if timestamp is not None else None


def get_proposal(*, session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("proposal_not_found")
    return proposal


def require_on_chain(proposal: Proposal) -> None:
    """Votes, ballots and the timelock need the governor to know the proposal."""
    if proposal.status != RelayStatus.confirmed:
        raise Conflict("proposal_not_on_chain")


# ---------------------------------------------------------------------------------------------------- reading


def proposal_public(*, session: Session, w3, contracts, proposal: Proposal, now: int | None,
                    user: User | None = None, chain_id: int | None = None) -> ProposalPublic:
    quorum_progress = None
    if proposal.quorum is not None:
        quorum_progress = 1.0 if proposal.quorum == 0 else min(1.0, quorum_points(proposal) / proposal.quorum)
    public = ProposalPublic(
        id=proposal.id, proposal_id=proposal.proposal_id, kind=proposal.kind.value,
        state=proposal_state(proposal, now), title_ja=proposal.title_ja, title_en=proposal.title_en,
        body_ja=proposal.body_ja, body_en=proposal.body_en, proposer_address=proposal.proposer_address,
        text_sha256=proposal.text_sha256, grant=grant_public(w3, proposal), parameter=proposal.parameter_name,
        parameter_value=proposal.parameter_value,
        voting_starts_at=at(proposal.snapshot + 1) if proposal.snapshot is not None else None,
        voting_ends_at=at(proposal.deadline),
        votes=VoteTally(for_=proposal.votes_for, against=proposal.votes_against, abstain=proposal.votes_abstain),
        points=VoteTally(for_=proposal.points_for, against=proposal.points_against, abstain=proposal.points_abstain),
        quorum=proposal.quorum, quorum_progress=quorum_progress, executable_at=at(proposal.eta),
        created_tx=proposal.created_tx, queued_tx=proposal.queued_tx, executed_tx=proposal.executed_tx,
        executed_at=proposal.executed_at, failure=proposal.failure,
    )
    if proposal.status == RelayStatus.awaiting_wallet and chain_id is not None:
        public.transaction = propose_transaction(contracts=contracts, proposal=proposal, chain_id=chain_id)
    if user is not None:
        mine = session.scalar(select(Vote).where(Vote.proposal_id == proposal.id, Vote.voter == user.wallet_address))
        public.my_vote = vote_public(mine) if mine is not None else None
        if proposal.snapshot is not None and now is not None and proposal.snapshot < now:
            public.my_voting_power = contracts.points.functions.getPastVotes(user.wallet_address,
                                                                             proposal.snapshot).call()
    return public


def propose_transaction(*, contracts, proposal: Proposal, chain_id: int) -> TransactionPublic:
    """What an own-wallet member sends to put their proposal on chain."""
    acts = proposal_actions.Actions.from_json(proposal.actions)
    data = contracts.governor.encode_abi("propose", args=[acts.targets, acts.values, acts.calldatas,
                                                          proposal.description])
    return TransactionPublic(chain_id=chain_id, to=contracts.governor.address, data=data)


def governance_settings(*, contracts, user: User | None) -> GovernancePublic:
    """The community's governance settings, and the caller's current voting power."""
    governor, timelock = contracts.governor, contracts.timelock
    return GovernancePublic(
        governor=governor.address, timelock=timelock.address,
        counting="quadratic" if ballots.is_quadratic(governor) else "simple",
        voting_delay_s=governor.functions.votingDelay().call(),
        voting_period_s=governor.functions.votingPeriod().call(),
        proposal_threshold=governor.functions.proposalThreshold().call(),
        quorum_percent=governor.functions.quorumNumerator().call() * 100
        // governor.functions.quorumDenominator().call(),
        timelock_delay_s=timelock.functions.getMinDelay().call(),
        my_voting_power=(contracts.points.functions.getVotes(user.wallet_address).call()
                         if user is not None else None),
    )


def list_proposals(*, session: Session, w3, contracts, state: str | None = None, limit: int = DEFAULT_LIMIT,
                   offset: int = 0) -> Paged[ProposalPublic]:
    """Newest first, a page of `limit` from `offset` (of those in `state`), with their tallies and quorum progress as
    the indexer saw them on chain."""
    now = chain_now(session)
    query = select(Proposal).order_by(Proposal.id.desc())
    if state:  # the state is derived, not stored: the database derives it too (state_column), for this page only
        query = query.where(state_column(now) == state)
    return page_of(session, query, limit=limit, offset=offset).map(
        lambda p: proposal_public(session=session, w3=w3, contracts=contracts, proposal=p, now=now))


def read_proposal(*, session: Session, w3, contracts, proposal_id: int, user: User | None = None,
                  chain_id: int | None = None) -> ProposalPublic:
    """One proposal; for a member also their vote and their voting power at the snapshot."""
    return proposal_public(session=session, w3=w3, contracts=contracts,
                           proposal=get_proposal(session=session, proposal_id=proposal_id), now=chain_now(session),
                           user=user, chain_id=chain_id)


def proposal_text(*, session: Session, proposal_id: int) -> dict:
    """The official text: SHA-256 of `canonical` (UTF-8) is the hash in the on-chain `description`."""
    proposal = get_proposal(session=session, proposal_id=proposal_id)
    return {"canonical": canonical_text(proposal.title_ja, proposal.title_en, proposal.body_ja, proposal.body_en)
            if proposal.text_sha256 else None,
            "sha256": proposal.text_sha256, "description": proposal.description}


# ---------------------------------------------------------------------------------------------------- proposing


def check_threshold(*, voting_power: int, threshold: int) -> None:
    """Proposing needs the governor's proposal threshold of voting power."""
    if voting_power < threshold:
        raise Forbidden("below_threshold", threshold=threshold, voting_power=voting_power)


def check_wallet_not_moving(*, session: Session, user: User) -> None:
    """A custodial member whose key is being exported cannot have the relayer send from it meanwhile."""
    if session.scalar(select(func.count()).select_from(WalletExport).where(
            WalletExport.user_id == user.id,
            WalletExport.status.in_((ExportStatus.pending, ExportStatus.submitted)))):
        raise Conflict("wallet_moving")


def check_parameter_value(*, parameter: str, value: int) -> None:
    _contract, _function, low, high = proposal_actions.PARAMETERS[parameter]
    if not low <= value <= high:
        raise Unprocessable("invalid_parameter_value", parameter=parameter, low=low, high=high)


def grant_amount(*, amount: str, decimals: int) -> int:
    """A grant's amount in base units, from the whole units a member typed."""
    try:
        base_units = to_base_units(amount, decimals)
    except ValueError:
        raise Unprocessable("invalid_amount", decimals=decimals) from None
    if base_units <= 0:
        raise Unprocessable("invalid_amount", decimals=decimals)
    return base_units


def check_treasury_covers(*, amount: int, held: int, decimals: int, symbol: str) -> None:
    if amount > held:
        raise Conflict("treasury_insufficient", held=to_whole_units(held, decimals), symbol=symbol)


def actions_for(*, session: Session, body: ProposalCreate, w3, contracts) -> tuple[proposal_actions.Actions, dict]:
    """The on-chain actions of a new proposal and the columns that describe them."""
    if body.kind == "text":
        return proposal_actions.text_decision(contracts.timelock), {}
    if body.kind == "parameter":
        check_parameter_value(parameter=body.parameter, value=body.value)
        name, chain_id = body.parameter, None
        if body.organization_id is not None:
            chain_id = organizations.chain_id_of(session=session, organization_id=body.organization_id)
            name = f"{body.parameter}[{body.organization_id}]"
        return (proposal_actions.parameter_change(contracts, body.parameter, body.value, chain_id),
                {"parameter_name": name, "parameter_value": str(body.value)})
    try:
        symbol, decimals = token_info(w3, body.token)
    except NotAToken:
        raise Unprocessable("invalid_token", token=body.token) from None
    amount = grant_amount(amount=body.amount, decimals=decimals)
    check_treasury_covers(amount=amount, held=balance_of(w3, body.token, contracts.timelock.address),
                          decimals=decimals, symbol=symbol)
    return (proposal_actions.grant(body.recipient, amount, body.token),
            {"grant_token": body.token, "grant_recipient": body.recipient, "grant_amount": str(amount)})


def clear_earlier(*, session: Session, proposal_id: int) -> None:
    """Refuses a proposal made already; one that never reached the chain is removed (it may be made again)."""
    earlier = session.scalar(select(Proposal).where(Proposal.proposal_id == str(proposal_id)))
    if earlier is not None and earlier.status == RelayStatus.failed:
        session.delete(earlier)
        session.flush()
        earlier = None
    if earlier is not None:
        raise Conflict("duplicate_proposal")


def create_proposal(*, session: Session, w3, contracts, chain_id: int | None, user: User,
                    body: ProposalCreate) -> ProposalPublic:
    """Proposes a decision, a treasury grant or a parameter change. A custodial member's proposal is sent by the
    relayer from the member's own address; an own-wallet member's waits (`awaiting_wallet`) for the `transaction`
    sent from the wallet."""
    check_threshold(voting_power=contracts.points.functions.getVotes(user.wallet_address).call(),
                    threshold=contracts.governor.functions.proposalThreshold().call())
    custodial = user.wallet_kind == WalletKind.custodial
    if custodial:
        check_wallet_not_moving(session=session, user=user)
    acts, columns = actions_for(session=session, body=body, w3=w3, contracts=contracts)
    digest = text_sha256(body.title_ja, body.title_en, body.body_ja, body.body_en)
    text = description(body.title_ja, body.title_en, digest, user.wallet_address)
    proposal_id = contracts.governor.functions.hashProposal(acts.targets, acts.values, acts.calldatas,
                                                            keccak(text=text)).call()
    clear_earlier(session=session, proposal_id=proposal_id)
    if contracts.governor.functions.proposalSnapshot(proposal_id).call():  # proposed on chain without the API
        raise Conflict("duplicate_proposal")
    budget.refuse_proposal_if_spent(session=session)  # the sponsor's governance budget (backend/governance/budget.py)
    throttle.take(session, rate_limits.proposals(user_id=user.id))  # counted with the proposal, in its transaction
    proposal = Proposal(
        proposal_id=str(proposal_id), proposer_user_id=user.id, proposer_address=user.wallet_address,
        kind=ProposalKind(body.kind), title_ja=body.title_ja, title_en=body.title_en, body_ja=body.body_ja,
        body_en=body.body_en, text_sha256=digest, description=text, actions=acts.as_json(),
        status=RelayStatus.accepted if custodial else RelayStatus.awaiting_wallet, **columns,
    )
    session.add(proposal)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("duplicate_proposal") from None
    return proposal_public(session=session, w3=w3, contracts=contracts, proposal=proposal, now=chain_now(session),
                           user=user, chain_id=chain_id)


# ---------------------------------------------------------------------------------------------------- ballots


def ballot_to_sign(*, session: Session, governor, user: User, proposal_id: int, support: int, reason: str) -> dict:
    """The EIP-712 ballot for the member's wallet to sign (eth_signTypedData_v4); numbers as decimal strings."""
    proposal = get_proposal(session=session, proposal_id=proposal_id)
    require_on_chain(proposal)
    pid = int(proposal.proposal_id)
    primary, types, message = ballots.ballot(pid, support, user.wallet_address,
                                             ballots.keyed_nonce(governor, user.wallet_address, pid), reason)
    return for_wallet(typed_data(ballots.domain_of(governor), primary, types, message))


# ---------------------------------------------------------------------------------------------------- enacting


def check_advance(*, state: int, wanted: int) -> None:
    """Queuing needs a succeeded proposal, executing a queued one."""
    if state != wanted:
        raise Conflict("wrong_state", state=ballots.PROPOSAL_STATES[state], wanted=ballots.PROPOSAL_STATES[wanted])


def check_timelock_passed(*, eta: int, latest: int) -> None:
    """A queued proposal is executable once the chain's clock (the latest block) reaches its eta."""
    if latest < eta:
        raise Conflict("timelock_not_passed", executable_at=at(eta))


def request_advance(*, session: Session, contracts, proposal_id: int, wanted: int) -> dict:
    """Asks the relayer to queue (`wanted` SUCCEEDED) or execute (`wanted` QUEUED) the proposal."""
    proposal = get_proposal(session=session, proposal_id=proposal_id)
    require_on_chain(proposal)
    governor = contracts.governor
    check_advance(state=governor.functions.state(int(proposal.proposal_id)).call(), wanted=wanted)
    if wanted == QUEUED:
        eta = governor.functions.proposalEta(int(proposal.proposal_id)).call()
        check_timelock_passed(eta=eta, latest=governor.w3.eth.get_block("latest")["timestamp"])
    proposal.advance_requested = True
    session.commit()
    return {"id": proposal.id, "status": "requested"}


def queue(*, session: Session, contracts, proposal_id: int) -> dict:
    return request_advance(session=session, contracts=contracts, proposal_id=proposal_id, wanted=SUCCEEDED)


def execute(*, session: Session, contracts, proposal_id: int) -> dict:
    return request_advance(session=session, contracts=contracts, proposal_id=proposal_id, wanted=QUEUED)
