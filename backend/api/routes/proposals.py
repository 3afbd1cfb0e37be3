"""Proposals and votes: create (gasless for custodial members), read with live tallies from the indexer, vote with
a signed ballot that the relayer sends, and queue or execute a passed proposal.

Votes: a custodial member's ballot is signed by the backend with the member's key; an own-wallet member signs the
EIP-712 ballot from GET /proposals/{id}/ballot in their wallet. Either way the ballot is checked here (domain from
the governor's eip712Domain(), signer, keyed nonce, support, proposal state, voting power) before anything is stored,
and the relayer sends many ballots in one transaction. The same ballot sent again gets the same answer.
"""

from __future__ import annotations

from datetime import datetime, timezone

from eth_utils import keccak
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.exceptions import ContractLogicError

from backend.api.errors import errors
from backend.platform.chain import reads as chain_reads
from backend.platform.chain.eip712 import for_wallet, normalized_signature, recover_typed, sign_typed, typed_data
from backend.platform.keys import SealedKey
from backend.api.deps import (
    CurrentUser,
    DbId,
    LoopSessionDep,
    LoopUser,
    OptionalUser,
    Page,
    ServicesDep,
    SessionDep,
    WritesDep,
)
from backend.governance import actions as proposal_actions
from backend.governance import ballots
from backend.governance.state import proposal_state, quorum_points
from backend.governance.text import canonical_text, description, text_sha256
from backend.governance.treasury import (
    NotAToken,
    balance_of,
    shown_token_info,
    to_base_units,
    to_whole_units,
    token_info,
)
from backend.accounts.models import CustodialKey, ExportStatus, User, WalletExport, WalletKind
from backend.governance.models import Proposal, ProposalKind, RelayStatus, Vote
from backend.platform.models import IndexerCursor
from backend.platform.orm import utcnow
from backend.relayer.timing import VOTE_CLOSING_MARGIN_S
from backend.governance.schemas import GovernancePublic, GrantPublic, ProposalCreate, ProposalPublic, TransactionPublic, VoteCreate, VotePublic, VoteTally

router = APIRouter(tags=["governance"])

ACTIVE = ballots.PROPOSAL_STATES.index("active")
PENDING = ballots.PROPOSAL_STATES.index("pending")
SUCCEEDED = ballots.PROPOSAL_STATES.index("succeeded")
QUEUED = ballots.PROPOSAL_STATES.index("queued")


def _error(code: int, error: str, en: str, ja: str, **extra) -> HTTPException:
    return HTTPException(code, {"error": error, "message": f"{en} / {ja}", **extra})


def _at(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, timezone.utc) if timestamp is not None else None


def chain_now(session: Session) -> int | None:
    """The timestamp of the last indexed block (see IndexerCursor.block_timestamp)."""
    return session.scalar(select(func.max(IndexerCursor.block_timestamp)))


def vote_public(vote: Vote) -> VotePublic:
    return VotePublic(id=vote.id, proposal_id=vote.proposal_id, voter=vote.voter, support=vote.support,
                      reason=vote.reason, status=vote.status.value, weight=vote.weight, points=vote.points,
                      tx_hash=vote.tx_hash, block_number=vote.block_number, failure=vote.failure,
                      created_at=vote.created_at)


def grant_public(w3, proposal: Proposal) -> GrantPublic | None:
    if proposal.kind != ProposalKind.grant:
        return None
    symbol, decimals = shown_token_info(w3, proposal.grant_token)
    amount = int(proposal.grant_amount)
    return GrantPublic(recipient=proposal.grant_recipient, token=proposal.grant_token, symbol=symbol,
                       amount=to_whole_units(amount, decimals), amount_base_units=str(amount))


