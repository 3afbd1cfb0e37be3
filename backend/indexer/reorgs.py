"""Reorgs, as the indexer meets them: the hash of the last block of every range applied near the head is kept; when
the node gives another hash for it, that range's branch was orphaned. The indexer then goes back to the newest kept
block the node still agrees on, takes back everything it derived from the blocks above it (the undo journal,
backend/platform/undo_journal.py) and indexes the new branch from there.

A public chain's reorgs are a few blocks deep (a 2 s L2's unsafe head, a proof-of-stake chain before its checkpoint);
WINDOW blocks are kept. A reorg deeper than that cannot be taken back here: the indexer stops with an error that
health shows, rather than go on from a state no chain ever had.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.platform import undo_journal
from backend.platform.chain.blocks import REORG_WINDOW as WINDOW
from backend.platform.chain.blocks import hash_at
from backend.platform.models import IndexedBlock, IndexerSkippedLog

log = logging.getLogger("kyoso.indexer")

class ReorgTooDeep(RuntimeError):
    """The node's chain left every block the indexer kept: it no longer knows what to take back."""


def rewind(session: Session, w3: Web3) -> int | None:
    """If the newest kept block was orphaned: takes back what was derived above the newest kept block the node still
    agrees on, and returns the block to index from. None when the kept blocks are the node's."""
    kept = session.execute(select(IndexedBlock.number, IndexedBlock.hash).order_by(IndexedBlock.number.desc())).all()
    if not kept or hash_at(w3, kept[0].number) == kept[0].hash:
        return None
    for number, block_hash in kept[1:]:
        if hash_at(w3, number) == block_hash:
            taken_back = undo_journal.undo_after(session, number)
            session.execute(delete(IndexedBlock).where(IndexedBlock.number > number))
            session.execute(delete(IndexerSkippedLog).where(IndexerSkippedLog.block_number > number))
            log.warning("reorg: the blocks after %d were orphaned (up to %d); %d indexed changes taken back", number,
                        kept[0].number, taken_back)
            return number + 1
    raise ReorgTooDeep(f"the chain no longer has any of the {len(kept)} blocks kept (from {kept[-1].number}): a reorg "
                       f"deeper than {WINDOW} blocks; index again from the deployment block")


def remember(session: Session, number: int, block_hash: str, head: int) -> None:
    """Keeps the hash of a range's last block, and forgets what is past the window."""
    session.merge(IndexedBlock(number=number, hash=block_hash))
    session.execute(delete(IndexedBlock).where(IndexedBlock.number < head - WINDOW))
    undo_journal.forget_below(session, head - WINDOW)
