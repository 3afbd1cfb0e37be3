"""Reorgs, as the relayer meets them: a transaction it settled (its receipt `confirmations` blocks deep) can still be
taken out of the chain by a deeper reorg. Its block's hash is kept at settlement (`outbound_txs.block_hash`); a
block of that number with another hash, or none, means the transaction is no longer mined: it goes back to
`broadcast`, its claims, votes, delegation and proposal step back to `submitted`, and what its receipt charged to a
budget is taken off. The normal steps then follow it again: a receipt in the new branch settles it again; none, and it
is sent again with the same nonce and bytes (`_follow_broadcast`), which the chain accepts as the nonce is free again.

Each settled block is checked once, at the tick after its settlement. After that, a reorg that took it out also
replaced the head block seen at that check (its descendant): a changed hash of that one block, asked each tick, is the
sign to check every settled block of the window again.

A move to an own wallet taken out is undone the same way: the export is `submitted` again and the account points at
its custodial address until the migration is mined again (the member's signature makes the same migration again).
That is why the custodial key is destroyed only once the migration's block is final (`_destroy_exported_keys`: the
node's `finalized` block, or REORG_WINDOW blocks deep where the node has no such tag): should the migration not come
back, the badges are at an address whose key still exists.

Left as it is: organization and event ids from a re-ordered registration.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3RPCError

from backend.accounts.models import CustodialKey, ExportStatus, User, WalletExport, WalletKind
from backend.claims.models import Claim, ClaimStatus
from backend.governance import budget as governance_budget
from backend.governance.models import Delegation, Proposal, RelayStatus, Vote
from backend.organizations import gas_budget
from backend.organizations.models import Organization
from backend.platform.chain.blocks import REORG_WINDOW as WINDOW
from backend.platform.chain.blocks import hash_at, hash_hex
from backend.platform.models import OutboundTx, TxStatus

log = logging.getLogger("kyoso.relayer")

# How often moved members' custodial keys are looked at (a move is rare; its key may live a little past finality).
KEY_CHECK_EVERY_S = 10.0


class ReorgWatch:
    sessions: sessionmaker[Session]
    w3: Web3
    _seen_head: tuple[int, str] | None = None
    _checked: set[tuple[int, str]]
    _next_key_check = 0.0

    def _hash_at(self, number: int) -> str | None:
        return self._call(lambda: hash_at(self.w3, number))

    def _watch_reorgs(self) -> None:
        latest = self._call(lambda: self.w3.eth.get_block("latest"))
        head = (latest["number"], hash_hex(latest["hash"]))
        # the head seen last is still the head: nothing moved, and its hash needs no second read
        recheck = self._seen_head is None or (head != self._seen_head
                                              and self._hash_at(self._seen_head[0]) != self._seen_head[1])
        if recheck:
            self._checked = set()
        with self.sessions.begin() as session:
            settled = session.execute(select(OutboundTx.block_number, OutboundTx.block_hash).distinct().where(
                OutboundTx.status == TxStatus.mined, OutboundTx.block_hash.is_not(None),
                OutboundTx.block_number > head[0] - WINDOW)).all()
            canonical: dict[int, str | None] = {}
            orphaned = []
            for number, hash_ in settled:
                if (number, hash_) in self._checked:
                    continue
                if number not in canonical:
                    canonical[number] = self._hash_at(number)
                if canonical[number] == hash_:
                    self._checked.add((number, hash_))
                else:
                    orphaned.append((number, hash_))
            for number, hash_ in orphaned:
                for tx in session.scalars(select(OutboundTx).where(OutboundTx.status == TxStatus.mined,
                                                                   OutboundTx.block_number == number,
                                                                   OutboundTx.block_hash == hash_)).all():
                    self._unmine(session, tx)
        self._checked = {(n, h) for n, h in self._checked if n > head[0] - WINDOW}
        self._seen_head = head

    def _unmine(self, session: Session, tx: OutboundTx) -> None:
        log.warning("tx %s (%s) left the chain with its block %s (%s): followed again", tx.tx_hash, tx.purpose,
                    tx.block_number, tx.block_hash)
        gas = tx.gas_used or 0
        if tx.organization_id is not None:
            session.execute(update(Organization).where(Organization.id == tx.organization_id)
                            .values(gas_used=Organization.gas_used - gas))
        else:
            governance_budget.charge(session, -gas)
        tx.status, tx.block_number, tx.block_hash, tx.gas_used, tx.fee_paid = TxStatus.broadcast, None, None, None, None
        confirmed = session.execute(update(Claim).where(Claim.tx_id == tx.id, Claim.status == ClaimStatus.confirmed)
                                    .values(status=ClaimStatus.submitted, confirmed_at=None)
                                    .execution_options(synchronize_session=False)).rowcount
        if tx.organization_id is not None:
            # the estimates settlement took off: they are reserved again until the claims are confirmed again
            gas_budget.reserve_again(session, tx.organization_id, confirmed * gas_budget.GAS_PER_CLAIM_ESTIMATE
                                     + (gas_budget.EVENT_GAS_ESTIMATE if tx.purpose == "create_event" else 0))
        for vote in session.scalars(select(Vote).where(Vote.tx_id == tx.id)).all():
            vote.status, vote.confirmed_at = RelayStatus.submitted, None
        if tx.purpose == "migrate":
            self._unmove(session, session.get(WalletExport, tx.subject_id))
        elif tx.purpose == "delegate":
            session.get(Delegation, tx.subject_id).status = RelayStatus.submitted
        elif tx.purpose in ("propose", "queue", "execute"):
            proposal = session.get(Proposal, tx.subject_id)
            if tx.purpose == "propose":
                proposal.status = RelayStatus.submitted
            elif tx.purpose == "queue":
                proposal.queued_tx, proposal.eta = None, None
            else:
                proposal.executed_tx, proposal.executed_at, proposal.closed_state = None, None, None

    @staticmethod
    def _unmove(session: Session, export: WalletExport | None) -> None:
        """The migration left the chain: the badges are at the custodial address again, and the account with them."""
        if export is None or export.status != ExportStatus.done:
            return
        export.status = ExportStatus.submitted
        user = session.get(User, export.user_id) if export.user_id is not None else None
        if user is not None and user.custodial_key is not None:
            user.wallet_address, user.wallet_kind = export.from_address, WalletKind.custodial

    def _destroy_exported_keys(self) -> None:
        """The custodial keys of members whose move to an own wallet is final: destroyed."""
        if time.monotonic() < self._next_key_check:
            return
        self._next_key_check = time.monotonic() + KEY_CHECK_EVERY_S
        with self.sessions.begin() as session:
            moved = session.execute(
                select(CustodialKey.user_id, OutboundTx.block_number)
                .join(User, User.id == CustodialKey.user_id)
                .join(WalletExport, WalletExport.user_id == User.id)
                .join(OutboundTx, OutboundTx.id == WalletExport.tx_id)
                .where(WalletExport.status == ExportStatus.done, User.wallet_kind == WalletKind.own,
                       OutboundTx.status == TxStatus.mined)).all()
            if not moved:
                return
            final = self._final_block()
            gone = [user_id for user_id, block in moved if block is not None and block <= final]
            if gone:
                session.execute(delete(CustodialKey).where(CustodialKey.user_id.in_(gone)))
                log.info("custodial keys of %d member(s) destroyed: their move to an own wallet is final", len(gone))

    def _final_block(self) -> int:
        """The newest block no reorg takes back: the node's `finalized` one, else REORG_WINDOW below the head."""
        try:
            return self._call(lambda: self.w3.eth.get_block("finalized"))["number"]
        except (BlockNotFound, Web3RPCError, ValueError):
            return self._call(lambda: self.w3.eth.block_number) - WINDOW