def proposal_public(session: Session, w3, contracts, proposal: Proposal, now: int | None,
                    user: User | None = None, chain_id: int | None = None) -> ProposalPublic:
    quorum_progress = None
    if proposal.quorum is not None:
        quorum_progress = 1.0 if proposal.quorum == 0 else min(1.0, quorum_points(proposal) / proposal.quorum)
    public = ProposalPublic(
        id=proposal.id, proposal_id=proposal.proposal_id, kind=proposal.kind.value,
        state=proposal_state(proposal, now), title_ja=proposal.title_ja, title_en=proposal.title_en,
        body_ja=proposal.body_ja, body_en=proposal.body_en, proposer_address=proposal.proposer_address,
        text_sha256=proposal.text_sha256, grant=grant_public(w3, proposal), parameter=proposal.parameter_name,
        parameter_value=proposal.parameter_value, voting_starts_at=_at(proposal.snapshot + 1) if proposal.snapshot is not None else None,
        voting_ends_at=_at(proposal.deadline),
        votes=VoteTally(for_=proposal.votes_for, against=proposal.votes_against, abstain=proposal.votes_abstain),
        points=VoteTally(for_=proposal.points_for, against=proposal.points_against, abstain=proposal.points_abstain),
        quorum=proposal.quorum, quorum_progress=quorum_progress, executable_at=_at(proposal.eta),
        created_tx=proposal.created_tx, queued_tx=proposal.queued_tx, executed_tx=proposal.executed_tx,
        executed_at=proposal.executed_at, failure=proposal.failure,
    )
    if proposal.status == RelayStatus.awaiting_wallet and chain_id is not None:
        public.transaction = propose_transaction(contracts, proposal, chain_id)
    if user is not None:
        mine = session.scalar(select(Vote).where(Vote.proposal_id == proposal.id, Vote.voter == user.wallet_address))
        public.my_vote = vote_public(mine) if mine is not None else None
        if proposal.snapshot is not None and now is not None and proposal.snapshot < now:
            public.my_voting_power = contracts.points.functions.getPastVotes(user.wallet_address,
                                                                             proposal.snapshot).call()
    return public


def propose_transaction(contracts, proposal: Proposal, chain_id: int) -> TransactionPublic:
    acts = proposal_actions.Actions.from_json(proposal.actions)
    data = contracts.governor.encode_abi("propose", args=[acts.targets, acts.values, acts.calldatas,
                                                          proposal.description])
    return TransactionPublic(chain_id=chain_id, to=contracts.governor.address, data=data)


