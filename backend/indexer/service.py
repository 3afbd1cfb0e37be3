"""The indexer: follows the contracts' events into the database, so that galleries and statistics never ask the chain.

It processes blocks up to `head - confirmations + 1`, in order, and stores the next block to read in the same
database transaction as the rows it derived, so a restart resumes exactly where it stopped.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import datetime, timezone

import requests
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.exceptions import Web3RPCError

from backend.claims.models import BadgeHolding, PointsBalance
from backend.governance import ballots
from backend.governance.models import Proposal, Vote
from backend.indexer import reorgs
from backend.governance.record import (
    record_proposal_created,
    record_timelock_cancelled,
    record_vote_cast,
    timelock_operation_id,
)
from backend.missions import awards as missions
from backend.organizations import allowance
from backend.organizations import service as organizations
from backend.organizations.models import IssuingLimits, Organization
from backend.platform.background import BackgroundLoop
from backend.platform.chain import blocks
from backend.platform.chain import logs as chain_logs
from backend.platform.chain.contracts import Contracts
from backend.platform import undo_journal
from backend.platform.models import IndexerCursor, IndexerSkippedLog
from backend.platform.orm import utcnow

log = logging.getLogger("kyoso.indexer")

CURSOR = "contracts"
MAX_BLOCKS_PER_STEP = 2_000
# A provider that refuses a range (public RPC providers limit eth_getLogs to a few thousand blocks or 10,000 results)
# gets half of it at once; the range grows back (doubling) after this many answered steps in a row, so that a
# provider's fixed limit costs one refused request every so often, not every other one.
GROW_AFTER_STEPS = 20
MAX_LOGS_PER_STEP = 600  # about two festival batches (a claim leaves 3 logs), so a step's write transaction is short
POLL_S = 0.5
MAX_REASON_CHARS = 1_000
# Failures that are not a log's fault: the step is tried again instead of skipping anything.
INFRASTRUCTURE_ERRORS = (requests.exceptions.RequestException, OSError, OperationalError, Web3RPCError,
                         reorgs.ReorgTooDeep)
ZERO = "0x0000000000000000000000000000000000000000"
# The rows the indexer derives from logs: what a reorg takes back (backend/indexer/reorgs.py).
WATCHED = (BadgeHolding, PointsBalance, Proposal, Vote, IssuingLimits, Organization)


class BranchMoved(RuntimeError):
    """The logs of a range were read from a branch the node left meanwhile."""


class Indexer(BackgroundLoop):
    thread_name = "kyoso-indexer"
    log = log

    def __init__(self, sessions: sessionmaker[Session], w3: Web3, contracts: Contracts, confirmations: int = 1):
        super().__init__()
        self.sessions = sessions
        self.w3 = w3
        self.contracts = contracts
        self.confirmations = max(1, confirmations)
        badges, points, governor = contracts.badges, contracts.points, contracts.governor
        self._quadratic: bool | None = None  # asked of the governor on first use, inside the loop's error handling
        self.span = MAX_BLOCKS_PER_STEP  # blocks per eth_getLogs, shrunk when a provider refuses
        self._answered_in_a_row = 0
        self._finality_tag: bool | None = None
        self._decoders = {}
        for contract, names in ((badges, ("TransferSingle", "TransferBatch", "IssuingLimitsChanged",
                                          "OrganizationAllowanceChanged", "OrganizationSuspended",
                                          "OrganizationResumed")),
                                (points, ("Transfer", "DelegateVotesChanged")),
                                (governor, ("ProposalCreated", "VoteCast", "VoteCastWithParams", "ProposalQueued",
                                            "ProposalExecuted", "ProposalCanceled")),
                                (contracts.timelock, ("Cancelled",))):
            self._decoders.update(chain_logs.decoders(contract, names))

    def work(self) -> float:
        return 0.0 if self.step() else POLL_S

    def step(self) -> bool:
        """Indexes the next range of blocks; False when there was nothing new. A log that cannot be applied (anyone
        can emit one no code foresaw) makes the range be indexed again one log at a time, in savepoints: that log is
        recorded as skipped, with its reason, and the cursor moves on. The node or the database failing is not the
        log's fault: the step is tried again."""
        try:
            return self._index(isolate=False)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - some log of the range: find it, keep the others
            log.warning("a log could not be applied: indexing the range one log at a time", exc_info=True)
            return self._index(isolate=True)

    def _index(self, *, isolate: bool) -> bool:
        latest = self.w3.eth.block_number
        head = latest - self.confirmations + 1
        try:
            with self.sessions.begin() as session:
                journal = undo_journal.Journal(session, WATCHED)
                try:
                    return self._index_range(session, journal, latest, head, isolate=isolate)
                finally:
                    journal.close()
        except BranchMoved as exc:
            log.warning("%s: reading them again", exc)  # nothing was written
            return True

    def _index_range(self, session: Session, journal: undo_journal.Journal, latest: int, head: int, *,
                     isolate: bool) -> bool:
        cursor = session.get(IndexerCursor, CURSOR)
        if cursor is None:
            cursor = IndexerCursor(name=CURSOR, next_block=self.contracts.deployment_block)
            session.add(cursor)
        resume = reorgs.rewind(session, self.w3)
        if resume is not None:
            cursor.next_block = resume
            return True
        start = cursor.next_block
        if start > head:
            return False
        end = min(head, start + self.span - 1)
        try:
            logs = chain_logs.raw_logs(self.w3, [self.contracts.badges.address, self.contracts.points.address,
                                                 self.contracts.governor.address,
                                                 self.contracts.timelock.address], start, end)
        except chain_logs.RangeRefused as exc:
            if end == start:
                raise  # one block refused: not a matter of range
            self.span, self._answered_in_a_row = max(1, (end - start + 1) // 2), 0
            log.warning("%s: asking for %d blocks at a time", exc, self.span)
            return True  # nothing written; the smaller range at once
        self._answered_in_a_row += 1
        if self._answered_in_a_row >= GROW_AFTER_STEPS and self.span < MAX_BLOCKS_PER_STEP:
            self.span, self._answered_in_a_row = min(2 * self.span, MAX_BLOCKS_PER_STEP), 0
        # decoded before the first write: SQLite's write lock is then held for the rows alone, not for decoding
        # (a festival batch of 100 claims has 300 logs), which kept the API's claims waiting
        decoded, raws = [], []  # raws[i]: the log decoded[i] came from (to name it if it is skipped)
        for entry in logs:
            event = self._decoders.get((entry["address"].lower(), entry["topics"][0].lower())) \
                if entry["topics"] else None
            if event is None:
                continue
            block = int(entry["blockNumber"], 16)
            if len(decoded) >= MAX_LOGS_PER_STEP and block != decoded[-1]["blockNumber"]:
                # whole blocks only; the rest next step: one long write transaction kept the API's claims and
                # the relayer's settlements waiting for seconds once the indexer fell behind in a burst
                end = block - 1
                break
            try:
                decoded.append(event.decode(entry))
                raws.append(entry)
            except Exception as exc:  # noqa: BLE001 - recorded; never raised: the next step would meet it again
                self._skip(session, entry, exc)
        last = self.w3.eth.get_block(end)
        near_head = end > latest - reorgs.WINDOW
        if near_head:
            # the logs must be of the branch whose last block is kept: a reorg while they were read (or a
            # provider's node behind the others) is met again next step
            end_hash = blocks.hash_hex(last["hash"])
            if not self._same_branch(raws, end, end_hash):
                raise BranchMoved(f"blocks {start}-{end} changed while they were read")
            journal.block = start  # what these blocks change can be taken back
        # the points rows of every holder in these blocks in one query (a batch of 100 claims moves 200 of them)
        balances = self._balances(session, decoded)
        for item, entry in zip(decoded, raws):
            if not isolate:
                self._apply(session, item, balances)
                continue
            try:
                with session.begin_nested():
                    self._apply(session, item, balances)
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - this log only: its savepoint is rolled back
                self._skip(session, entry, exc)
                balances = self._balances(session, decoded)  # rows the savepoint added are gone with it
        cursor.block_timestamp = last["timestamp"]
        self._fix_quorums(session, end, cursor.block_timestamp)
        # in this transaction: a crash before the commit processes these blocks, and awards, again
        chain_now = datetime.fromtimestamp(cursor.block_timestamp, timezone.utc)
        received = session.scalars(select(BadgeHolding.holder).distinct().where(
            BadgeHolding.block_number >= start, BadgeHolding.block_number <= end)).all()
        missions.award(session, received, chain_now)
        missions.sweep_new(session, chain_now)
        if near_head:
            session.flush()  # the journal files this range's last changes under its block
            reorgs.remember(session, end, end_hash, latest)
            cursor.finalized_block = self._finalized()
        cursor.next_block = end + 1
        return True

    def _same_branch(self, raws: list[dict], end: int, end_hash: str) -> bool:
        """Every log's block hash is the node's hash of that block now."""
        hashes = {int(entry["blockNumber"], 16): blocks.hash_hex(entry["blockHash"]) for entry in raws}
        return all(block_hash == (end_hash if number == end else blocks.hash_at(self.w3, number))
                   for number, block_hash in hashes.items())

    def _finalized(self) -> int | None:
        """The node's `finalized` block; None where the node has no such tag (asked once)."""
        if self._finality_tag is False:
            return None
        try:
            number = self.w3.eth.get_block("finalized")["number"]
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - a node without the tag answers with an error of its own
            log.info("the node has no `finalized` block tag: claims are never shown as finalized")
            self._finality_tag = False
            return None
        self._finality_tag = True
        return number

    @staticmethod
    def _balances(session: Session, decoded: list[dict]) -> dict[str, PointsBalance]:
        holders = {holder for item in decoded if item["event"] in ("Transfer", "DelegateVotesChanged")
                   for holder in (item["args"].get("from"), item["args"].get("to"), item["args"].get("delegate"))
                   if holder is not None and holder != ZERO}
        return {row.holder: row for row in session.scalars(
            select(PointsBalance).where(PointsBalance.holder.in_(holders))).all()} if holders else {}

    @staticmethod
    def _skip(session: Session, entry: dict, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:MAX_REASON_CHARS]
        log.error("indexer skipped the log %s/%s in block %s: %s", entry["transactionHash"], entry["logIndex"],
                  int(entry["blockNumber"], 16), reason)
        with suppress(IntegrityError), session.begin_nested():  # already recorded (the range indexed again)
            session.add(IndexerSkippedLog(block_number=int(entry["blockNumber"], 16),
                                          tx_hash=str(entry["transactionHash"]), log_index=int(entry["logIndex"], 16),
                                          address=str(entry["address"]), reason=reason))

    def _fix_quorums(self, session: Session, block: int, timestamp: int) -> None:
        """A proposal's quorum is fixed by the total supply at its snapshot, known once the snapshot has passed."""
        for proposal in session.scalars(select(Proposal).where(Proposal.quorum.is_(None), Proposal.snapshot.is_not(None),
                                                               Proposal.snapshot < timestamp)).all():
            proposal.quorum = self.contracts.governor.functions.quorum(proposal.snapshot).call(
                block_identifier=block)

    def _apply(self, session: Session, decoded, balances: dict[str, PointsBalance]) -> None:
        args, name = decoded["args"], decoded["event"]
        tx_hash = "0x" + decoded["transactionHash"].hex().removeprefix("0x")
        block = decoded["blockNumber"]
        if name == "TransferSingle":
            self._move_badge(session, args["from"], args["to"], args["id"], block, tx_hash)
        elif name == "TransferBatch":
            for token_id in args["ids"]:
                self._move_badge(session, args["from"], args["to"], token_id, block, tx_hash)
        elif name == "Transfer":
            for holder, delta in ((args["from"], -args["value"]), (args["to"], args["value"])):
                if holder != ZERO:
                    self._points(session, balances, holder).balance += delta
        elif name == "DelegateVotesChanged":
            self._points(session, balances, args["delegate"]).votes = args["newVotes"]
        elif name == "IssuingLimitsChanged":
            allowance.record_limits(session, allowance.Limits(args["maxEventPoints"], args["defaultAllowance"],
                                                              args["allowancePeriod"]), block)
        elif name == "OrganizationAllowanceChanged":
            organizations.set_points_allowance(session=session, chain_id=args["organizationId"],
                                               allowance=args["allowance"] if args["custom"] else None)
        elif name in ("OrganizationSuspended", "OrganizationResumed"):
            organizations.suspended_on_chain(session=session, chain_id=args["organizationId"],
                                             suspended=name == "OrganizationSuspended")
        elif name == "ProposalCreated":
            record_proposal_created(session, args, tx_hash)
        elif name in ("VoteCast", "VoteCastWithParams"):
            record_vote_cast(session, args, tx_hash, block, self._points_behind(args, block))
        elif name == "Cancelled":
            record_timelock_cancelled(session, "0x" + bytes(args["id"]).hex())
        else:
            proposal = session.scalar(select(Proposal).where(Proposal.proposal_id == str(args["proposalId"])))
            if proposal is None:
                return  # made before the indexer's start block: nothing to attach it to
            if name == "ProposalQueued":
                proposal.eta, proposal.queued_tx = args["etaSeconds"], proposal.queued_tx or tx_hash
                proposal.timelock_id = timelock_operation_id(self.contracts.governor.address, proposal.actions,
                                                             proposal.description)
            elif name == "ProposalExecuted":
                proposal.executed_tx, proposal.closed_state = proposal.executed_tx or tx_hash, "executed"
                proposal.executed_at = proposal.executed_at or utcnow()
            elif name == "ProposalCanceled":
                proposal.canceled, proposal.closed_state = True, "canceled"

    def _points_behind(self, args, block: int) -> int:
        """The points behind a vote (what the quorum counts): its weight, or in quadratic mode the voter's power at
        the proposal's snapshot, of which the weight is the square root."""
        if self._quadratic is None:
            self._quadratic = ballots.is_quadratic(self.contracts.governor)
        if not self._quadratic:
            return args["weight"]
        snapshot = self.contracts.governor.functions.proposalSnapshot(args["proposalId"]).call(block_identifier=block)
        return self.contracts.points.functions.getPastVotes(args["voter"], snapshot).call(block_identifier=block)

    @staticmethod
    def _move_badge(session: Session, source: str, target: str, token_id: int, block: int, tx_hash: str) -> None:
        if source != ZERO:
            # through the ORM, so the undo journal sees it (a badge leaves a wallet only when it moves to an own one)
            held = session.scalar(select(BadgeHolding).where(BadgeHolding.holder == source,
                                                             BadgeHolding.token_id == token_id))
            if held is not None:
                session.delete(held)
        if target != ZERO:
            # no flush per row: the rows go out in one INSERT at the next statement (a later transfer's DELETE
            # autoflushes first, so the order holds)
            session.add(BadgeHolding(holder=target, token_id=token_id, block_number=block, tx_hash=tx_hash))

    @staticmethod
    def _points(session: Session, balances: dict[str, PointsBalance], holder: str) -> PointsBalance:
        """`holder`'s row among `balances` (the step's rows, loaded at once), made if the holder is new."""
        row = balances.get(holder)
        if row is None:
            row = balances[holder] = PointsBalance(holder=holder, balance=0, votes=0)
            session.add(row)
        return row

