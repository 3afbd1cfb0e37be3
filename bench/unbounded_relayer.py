"""The relayer as it was before issue #17, bench/flood.py's comparison: each tick creates every event waiting and
issues a batch of every event with claims waiting, for all organizations at once, and relays votes only after that.

It is the shipping relayer with only its tick replaced (the same event creation, issue batch, signing, sending and
settling), so that the comparison measures the order and the bound alone. It never runs outside the benchmarks.
"""

from __future__ import annotations

from datetime import timedelta

from backend.platform.orm import utcnow
from backend.relayer import timing
from backend.relayer.service import NodeError, Relayer, _aware, log


class UnboundedRelayer(Relayer):
    def work(self) -> float:
        self.tick()
        return timing.TICK_S

    def tick(self) -> None:
        if not self._reconciled:
            self.reconcile()
            self._reconciled = True
        for step in (self._register_organizations, self._grant_issuers, self._revoke_suspended, self._create_all,
                     self._issue_all, self._migrate_wallets, self._submit_proposals, self._relay_votes,
                     self._relay_delegations, self._advance_proposals, self._broadcast_signed, self._follow_broadcast):
            if not self.leading():
                return
            try:
                step()
            except NodeError:
                raise
            except Exception:  # noqa: BLE001 - as the shipping relayer's tick
                log.exception("relayer step %s failed", step.__name__)

    def _create_all(self) -> None:
        with self.sessions() as session:
            events = self._events_to_create(session)
        for _org, event_id, _since in events:
            self._create_event(event_id)

    def _issue_all(self) -> None:
        with self.sessions() as session:
            rows = self._batches_ready(session)
        now = utcnow()
        for _org, event_id, oldest, count in rows:
            if count < timing.ISSUE_BATCH and now - _aware(oldest) < timedelta(seconds=timing.BATCH_WINDOW_S):
                continue  # wait a moment for company
            self._issue_event(event_id)