def get_proposal(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise _error(404, "proposal_not_found", "No such proposal.", "提案が見つかりません。")
    return proposal


# ---------------------------------------------------------------------------------------------------- reading


@router.get("/governance", response_model=GovernancePublic)
def governance(services: ServicesDep, user: OptionalUser) -> GovernancePublic:
    """The community's governance settings, and the caller's current voting power."""
    governor, timelock = services.contracts.governor, services.contracts.timelock
    return GovernancePublic(
        governor=governor.address, timelock=timelock.address,
        counting="quadratic" if ballots.is_quadratic(governor) else "simple",
        voting_delay_s=governor.functions.votingDelay().call(),
        voting_period_s=governor.functions.votingPeriod().call(),
        proposal_threshold=governor.functions.proposalThreshold().call(),
        quorum_percent=governor.functions.quorumNumerator().call() * 100
        // governor.functions.quorumDenominator().call(),
        timelock_delay_s=timelock.functions.getMinDelay().call(),
        my_voting_power=(services.contracts.points.functions.getVotes(user.wallet_address).call()
                         if user is not None else None),
    )


@router.get("/proposals", response_model=list[ProposalPublic])
def list_proposals(request: Request, session: SessionDep, services: ServicesDep,
                   state: str | None = Query(default=None, max_length=20, description="only proposals in this state"),
                   limit: int = Query(default=50, ge=1, le=200), offset: Page = 0):
    """Newest first, with their tallies and quorum progress as the indexer saw them on chain."""
    now = chain_now(session)
    rows = session.scalars(select(Proposal).order_by(Proposal.id.desc())).all() if state else session.scalars(
        select(Proposal).order_by(Proposal.id.desc()).limit(limit).offset(offset)).all()
    w3 = request.app.state.web3
    public = [proposal_public(session, w3, services.contracts, p, now) for p in rows]
    if state:
        public = [p for p in public if p.state == state][offset:offset + limit]
    return public


@router.get("/proposals/{proposal_id}", response_model=ProposalPublic)
def read_proposal(proposal_id: DbId, request: Request, session: SessionDep, services: ServicesDep,
                  user: OptionalUser):
    """One proposal; for a logged-in member also their vote and their voting power at the snapshot."""
    return proposal_public(session, request.app.state.web3, services.contracts, get_proposal(session, proposal_id),
                           chain_now(session), user, request.app.state.chain_id)


@router.get("/proposals/{proposal_id}/text")
def proposal_text(proposal_id: DbId, session: SessionDep) -> dict:
    """The official text: SHA-256 of `canonical` (UTF-8) is the hash in the on-chain `description`."""
    proposal = get_proposal(session, proposal_id)
    return {"canonical": canonical_text(proposal.title_ja, proposal.title_en, proposal.body_ja, proposal.body_en)
            if proposal.text_sha256 else None,
            "sha256": proposal.text_sha256, "description": proposal.description}


@router.get("/proposals/{proposal_id}/votes", response_model=list[VotePublic])
def list_votes(proposal_id: DbId, session: SessionDep, limit: int = Query(default=500, ge=1, le=5000),
               offset: Page = 0):
    """Every vote on the proposal: voter address, choice, weight, reason and transaction."""
    get_proposal(session, proposal_id)
    rows = session.scalars(select(Vote).where(Vote.proposal_id == proposal_id).order_by(Vote.id)
                           .limit(limit).offset(offset)).all()
    return [vote_public(v) for v in rows]


# ---------------------------------------------------------------------------------------------------- proposing


def _actions_for(body: ProposalCreate, w3, contracts) -> tuple[proposal_actions.Actions, dict]:
    """The on-chain actions of a new proposal and the columns that describe them."""
    if body.kind == "text":
        return proposal_actions.text_decision(contracts.timelock), {}
    if body.kind == "parameter":
        _contract, _function, low, high = proposal_actions.PARAMETERS[body.parameter]
        if not low <= body.value <= high:
            raise _error(422, "invalid_parameter_value", f"{body.parameter} must be between {low} and {high}.",
                         f"{body.parameter} は {low} 以上 {high} 以下にしてください。")
        return (proposal_actions.parameter_change(contracts.governor, contracts.timelock, body.parameter, body.value),
                {"parameter_name": body.parameter, "parameter_value": str(body.value)})
    try:
        symbol, decimals = token_info(w3, body.token)
        amount = to_base_units(body.amount, decimals)
    except NotAToken as exc:
        raise _error(422, "invalid_token", str(exc), "トークンのアドレスが正しくありません。") from None
    except ValueError as exc:
        raise _error(422, "invalid_amount", f"amount {exc}.", "金額の桁数が多すぎます。") from None
    if amount <= 0:
        raise _error(422, "invalid_amount", "amount must be more than 0.", "金額は 0 より大きくしてください。")
    held = balance_of(w3, body.token, contracts.timelock.address)
    if amount > held:
        raise _error(409, "treasury_insufficient",
                     f"The treasury holds {to_whole_units(held, decimals)} {symbol}, less than the grant.",
                     f"金庫の残高（{to_whole_units(held, decimals)} {symbol}）が足りません。")
    return (proposal_actions.grant(body.recipient, amount, body.token),
            {"grant_token": body.token, "grant_recipient": body.recipient, "grant_amount": str(amount)})


@router.post("/proposals", response_model=ProposalPublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 409))
def create_proposal(body: ProposalCreate, request: Request, session: SessionDep, services: ServicesDep,
                    user: CurrentUser):
    """Proposes a decision, a treasury grant or a parameter change. A custodial member pays no gas: the relayer
    sends the proposal from the member's own address. A member with their own wallet gets the `transaction` to send
    from it (state `awaiting_wallet` until it is on chain)."""
    contracts, w3 = services.contracts, request.app.state.web3
    power = contracts.points.functions.getVotes(user.wallet_address).call()
    threshold = contracts.governor.functions.proposalThreshold().call()
    if power < threshold:
        raise _error(403, "below_threshold",
                     f"Proposing needs {threshold} points of voting power; you have {power}.",
                     f"提案には {threshold} ポイントの投票力が必要です（現在 {power}）。",
                     threshold=threshold, voting_power=power)
    custodial = user.wallet_kind == WalletKind.custodial
    if custodial and session.scalar(select(func.count()).select_from(WalletExport).where(
            WalletExport.user_id == user.id,
            WalletExport.status.in_((ExportStatus.pending, ExportStatus.submitted)))):
        raise _error(409, "wallet_moving", "Your wallet is moving; propose again in a minute.",
                     "ウォレットの移行中です。少し待ってからお試しください。")
    acts, columns = _actions_for(body, w3, contracts)
    digest = text_sha256(body.title_ja, body.title_en, body.body_ja, body.body_en)
    text = description(body.title_ja, body.title_en, digest, user.wallet_address)
    proposal_id = contracts.governor.functions.hashProposal(acts.targets, acts.values, acts.calldatas,
                                                            keccak(text=text)).call()
    duplicate = _error(409, "duplicate_proposal", "You already made this exact proposal.",
                       "同じ内容の提案がすでにあります。")
    earlier = session.scalar(select(Proposal).where(Proposal.proposal_id == str(proposal_id)))
    if earlier is not None and earlier.status == RelayStatus.failed:
        session.delete(earlier)  # it never reached the chain: the same proposal may be made again
        session.flush()
        earlier = None
    if earlier is not None or contracts.governor.functions.proposalSnapshot(proposal_id).call():
        raise duplicate
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
        raise duplicate from None
    return proposal_public(session, w3, contracts, proposal, chain_now(session), user, request.app.state.chain_id)


