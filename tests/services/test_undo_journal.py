"""The indexer's undo journal (backend/platform/undo_journal.py): what a reorg takes back, on a real migrated database.

Each block's changes are made as the indexer makes them (ORM rows in a session with a journal attached); taking back
everything above a block leaves the watched rows exactly as they stood after it, whatever mix of inserts, updates and
deletes came later, and leaves alone the columns other processes changed meanwhile."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from backend.claims.models import BadgeHolding, PointsBalance
from backend.governance.models import Proposal, ProposalKind, RelayStatus
from backend.platform import undo_journal
from backend.platform.db import session_factory
from backend.platform.models import UndoEntry

WATCHED = (BadgeHolding, PointsBalance, Proposal)
ALICE, BOB = "0x" + "a1" * 20, "0x" + "b2" * 20


def in_block(engine, block: int, change) -> None:
    with session_factory(engine).begin() as session:
        journal = undo_journal.Journal(session, WATCHED)
        journal.block = block
        try:
            change(session)
            session.flush()  # as the indexer does before it detaches the journal
        finally:
            journal.close()


def state(engine) -> dict:
    with session_factory(engine)() as session:
        return {
            "badges": sorted((h.holder, h.token_id, h.block_number) for h in session.scalars(select(BadgeHolding))),
            "points": sorted((p.holder, p.balance, p.votes) for p in session.scalars(select(PointsBalance))),
            "proposals": sorted((p.proposal_id, p.status.name, p.votes_for, p.closed_state, p.queued_tx, p.failure)
                                for p in session.scalars(select(Proposal))),
        }


def proposal(number: str) -> Proposal:
    return Proposal(proposal_id=number, proposer_address=ALICE, kind=ProposalKind.external, title_ja="t",
                    title_en="t", description="d", actions={"targets": [], "values": [], "calldatas": []},
                    status=RelayStatus.submitted)


def block_10(session):
    session.add_all([BadgeHolding(holder=ALICE, token_id=1, block_number=10, tx_hash="0x10"),
                     PointsBalance(holder=ALICE, balance=10, votes=10), proposal("7")])


def block_11(session):
    session.add(BadgeHolding(holder=BOB, token_id=1, block_number=11, tx_hash="0x11"))
    session.get(PointsBalance, ALICE).balance += 5
    session.add(PointsBalance(holder=BOB, balance=10, votes=0))
    row = session.scalar(select(Proposal).where(Proposal.proposal_id == "7"))
    row.status, row.votes_for, row.queued_tx = RelayStatus.confirmed, 15, "0xq"
    session.flush()
    session.get(PointsBalance, ALICE).votes = 15  # a second flush in the same range


def block_12(session):
    session.delete(session.scalar(select(BadgeHolding).where(BadgeHolding.holder == ALICE)))  # moved to own wallet
    session.add(BadgeHolding(holder=BOB, token_id=2, block_number=12, tx_hash="0x12"))
    session.get(PointsBalance, BOB).balance = 0
    session.scalar(select(Proposal).where(Proposal.proposal_id == "7")).closed_state = "executed"
    session.add(proposal("8"))


def test_taking_back_the_blocks_above_one_leaves_the_rows_as_they_stood_after_it(engine):
    states = {}
    for block, change in ((10, block_10), (11, block_11), (12, block_12)):
        in_block(engine, block, change)
        states[block] = state(engine)
    assert states[12] != states[11] != states[10]
    with session_factory(engine).begin() as session:
        assert undo_journal.undo_after(session, 11) > 0
    assert state(engine) == states[11]
    with session_factory(engine).begin() as session:
        undo_journal.undo_after(session, 10)
    assert state(engine) == states[10]
    with session_factory(engine).begin() as session:
        undo_journal.undo_after(session, 9)
        assert session.scalar(select(UndoEntry.id)) is None  # nothing left to take back
    assert state(engine) == {"badges": [], "points": [], "proposals": []}


def test_a_column_another_process_changed_after_the_block_is_left_alone(engine):
    in_block(engine, 10, block_10)
    in_block(engine, 11, block_11)
    with session_factory(engine).begin() as session:  # the relayer, not the indexer: not journaled
        session.scalar(select(Proposal).where(Proposal.proposal_id == "7")).failure = "set by the relayer"
    with session_factory(engine).begin() as session:
        undo_journal.undo_after(session, 10)
    row = state(engine)["proposals"][0]
    assert row == ("7", "submitted", 0, None, None, "set by the relayer")


def test_a_deleted_row_comes_back_whole(engine):
    for block, change in ((10, block_10), (11, block_11), (12, block_12)):
        in_block(engine, block, change)
    with session_factory(engine).begin() as session:
        undo_journal.undo_after(session, 11)
    with session_factory(engine)() as session:
        held = session.scalar(select(BadgeHolding).where(BadgeHolding.holder == ALICE))
        assert (held.token_id, held.block_number, held.tx_hash) == (1, 10, "0x10")


def test_changes_without_a_block_are_not_journaled(engine):
    with session_factory(engine).begin() as session:  # a range far below the head: nothing can reorganise it
        journal = undo_journal.Journal(session, WATCHED)
        block_10(session)
        session.flush()
        journal.close()
    with session_factory(engine)() as session:
        assert session.scalar(select(UndoEntry.id)) is None


def test_values_of_every_column_type_survive_the_round_trip():
    moment = datetime(2026, 12, 5, 13, 0, tzinfo=timezone.utc)
    for value in (RelayStatus.confirmed, moment, b"\x00\xff", {"a": [1, 2]}, [1], 2**255, None, "text"):
        encoded = undo_journal._encode(value)
        mapper = Proposal.__mapper__
        decoded = undo_journal._decode(mapper, "status", encoded)
        assert decoded == value
