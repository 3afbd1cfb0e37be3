"""Votes: a signed ballot, checked here and sent (gasless, many in one transaction) by the relayer.

A custodial member's ballot is signed with the member's key; an own-wallet member signs the EIP-712 ballot from
GET /proposals/{id}/ballot in their wallet. Either way the ballot is checked before anything is stored (domain from
the governor's eip712Domain(), signer, keyed nonce, support, proposal state, voting power). The same ballot sent again
gets the same answer.

`cast` is a vote burst's hot path, on the event loop as the claim route: its database reads are short reads of the
SQLite file, its chain reads and its write are awaited (read batcher, group committer), and the rare steps that call
the node or write by themselves run in a thread. No database connection is held across an await.
"""

from __future__ import annotations

from functools import partial

import anyio.to_thread
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.exceptions import ContractLogicError

from backend.accounts.models import CustodialKey, User, WalletKind
from backend.governance import ballots
from backend.governance.models import Proposal, RelayStatus, Vote
from backend.governance.proposals import ACTIVE, PENDING, at, get_proposal, require_on_chain
from backend.governance.public import vote_public
from backend.governance.schemas import VoteCreate, VotePublic
from backend.platform.chain import reads
from backend.platform.chain.eip712 import normalized_signature, recover_typed, sign_typed
from backend.platform.errors import Conflict, Forbidden, Invalid
from backend.platform.keys import SealedKey
from backend.platform.orm import utcnow
from backend.platform.paging import Paged, page_of

# Votes are refused this close to a proposal's deadline: batching, a block and a confirmation take a few seconds, and a
# vote that misses the deadline would be accepted by the API and then fail on chain.
VOTE_CLOSING_MARGIN_S = 30

# The statements of `cast`, built once (a vote burst's hot path, as the claim route's).
_VOTE_OF = select(Vote).where(Vote.proposal_id == bindparam("proposal"), Vote.voter == bindparam("voter"))
_SEALED_KEY_OF = select(CustodialKey.address, CustodialKey.sealed).where(CustodialKey.user_id == bindparam("user"))
_DELETE_FAILED_VOTE = delete(Vote).where(Vote.id == bindparam("vote_id"), Vote.status == RelayStatus.failed)
_STORE_VOTE = insert(Vote).returning(Vote.id)


async def _in_thread(fn, *args):
    """Runs a call that waits on the node or writes by itself off the event loop (the thread pool the routes use)."""
    return await anyio.to_thread.run_sync(partial(fn, *args))


def list_votes(*, session: Session, proposal_id: int, limit: int = 500, offset: int = 0) -> Paged[VotePublic]:
    """The votes on the proposal, a page of `limit` from `offset`: voter address, choice, weight, reason and
    transaction."""
    get_proposal(session=session, proposal_id=proposal_id)
    return page_of(session, select(Vote).where(Vote.proposal_id == proposal_id).order_by(Vote.id),
                   limit=limit, offset=offset).map(vote_public)


def count_votes(*, session: Session, proposal_id: int) -> int:
    """How many votes the proposal has (for a page that lists them a page at a time)."""
    return session.scalar(select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal_id))


# ---------------------------------------------------------------------------------------------------- rules


def ballot_signature(*, custodial: bool, signature: str | None) -> bytes | None:
    """The own-wallet member's signature as bytes (None for a custodial member, whose ballot Kyoso signs)."""
    if custodial and signature is not None:
        raise Invalid("signature_not_expected")
    if not custodial and signature is None:
        raise Invalid("signature_required")
    if signature is None:
        return None
    given = normalized_signature(bytes.fromhex(signature[2:]))
    if given is None:  # v must be 27/28 or 0/1, s in the lower half of the curve order, as Ethereum requires
        raise Invalid("invalid_signature")
    return given


def same_ballot(vote: Vote, body: VoteCreate, signature: bytes | None) -> bool:
    if signature is not None:
        return vote.signature == signature
    return vote.support == body.support and vote.reason == body.reason


def already_voted(vote: Vote | None) -> Conflict:
    """A vote cannot be changed."""
    return Conflict("already_voted", vote_id=vote.id if vote else None)


def check_window(*, state: int, latest: int, snapshot: int, deadline: int) -> None:
    """Voting is open (the governor's `state`), and not about to close by the governor's clock `latest` (the block
    timestamp)."""
    if state == PENDING:
        raise Conflict("voting_not_started", voting_starts_at=at(snapshot + 1))
    if state != ACTIVE:
        raise Conflict("voting_closed", state=ballots.PROPOSAL_STATES[state])
    if deadline - latest < VOTE_CLOSING_MARGIN_S:
        raise Conflict("voting_closing", closing_margin_s=VOTE_CLOSING_MARGIN_S)


def check_voting_power(*, power: int, snapshot: int) -> None:
    """Points count from the snapshot: points earned later count from the next proposal."""
    if power == 0:
        raise Forbidden("no_voting_power", snapshot_at=at(snapshot))


# ---------------------------------------------------------------------------------------------------- casting