# ---------------------------------------------------------------------------------------------------- voting


# The vote route's statements, built once (a vote burst's hot path, as the claim route's).
_VOTE_OF = select(Vote).where(Vote.proposal_id == bindparam("proposal"), Vote.voter == bindparam("voter"))
_SEALED_KEY_OF = select(CustodialKey.address, CustodialKey.sealed).where(CustodialKey.user_id == bindparam("user"))
_DELETE_FAILED_VOTE = delete(Vote).where(Vote.id == bindparam("vote_id"), Vote.status == RelayStatus.failed)
_STORE_VOTE = insert(Vote).returning(Vote.id)


def _ballot_for(governor, proposal: Proposal, voter: str, support: int, reason: str) -> tuple[dict, str, list, dict]:
    pid = int(proposal.proposal_id)
    primary, types, message = ballots.ballot(pid, support, voter, ballots.keyed_nonce(governor, voter, pid), reason)
    return ballots.domain_of(governor), primary, types, message


@router.get("/proposals/{proposal_id}/ballot", responses=errors(409))
def ballot_to_sign(proposal_id: DbId, session: SessionDep, services: ServicesDep, user: CurrentUser,
                   support: int = Query(ge=0, le=2, description="0 against, 1 for, 2 abstain"),
                   reason: str = Query(default="", max_length=1000)) -> dict:
    """The EIP-712 ballot for the caller's wallet to sign (eth_signTypedData_v4); send the signature with
    POST /proposals/{id}/votes. Numbers are decimal strings, as wallets take them."""
    proposal = get_proposal(session, proposal_id)
    if proposal.status != RelayStatus.confirmed:
        raise _error(409, "proposal_not_on_chain", "This proposal is not on chain yet.", "この提案はまだ登録中です。")
    domain, primary, types, message = _ballot_for(services.contracts.governor, proposal, user.wallet_address,
                                                  support, reason)
    return for_wallet(typed_data(domain, primary, types, message))


