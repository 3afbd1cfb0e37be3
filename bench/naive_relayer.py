"""The naive relayer, bench/burst.py's baseline (docs/benchmarks.md): what a relayer without batching does, one
transaction per claim, each one signed, sent, waited for and settled before the next.

It is the shipping relayer with only its issue step replaced, so that everything else (organizations, events, fees,
crash safety) is the same and the comparison measures batching alone. It never runs outside the benchmarks.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from backend.claims.models import Claim, ClaimStatus
from backend.events.models import Event
from backend.platform.models import OutboundTx, TxStatus
from backend.relayer import timing
from backend.relayer.service import Relayer


class NaiveRelayer(Relayer):
    SLICE_S = 10.0  # the one-by-one loop hands the tick's other steps a turn this often

    def _batches_ready(self, session) -> list:
        return []  # the shipping relayer's organization work creates the events; the loop below issues

    def _organization_work(self) -> None:
        super()._organization_work()
        self._issue_one_by_one()

    def _issue_one_by_one(self) -> None:
        """A tight loop, not paced by the tick, through the same stored-before-sent steps as the batched path
        (`_issue_event` with one claim, `_send`, `_settle`), so it is as crash-safe."""
        until = time.monotonic() + self.SLICE_S
        while time.monotonic() < until and not self._stop.is_set():
            with self.sessions() as session:
                event_id = session.scalar(
                    select(Claim.event_id).join(Event)
                    .where(Claim.status == ClaimStatus.accepted, Event.token_id.is_not(None))
                    .order_by(Claim.id).limit(1)
                )
            if event_id is None:
                return
            tx = self._issue_event(event_id, limit=1)
            if tx is None:
                return  # on chain already, would revert (an attempt counted), or waiting for a top-up: next tick
            with self.sessions.begin() as session:
                tx = session.get(OutboundTx, tx.id)
                self._send(session, tx)
                if tx.status != TxStatus.broadcast:
                    return  # not sent (the error is stored): _broadcast_signed tries again
            receipt, deadline = None, time.monotonic() + timing.REBROADCAST_AFTER_S
            while receipt is None and time.monotonic() < deadline:
                receipt = self._receipt(tx.tx_hash)
                if receipt is None:
                    time.sleep(0.002)
            if receipt is None or self.confirmations > 1:
                return  # _follow_broadcast takes it from here
            with self.sessions.begin() as session:
                tx = session.get(OutboundTx, tx.id)
                if tx.status == TxStatus.broadcast:
                    self._settle(session, tx, receipt)