async def cast(*, session: Session, writes, chain_reads, vault, contracts, user: User, proposal_id: int,
               body: VoteCreate) -> VotePublic:
    """Votes: answered at once with `accepted`; the relayer sends the ballot and the vote turns `confirmed`.
    `chain_reads` is the app's read batcher, `writes` its group committer, `vault` opens custodial keys."""
    proposal = get_proposal(session=session, proposal_id=proposal_id)
    require_on_chain(proposal)
    governor, points = contracts.governor, contracts.points
    voter, custodial = user.wallet_address, user.wallet_kind == WalletKind.custodial
    given = ballot_signature(custodial=custodial, signature=body.signature)

    existing = session.scalar(_VOTE_OF, {"proposal": proposal.id, "voter": voter})
    # No connection is held across an await on the loop: a hundred votes waiting for the node would otherwise hold
    # every pooled connection while the loop, blocked in the pool, could not run the code that gives them back.
    session.close()
    failed_id = None
    if existing is not None and existing.status == RelayStatus.failed:
        failed_id, existing = existing.id, None  # a vote that failed for good may be cast again (its row goes then)
    if existing is not None:
        if same_ballot(existing, body, given):
            return vote_public(existing)
        if existing.signature is None and given is not None and await _in_thread(
                _used_on_chain, governor, proposal, voter, body, given):
            # the indexer saw this ballot cast by someone else first
            await _in_thread(_keep_signature, session, existing.id, given)
            return vote_public(existing)
        raise already_voted(existing)

    pid = int(proposal.proposal_id)
    if proposal.snapshot is None:
        await _in_thread(_learn_window, session, governor, proposal)
    # one round trip to the governor for everything the vote depends on, voting power included: the governor's
    # getVotes at the snapshot is the points ledger's getPastVotes
    governor_reads = [("state(uint256)", (pid,), "uint8"), ("clock()", (), "uint48"),
                      ("hasVoted(uint256,address)", (pid, voter), "bool"),
                      ("nonces(address,uint192)", (voter, pid & ballots.KEY_MASK), "uint256")]
    try:  # read together with the other votes being cast at this moment (backend/platform/chain/read_batch.py)
        state, latest, voted, nonce, power = await chain_reads.read_many_async(
            governor, governor_reads + [("getVotes(address,uint256)", (voter, proposal.snapshot), "uint256")])
    except ContractLogicError:  # the snapshot is still to come (ERC5805FutureLookup): voting has not opened
        state, latest, voted, nonce = await chain_reads.read_many_async(governor, governor_reads)
        power = None
    check_window(state=state, latest=latest, snapshot=proposal.snapshot, deadline=proposal.deadline)
    if power is None:  # not expected once voting is open; read from the ledger itself rather than guess
        power = await _in_thread(reads.read, points, "getPastVotes(address,uint256)", voter, proposal.snapshot)
    if voted:
        if given is None or not await _in_thread(_used_on_chain, governor, proposal, voter, body, given):
            raise Conflict("already_voted")  # this wallet voted on chain, not through Kyoso
        return await _store_vote(session, writes, proposal, user, body, given, power, RelayStatus.confirmed,
                                 failed_id)
    check_voting_power(power=power, snapshot=proposal.snapshot)
    primary, types, message = ballots.ballot(pid, body.support, voter, nonce, body.reason)
    domain = ballots.domain_of(governor) if ballots.knows_domain(governor) else \
        await _in_thread(ballots.domain_of, governor)
    if custodial:
        sealed = session.execute(_SEALED_KEY_OF, {"user": user.id}).one()
        session.close()
        account = vault.open(SealedKey(sealed.address, sealed.sealed))
        signature = sign_typed(account.key, domain, primary, types, message)
    else:
        signature = given
        try:
            signer = recover_typed(domain, primary, types, message, signature)
        except Exception:  # noqa: BLE001 - malformed signature bytes (bad v, s out of range)
            signer = None
        if signer != voter:  # not this voter's ballot for this proposal, choice and reason on this governor
            raise Invalid("invalid_signature", voter=voter, chain_id=domain["chainId"],
                          contract=domain["verifyingContract"])
    return await _store_vote(session, writes, proposal, user, body, signature, power, RelayStatus.accepted,
                             failed_id)


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
                      power: int, status: RelayStatus, failed_id: int | None) -> VotePublic:
    voter, now = user.wallet_address, utcnow()
    row = {"proposal_id": proposal.id, "voter": voter, "user_id": user.id, "support": body.support,
           "reason": body.reason, "signature": signature, "points": power, "status": status, "attempts": 0,
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
                                     or (existing.signature is None and status == RelayStatus.confirmed)):
            if existing.signature is None:
                await _in_thread(_keep_signature, session, existing.id, signature)
            return vote_public(existing)
        raise already_voted(existing) from None
    return VotePublic(id=stored, proposal_id=proposal.id, voter=voter, support=body.support, reason=body.reason,
                      status=status.value, weight=None, points=power, tx_hash=None, block_number=None, failure=None,
                      created_at=now)