def _used_on_chain(governor, proposal: Proposal, voter: str, body: VoteCreate, signature: bytes) -> bool:
    """Whether this very ballot was already cast on chain (relayed by someone else: a front-run changes nothing, it
    is still the member's own vote): it is the voter's signature with the nonce before the current one."""
    pid = int(proposal.proposal_id)
    nonce = ballots.keyed_nonce(governor, voter, pid)
    if nonce & ballots.SEQUENCE_MASK == 0 or not governor.functions.hasVoted(pid, voter).call():
        return False
    primary, types, message = ballots.ballot(pid, body.support, voter, nonce - 1, body.reason)
    try:
        return recover_typed(ballots.domain_of(governor), primary, types, message, signature) == voter
    except Exception:  # noqa: BLE001 - malformed signature bytes
        return False


def _same_ballot(vote: Vote, body: VoteCreate, signature: bytes | None) -> bool:
    if signature is not None:
        return vote.signature == signature
    return vote.support == body.support and vote.reason == body.reason


def _already_voted(vote: Vote | None) -> HTTPException:
    return _error(409, "already_voted", "You have already voted on this proposal; a vote cannot be changed.",
                  "この提案には投票済みです（投票は変更できません）。", vote_id=vote.id if vote else None)


@router.post("/proposals/{proposal_id}/votes", response_model=VotePublic, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(400, 403, 409))
async def cast_vote(proposal_id: DbId, body: VoteCreate, request: Request, session: LoopSessionDep,
                    services: ServicesDep, user: LoopUser, writes: WritesDep):
    """Votes: answered at once with `accepted`; the relayer sends the ballot (gasless) and the vote turns
    `confirmed`. Sending the same ballot again returns the same vote."""
    # On the event loop, as the claim route (a vote burst's hot path): its database reads are short reads of the SQLite
    # file, its chain reads and its write are awaited (read batcher, group committer); the rare steps that call the
    # node or write by themselves run in the thread pool.
    proposal = get_proposal(session, proposal_id)
    if proposal.status != RelayStatus.confirmed:
        raise _error(409, "proposal_not_on_chain", "This proposal is not on chain yet.", "この提案はまだ登録中です。")
    governor, points = services.contracts.governor, services.contracts.points
    voter, custodial = user.wallet_address, user.wallet_kind == WalletKind.custodial
    if custodial and body.signature is not None:
        raise _error(400, "signature_not_expected", "Your wallet is kept by Kyoso: send your choice without a "
                     "signature.", "署名は不要です。")
    if not custodial and body.signature is None:
        raise _error(400, "signature_required", "Sign the ballot from GET /api/proposals/{id}/ballot in your wallet "
                     "and send the signature.", "ウォレットで投票に署名してください。")
    given = None
    if body.signature is not None:
        given = normalized_signature(bytes.fromhex(body.signature[2:]))
        if given is None:
            raise _error(400, "invalid_signature", "The signature is malformed (v must be 27/28 or 0/1; s in the lower "
                         "half of the curve order, as Ethereum requires).", "署名の形式が正しくありません。")

    existing = session.scalar(_VOTE_OF, {"proposal": proposal.id, "voter": voter})
    # No connection is held across an await on the loop: a hundred votes waiting for the node would otherwise hold
    # every pooled connection while the loop, blocked in the pool, could not run the code that gives them back.
    session.close()
    failed_id = None
    if existing is not None and existing.status == RelayStatus.failed:
        failed_id, existing = existing.id, None  # a vote that failed for good may be cast again (its row goes then)
    if existing is not None:
        if _same_ballot(existing, body, given):
            return vote_public(existing)
        if existing.signature is None and given is not None and await run_in_threadpool(
                _used_on_chain, governor, proposal, voter, body, given):
            # the indexer saw this ballot cast by someone else first
            await run_in_threadpool(_keep_signature, session, existing.id, given)
            return vote_public(existing)
        raise _already_voted(existing)

    pid = int(proposal.proposal_id)
    if proposal.snapshot is None:
        await run_in_threadpool(_learn_window, session, governor, proposal)
    # one round trip to the governor for everything the vote depends on (this route is a vote burst's hot path),
    # voting power included: the governor's getVotes at the snapshot is the points ledger's getPastVotes
    governor_reads = [("state(uint256)", (pid,), "uint8"), ("clock()", (), "uint48"),
                      ("hasVoted(uint256,address)", (pid, voter), "bool"),
                      ("nonces(address,uint192)", (voter, pid & ballots.KEY_MASK), "uint256")]
    try:  # read together with the other votes being cast at this moment (backend/platform/chain/read_batch.py)
        state, latest, voted, nonce, power = await request.app.state.chain_reads.read_many_async(
            governor, governor_reads + [("getVotes(address,uint256)", (voter, proposal.snapshot), "uint256")])
    except ContractLogicError:  # the snapshot is still to come (ERC5805FutureLookup): voting has not opened
        state, latest, voted, nonce = await request.app.state.chain_reads.read_many_async(governor, governor_reads)
        power = None
    if state == PENDING:
        opens = _at(proposal.snapshot + 1).isoformat()
        raise _error(409, "voting_not_started", f"Voting opens at {opens}.", "投票はまだ始まっていません。",
                     voting_starts_at=opens)
    if state != ACTIVE:
        raise _error(409, "voting_closed", f"Voting on this proposal is over ({ballots.PROPOSAL_STATES[state]}).",
                     "この提案の投票は終了しました。", state=ballots.PROPOSAL_STATES[state])
    if proposal.deadline - latest < VOTE_CLOSING_MARGIN_S:  # the governor's clock is the block timestamp
        raise _error(409, "voting_closing", f"Voting closes in less than {VOTE_CLOSING_MARGIN_S} s: too late to be sure "
                     "the vote reaches the chain in time.", "投票締切の直前のため、受け付けられません。")
    if power is None:  # not expected once voting is open; read from the ledger itself rather than guess
        power = await run_in_threadpool(chain_reads.read, points, "getPastVotes(address,uint256)", voter,
                                        proposal.snapshot)
    if voted:
        if given is None or not await run_in_threadpool(_used_on_chain, governor, proposal, voter, body, given):
            raise _error(409, "already_voted", "This wallet has already voted on this proposal.",
                         "このウォレットはこの提案に投票済みです。")
        return await _store_vote(session, writes, proposal, user, body, given, power, RelayStatus.confirmed,
                                 failed_id)
    if power == 0:
        raise _error(403, "no_voting_power",
                     f"You had no voting power when voting opened ({_at(proposal.snapshot).isoformat()}); points "
                     "earned later count from the next proposal.",
                     "投票開始時点で投票力がありませんでした。その後のポイントは次の提案から有効です。")
    primary, types, message = ballots.ballot(pid, body.support, voter, nonce, body.reason)
    domain = ballots.domain_of(governor) if ballots.knows_domain(governor) else \
        await run_in_threadpool(ballots.domain_of, governor)
    if custodial:
        sealed = session.execute(_SEALED_KEY_OF, {"user": user.id}).one()
        session.close()
        account = request.app.state.vault.open(SealedKey(sealed.address, sealed.sealed))
        signature = sign_typed(account.key, domain, primary, types, message)
    else:
        signature = given
        try:
            signer = recover_typed(domain, primary, types, message, signature)
        except Exception:  # noqa: BLE001 - malformed signature bytes (bad v, s out of range)
            signer = None
        if signer != voter:
            raise _error(400, "invalid_signature",
                         f"The signature is not {voter}'s ballot for this proposal, choice and reason on this "
                         f"governor (chain {domain['chainId']}, contract {domain['verifyingContract']}).",
                         "署名がこの提案・選択・コントラクトの投票と一致しません。")
    return await _store_vote(session, writes, proposal, user, body, signature, power, RelayStatus.accepted,
                             failed_id)


def _learn_window(session: Session, governor, proposal: Proposal) -> None:
    """The proposal's voting window from the governor, kept (once per proposal); run in a thread."""
    pid = int(proposal.proposal_id)
    proposal.snapshot = governor.functions.proposalSnapshot(pid).call()
    proposal.deadline = governor.functions.proposalDeadline(pid).call()
    try:
        session.execute(update(Proposal).where(Proposal.id == proposal.id)
                        .values(snapshot=proposal.snapshot, deadline=proposal.deadline))
        session.commit()
    finally:
        session.close()


def _keep_signature(session: Session, vote_id: int, signature: bytes) -> None:
    """Records the ballot of a vote the indexer found on chain; run in a thread."""
    try:
        session.execute(update(Vote).where(Vote.id == vote_id).values(signature=signature))
        session.commit()
    finally:
        session.close()


async def _store_vote(session: Session, writes, proposal: Proposal, user: User, body: VoteCreate, signature: bytes,
                      power: int, status_: RelayStatus, failed_id: int | None) -> VotePublic:
    voter, now = user.wallet_address, utcnow()
    row = {"proposal_id": proposal.id, "voter": voter, "user_id": user.id, "support": body.support,
           "reason": body.reason, "signature": signature, "points": power, "status": status_, "attempts": 0,
           "created_at": now}

    def store(tx: Connection) -> int:  # run by the group committer, with the other votes of the moment
        if failed_id is not None:
            tx.execute(_DELETE_FAILED_VOTE, {"vote_id": failed_id})
        return tx.execute(_STORE_VOTE, row).scalar_one()

    session.close()  # the reads are done: the request holds no connection while its write waits for its group
    try:
        stored = await writes.run_async(store)
    except IntegrityError:  # the same voter's request in parallel (or the indexer) won
        existing = session.scalar(_VOTE_OF, {"proposal": proposal.id, "voter": voter})
        session.close()
        # the same ballot, or (a front-run ballot) the row the indexer made from the vote on chain
        if existing is not None and (existing.signature == signature
                                     or (existing.signature is None and status_ == RelayStatus.confirmed)):
            if existing.signature is None:
                await run_in_threadpool(_keep_signature, session, existing.id, signature)
            return vote_public(existing)
        raise _already_voted(existing) from None
    return VotePublic(id=stored, proposal_id=proposal.id, voter=voter, support=body.support, reason=body.reason,
                      status=status_.value, weight=None, points=power, tx_hash=None, block_number=None, failure=None,
                      created_at=now)


# ---------------------------------------------------------------------------------------------------- enacting


def _request_advance(session: Session, services, proposal_id: DbId, wanted: int) -> dict:
    proposal = get_proposal(session, proposal_id)
    if proposal.status != RelayStatus.confirmed:
        raise _error(409, "proposal_not_on_chain", "This proposal is not on chain yet.", "この提案はまだ登録中です。")
    governor = services.contracts.governor
    state = governor.functions.state(int(proposal.proposal_id)).call()
    if state != wanted:
        raise _error(409, "wrong_state", f"The proposal is {ballots.PROPOSAL_STATES[state]}, not "
                     f"{ballots.PROPOSAL_STATES[wanted]}.", "この提案は今この操作ができる状態ではありません。",
                     state=ballots.PROPOSAL_STATES[state])
    if wanted == QUEUED:
        eta = governor.functions.proposalEta(int(proposal.proposal_id)).call()
        latest = services.contracts.governor.w3.eth.get_block("latest")["timestamp"]
        if latest < eta:
            raise _error(409, "timelock_not_passed", f"It can be executed from {_at(eta).isoformat()}.",
                         "タイムロック期間が終わるまで実行できません。", executable_at=_at(eta).isoformat())
    proposal.advance_requested = True
    session.commit()
    return {"id": proposal.id, "status": "requested"}


@router.post("/proposals/{proposal_id}/queue", status_code=status.HTTP_202_ACCEPTED, responses=errors(409))
def queue_proposal(proposal_id: DbId, session: SessionDep, services: ServicesDep, user: CurrentUser) -> dict:
    """Queues a succeeded proposal in the timelock (the relayer sends it; anyone may ask)."""
    return _request_advance(session, services, proposal_id, SUCCEEDED)


@router.post("/proposals/{proposal_id}/execute", status_code=status.HTTP_202_ACCEPTED, responses=errors(409))
def execute_proposal(proposal_id: DbId, session: SessionDep, services: ServicesDep, user: CurrentUser) -> dict:
    """Executes a queued proposal once the timelock delay has passed (the relayer sends it; anyone may ask)."""
    return _request_advance(session, services, proposal_id, QUEUED)
