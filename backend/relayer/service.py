"""The relayer: turns accepted work in the database into signed transactions, sends them and follows them to a block.

One loop, in a background thread, runs the steps of `tick()` in order; each step is its own database transaction, so
the loop can stop between any two steps (or be killed inside one) without losing or duplicating anything: see
backend/relayer/timing.py for the states and the reasoning. Every relayer key (the relayer's own, and each
organization's issuer key) is one writer with its nonces in order.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak
from hexbytes import HexBytes
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session, sessionmaker
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.logs import DISCARD

from backend.accounts.models import CustodialKey, ExportStatus, User, WalletExport, WalletKind
from backend.claims import refusals
from backend.claims.models import Claim, ClaimStatus
from backend.events.models import Event
from backend.governance import budget as governance_budget
from backend.governance.models import Delegation, Proposal, Vote
from backend.organizations import allowance, gas_budget
from backend.organizations.models import Organization, OrganizationStatus
from backend.platform.background import BackgroundLoop
from backend.platform.chain import blocks, reads
from backend.platform.chain.contracts import Contracts
from backend.platform.keys import KeyVault, SealedKey
from backend.platform.models import OutboundTx, TxStatus
from backend.platform.orm import utcnow
from backend.platform.redaction import redact
from backend.relayer import fairness, timing
from backend.relayer.governance import GovernanceRelaying
from backend.relayer.housekeeping import Housekeeping
from backend.relayer.reorgs import ReorgWatch

log = logging.getLogger("kyoso.relayer")

LIVE = (TxStatus.signed, TxStatus.broadcast)


class NodeError(RuntimeError):
    """The chain node did not answer; the step is retried on the next tick."""


def error_names(contracts: Contracts) -> dict[str, str]:
    """Custom error selector -> name, for clear failure reasons."""
    names = {}
    for contract in (contracts.badges, contracts.points, contracts.governor, contracts.timelock):
        for item in contract.abi:
            if item.get("type") == "error":
                signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                names["0x" + keccak(text=signature)[:4].hex()] = item["name"]
    return names


class Relayer(GovernanceRelaying, Housekeeping, ReorgWatch, BackgroundLoop):
    thread_name = "kyoso-relayer"
    log = log

    def __init__(
        self,
        sessions: sessionmaker[Session],
        w3: Web3,
        contracts: Contracts,
        vault: KeyVault,
        relayer_account: LocalAccount,
        confirmations: int = 1,
        priority_fee_wei: int = 0,
        max_fee_per_gas_wei: int | None = None,
        chain_id: int | None = None,
        auto_execute: bool = True,
    ):
        super().__init__()
        self.sessions = sessions
        self.w3 = w3
        self.contracts = contracts
        self.vault = vault
        self.relayer = relayer_account
        self.confirmations = max(1, confirmations)
        self.priority_fee_wei = priority_fee_wei
        self.max_fee_per_gas_wei = max_fee_per_gas_wei
        self._fees_above_cap = False
        self.chain_id = chain_id if chain_id is not None else w3.eth.chain_id
        self._accounts: dict[str, LocalAccount] = {relayer_account.address: relayer_account}
        self._errors = error_names(contracts)
        self._reconciled = False
        self.auto_execute = auto_execute
        self._next_advance = 0.0
        self._org_turn: int | None = None  # the organization served last: the next tick's rounds start after it
        self._backlog = False  # organization work was left for the next tick (by the budget or a share) and goes on

    # ------------------------------------------------------------------ lifecycle

    def work(self) -> float:
        self.tick()
        # Organization work that the tick's bounds left waiting goes on at once: the bounds keep each tick short (votes
        # and other organizations' new work come first in the next one), not the relayer slow.
        return 0.0 if self._backlog else timing.TICK_S

    def report(self, exc: Exception) -> None:
        if isinstance(exc, NodeError):
            log.warning("chain node unavailable: %s", exc)
        else:
            log.exception("relayer step failed", exc_info=exc)

    def on_lease_taken(self) -> None:
        self._reconciled = False  # another process may have left transactions in flight

    def tick(self) -> None:
        if not self._reconciled:
            self.reconcile()
            self._reconciled = True
        # Each step on its own: a step that fails (e.g. one bad subject) must not stop the others, above all not
        # broadcasting and settling what is already signed. Members' work first (votes, delegations, proposals,
        # moves to an own wallet), sent at once: no organization's work may delay it. Then the organizations' own
        # work (events, badge batches), bounded per tick and fair between organizations (`_organization_work`).
        # A reorg's orphaned settlements are taken back before anything else (reorgs.py).
        steps = (self._watch_reorgs, self._relay_votes, self._relay_delegations, self._submit_proposals,
                 self._advance_proposals, self._migrate_wallets, self._broadcast_signed, self._register_organizations,
                 self._grant_issuers, self._revoke_suspended, self._organization_work, self._broadcast_signed,
                 self._follow_broadcast)
        if self._above_fee_cap():
            # Nothing new is signed or sent until the fees fall within the sponsor's cap; what is out is followed
            # (and bumped within the cap). The queue waits: claims and votes are still accepted.
            steps = (self._watch_reorgs, self._follow_broadcast)
        # whatever the fees: expired rows (housekeeping.py) and moved members' keys once final (reorgs.py)
        steps = (*steps, self._purge_expired, self._destroy_exported_keys)
        for step in steps:
            if not self.leading():  # a step can take a while: never start one after the lease was lost
                return
            try:
                step()
            except NodeError:
                raise
            except Exception:  # noqa: BLE001 - logged; the step is tried again on the next tick
                log.exception("relayer step %s failed", step.__name__)

    def _above_fee_cap(self) -> bool:
        """The base fee and the tip pass what the sponsor pays per gas (logged when that changes)."""
        if self.max_fee_per_gas_wei is None:
            return False
        base_fee = self._call(lambda: self.w3.eth.get_block("latest")).get("baseFeePerGas", 0)
        above = base_fee + self.priority_fee_wei > self.max_fee_per_gas_wei
        if above != self._fees_above_cap:
            self._fees_above_cap = above
            if above:
                log.warning("base fee %d wei + tip %d is above the sponsor's cap of %d per gas: the queue waits",
                            base_fee, self.priority_fee_wei, self.max_fee_per_gas_wei)
            else:
                log.warning("base fee %d wei is within the sponsor's cap again: the queue goes on", base_fee)
        return above

    def _fee_cap(self, base_fee: int) -> int:
        """maxFeePerGas of a new transaction: room for the base fee to double while it waits, plus the tip, never
        above what the sponsor pays per gas."""
        fee = 2 * base_fee + self.priority_fee_wei
        return fee if self.max_fee_per_gas_wei is None else min(fee, self.max_fee_per_gas_wei)

    # ------------------------------------------------------------------ start-up reconciliation

    def reconcile(self) -> None:
        """Before new work: stored transactions whose nonce the chain already used by another transaction are
        superseded (their claims return to the queue); the others are re-broadcast by the normal steps."""
        with self.sessions.begin() as session:
            live = session.scalars(select(OutboundTx).where(OutboundTx.status.in_(LIVE))).all()
            counts: dict[str, int] = {}
            for tx in live:
                if tx.sender not in counts:
                    counts[tx.sender] = self._call(lambda s=tx.sender: self.w3.eth.get_transaction_count(s, "latest"))
                if tx.nonce < counts[tx.sender] and self._receipt_of(tx) is None:
                    self._supersede(session, tx, "its nonce was used by another transaction")
        log.info("relayer reconciled %d stored transactions", len(live))

    # ------------------------------------------------------------------ steps that create transactions

    def _register_organizations(self) -> None:
        with self.sessions.begin() as session:
            for org in session.scalars(select(Organization).where(
                    Organization.chain_id.is_(None), Organization.status == OrganizationStatus.approved)).all():
                if self._has_live(session, "register_organization", org.id):
                    continue
                data = self.contracts.badges.encode_abi("createOrganization", args=[self.relayer.address])
                self._sign(session, self.relayer, self.contracts.badges.address, data, "register_organization",
                           org.id, None)

    def _grant_issuers(self) -> None:
        with self.sessions.begin() as session:
            orgs = session.scalars(
                select(Organization).where(Organization.chain_id.is_not(None), Organization.registered.is_(False),
                                           Organization.status == OrganizationStatus.approved)
            ).all()
            for org in orgs:
                # not `settled`: a steward may approve again after a suspension, and the role is granted again
                if self._has_live(session, "grant_issuer", org.id, settled=False):
                    continue
                role = self.contracts.badges.functions.organizationIssuerRole(org.chain_id).call()
                data = self.contracts.badges.encode_abi("grantRole", args=[role, org.issuer_address])
                self._sign(session, self.relayer, self.contracts.badges.address, data, "grant_issuer", org.id, None)

    def _revoke_suspended(self) -> None:
        """A suspended organization's key loses the issuer role (the relayer's key is every organization's admin on
        chain), and its claims still waiting fail with the steward's reason."""
        with self.sessions.begin() as session:
            suspended = session.scalars(select(Organization).where(
                Organization.status == OrganizationStatus.suspended)).all()
            for org in suspended:
                waiting = session.scalars(select(Claim).join(Event).where(
                    Event.organization_id == org.id, Claim.status == ClaimStatus.accepted)).all()
                for claim in waiting:
                    self._retry_or_fail(claim, f"the organization was suspended: {org.status_reason}", final=True)
                if not org.registered or org.chain_id is None:
                    continue
                if self._has_live(session, "revoke_issuer", org.id, settled=False):
                    continue
                role = self.contracts.badges.functions.organizationIssuerRole(org.chain_id).call()
                data = self.contracts.badges.encode_abi("revokeRole", args=[role, org.issuer_address])
                self._sign(session, self.relayer, self.contracts.badges.address, data, "revoke_issuer", org.id, None)

    # ------------------------------------------------------------------ organization work: bounded, fair

    def _organization_work(self) -> None:
        """Event creations and issue batches, each signed by its organization's own key: at most
        timing.ORG_TXS_PER_TICK in one tick, round-robin by organization, oldest first within one
        (backend/relayer/fairness.py). Each transaction on its own: one that fails stops no other. The first round
        (every organization's oldest work) is sent and followed before the others: an organization with a few claims
        has them confirmed after one transaction of each other organization, not after the whole tick."""
        plan, cut = self._plan_organization_work()
        signed, given_up = 0, set()
        first_round = len({org_id for org_id, _work in plan})
        for position, (org_id, (_since, kind, event_id)) in enumerate(plan):
            if not self.leading():
                return
            if position == first_round > 1 and signed:
                self._broadcast_signed()
                self._follow_broadcast()
            if (kind, event_id) in given_up:
                continue  # its batch before did not go out this tick: it would take up the same claims again
            self._org_turn = org_id
            try:
                tx = self._create_event(event_id) if kind == "create" else self._issue_event(event_id)
            except NodeError:
                raise
            except Exception:  # noqa: BLE001 - logged; tried again on the next tick
                log.exception("relayer: %s for event %s failed", kind, event_id)
                tx = None
            if tx is None:
                given_up.add((kind, event_id))
            else:
                signed += 1
        # No pause before the next tick while work was left waiting and this tick got on with it (not while nothing
        # went out: failures, top-ups on their way, or each key's share in flight, waiting for blocks).
        self._backlog = cut and signed > 0

    def _plan_organization_work(self) -> tuple[list[tuple[int, tuple]], bool]:
        """This tick's organization work as (organization, (since, kind, event)), and whether some was left waiting
        (by the tick's budget or an organization's share). An organization's queue is its events to create (since: the
        event was stored) and its issue batches (since: its oldest claim waiting), oldest first, cut to what its own
        key may still have in flight (the relayer's transactions for it, such as top-ups, do not count)."""
        with self.sessions() as session:
            in_flight = dict(session.execute(
                select(Organization.id, func.count())
                .join(OutboundTx, OutboundTx.sender == Organization.issuer_address)
                .where(OutboundTx.status.in_(LIVE))
                .group_by(Organization.id)).all())
            creating = set(session.scalars(select(OutboundTx.subject_id).where(
                OutboundTx.purpose == "create_event", OutboundTx.status.in_(LIVE))).all())
            to_create = self._events_to_create(session)
            ready = self._batches_ready(session)
        queues: dict[int, list[tuple]] = {}
        for org_id, event_id, since in to_create:
            if event_id not in creating:
                queues.setdefault(org_id, []).append((_aware(since), "create", event_id))
        now = utcnow()
        for org_id, event_id, oldest, count in ready:
            batches = count // timing.ISSUE_BATCH
            if not batches and now - _aware(oldest) >= timedelta(seconds=timing.BATCH_WINDOW_S):
                batches = 1  # fewer than a batch: sent once the oldest has waited a moment for company
            queues.setdefault(org_id, []).extend([(_aware(oldest), "issue", event_id)] * batches)
        waiting = sum(len(queue) for queue in queues.values())
        for org_id, queue in queues.items():
            queue.sort()
            del queue[max(0, timing.ORG_TXS_IN_FLIGHT - in_flight.get(org_id, 0)):]
        plan = fairness.round_robin(queues, timing.ORG_TXS_PER_TICK, self._org_turn)
        return plan, len(plan) < waiting

    def _events_to_create(self, session: Session) -> list[tuple[int, int, datetime]]:
        """(organization, event, stored at) of each event its organization's key is to create on chain."""
        return session.execute(
            select(Event.organization_id, Event.id, Event.created_at).join(Organization)
            .where(Event.token_id.is_(None), Organization.registered.is_(True),
                   Organization.status == OrganizationStatus.approved)
        ).all()

    def _batches_ready(self, session: Session) -> list[tuple[int, int, datetime, int]]:
        """(organization, event, oldest, count) of the accepted claims of each event on chain."""
        return session.execute(
            select(Event.organization_id, Claim.event_id, func.min(Claim.created_at), func.count())
            .select_from(Claim).join(Event).join(Organization)
            .where(Claim.status == ClaimStatus.accepted, Event.token_id.is_not(None),
                   Organization.status == OrganizationStatus.approved)
            .group_by(Claim.event_id, Event.organization_id)
        ).all()

    def _create_event(self, event_id: int) -> OutboundTx | None:
        with self.sessions.begin() as session:
            event = session.get(Event, event_id)
            if event is None or event.token_id is not None or self._has_live(session, "create_event", event.id):
                return None
            org = event.organization
            args = [org.chain_id, "", event.points, _ts(event.claim_start),
                    _ts(event.claim_end) + timing.ISSUE_GRACE_S, event.capacity]
            data = self.contracts.badges.encode_abi("createEvent", args=args)
            return self._sign(session, self._account_of(org), self.contracts.badges.address, data, "create_event",
                              event.id, org.id)

    def _issue_event(self, event_id: int, limit: int = timing.ISSUE_BATCH) -> OutboundTx | None:
        with self.sessions.begin() as session:
            event = session.get(Event, event_id)
            org = event.organization
            claims = session.scalars(
                select(Claim)
                .where(Claim.event_id == event_id, Claim.status == ClaimStatus.accepted)
                .order_by(Claim.id)
                .limit(limit)
            ).all()
            if not claims:
                return
            # a claim that failed in a batch is retried alone, so that one bad recipient cannot block the others
            if any(c.attempts for c in claims):
                claims = [next(c for c in claims if c.attempts)]
            # a member who moved to an own wallet receives the badge there (one query for the batch's members)
            wallets = self._wallets_of(session, claims)
            for claim in claims:
                wallet = wallets.get(claim.user_id)
                if wallet is not None and wallet[0] != claim.recipient:
                    claim.recipient = wallet[0]
            recipients = [c.recipient for c in claims]
            holding = self._already_holding(event.token_id, recipients)
            for claim in claims:
                if claim.recipient in holding:
                    # on chain already (e.g. our earlier transaction mined but its receipt was never recorded)
                    claim.status = ClaimStatus.confirmed
                    claim.confirmed_at = utcnow()
            gas_budget.release(session, org.id, sum(1 for c in claims if c.recipient in holding))
            claims = [c for c in claims if c.recipient not in holding]
            hooks = _hooks_of(claims, wallets)
            while len(claims) > 1 and _issue_bound(claims, hooks) > timing.TX_GAS_CAP:
                claims.pop()  # own wallets' hooks take room: the last ones wait for the next batch
            if not claims:
                return
            data = _issue_data(event.token_id, claims)
            # Sent with the batch's upper bound as its limit, checked by one run in the node instead of an estimate
            # (a binary search of many runs). A batch that fails that run because of recipients' code (their hooks)
            # is sorted out claim by claim; one that fails for the event's or the organization's sake is estimated,
            # which gives the reason to every claim of it.
            account, gas = self._account_of(org), _issue_bound(claims, hooks)
            reason = self._simulate(account.address, self.contracts.badges.address, data, gas)
            if reason and self._passes_without_code(account.address, data, gas,
                                                    [c.recipient for c in claims if c.id in hooks]):
                claims = self._sort_out_claims(session, account.address, event.token_id, claims, hooks, reason)
                if not claims:
                    return
                data, gas = _issue_data(event.token_id, claims), _issue_bound(claims, hooks)
            elif reason:
                gas = None
            tx = self._sign(session, account, self.contracts.badges.address, data, "issue", event.id, org.id,
                            on_revert=lambda reason: self._fail_claims(claims, reason), gas_limit=gas,
                            history_entries=len(claims) + 1)
            if tx is None:
                return
            for claim in claims:
                claim.status = ClaimStatus.submitted
                claim.tx_id = tx.id
            return tx

    def _sort_out_claims(self, session: Session, sender: str, token_id: int, claims: list[Claim], hooks: set[int],
                         reason: str) -> list[Claim]:
        """An issue of `claims` failed its run in the node with `reason`, and passes with its recipients' code removed:
        some receiver hooks turn the badge down. Halves the batch until each failing claim stands alone (a batch of 100
        with one such claim: 14 runs, each smaller than the one before). A claim whose own recipient's code is to
        blame fails for good with the hook's reason, and the address is kept with its code (a new claim for it is
        refused until the code changes: backend/claims/refusals.py); any other claim failing alone uses an attempt,
        as before. Returns the rest, which pass together in one run (fewer when only some of them do)."""
        good, bad = [], []

        def split(part: list[Claim], why: str | None) -> None:
            if why is None:
                good.extend(part)
            elif len(part) == 1:
                bad.append((part[0], why))
            else:
                for piece in (part[:len(part) // 2], part[len(part) // 2:]):
                    split(piece, self._run_issue(sender, token_id, piece, hooks))

        split(claims, reason)
        for claim, why in bad:
            data = _issue_data(token_id, [claim])
            if claim.id in hooks and self._passes_without_code(sender, data, _issue_bound([claim], hooks),
                                                               [claim.recipient]):
                self._refused_by_recipient(session, claim, why)
            else:
                self._retry_or_fail(claim, why)
        # each passed on its own or with its half; together they may not (a hook that minds who else gets a badge):
        # fewer at a time, the rest wait in the queue for the next batch
        while len(good) > 1 and self._run_issue(sender, token_id, good, hooks):
            good = good[:len(good) // 2]
        return good

    def _refused_by_recipient(self, session: Session, claim: Claim, reason: str) -> None:
        """`claim`'s recipient's code turned its badge down: it fails for good with the hook's reason, and the address
        is kept with the hash of its code."""
        code = self._call(lambda: bytes(self.w3.eth.get_code(claim.recipient, "latest")))
        if not code:  # the code went away since the run (e.g. a delegation cleared): nothing to keep, try again
            self._retry_or_fail(claim, reason)
            return
        refusals.record(session, address=claim.recipient, code="0x" + keccak(code).hex(), reason=reason)
        self._retry_or_fail(claim, f"the recipient's wallet refused the badge: {reason}", final=True)
        log.warning("claim %s: %s refused the badge of event %s: %s", claim.id, claim.recipient, claim.event_id,
                    reason)

    def _sort_out_reverted(self, session: Session, tx: OutboundTx, claims: list[Claim]) -> None:
        """An issue batch reverted on chain (not out of gas): its claims go back to the queue without an attempt and are
        sorted out now, by runs in the node against the block that reverted it, as a batch whose run failed before it
        was signed (`_issue_event`): e.g. a hook that accepted in the run and refused in the block is refusing still.
        When the whole batch passes again (the hook changed its mind back), nobody can be told apart: the claims whose
        recipient may have code (all of them when none may) use an attempt and go again alone, so a hook that changes
        its mind every block still ends, with MAX_CLAIM_ATTEMPTS."""
        for claim in claims:
            claim.status, claim.tx_id = ClaimStatus.accepted, None
        token_id = claims[0].event.token_id
        hooks = _hooks_of(claims, self._wallets_of(session, claims))
        reason = self._run_issue(tx.sender, token_id, claims, hooks)
        if reason is None:
            for claim in [c for c in claims if c.id in hooks] or claims:
                self._retry_or_fail(claim, "the issuance transaction reverted")
        elif self._passes_without_code(tx.sender, _issue_data(token_id, claims), _issue_bound(claims, hooks),
                                       [c.recipient for c in claims if c.id in hooks]):
            self._sort_out_claims(session, tx.sender, token_id, claims, hooks, reason)
        else:  # the event's or the organization's doing (e.g. its window closed): every claim uses an attempt
            for claim in claims:
                self._retry_or_fail(claim, reason)

    def _run_issue(self, sender: str, token_id: int, claims: list[Claim], hooks: set[int]) -> str | None:
        """Why an issue of `claims` with its upper bound would fail now, else None: one run in the node."""
        return self._simulate(sender, self.contracts.badges.address, _issue_data(token_id, claims),
                              _issue_bound(claims, hooks))

    def _passes_without_code(self, sender: str, data: str, gas: int, addresses: list[str]) -> bool:
        """Whether `data` sent to the badge contract passes when `addresses` have no code (one run in the node with a
        state override): then their code, a receiver hook, is what makes it fail. Without addresses, False."""
        if not addresses:
            return False
        call = {"from": sender, "to": self.contracts.badges.address, "data": data, "gas": hex(gas)}
        overrides = {address: {"code": "0x"} for address in addresses}
        response = self._call(lambda: self.w3.provider.make_request("eth_call", [call, "latest", overrides]))
        return not response.get("error")

    def _refused_migration(self, session: Session, export: WalletExport, data: str, reason: str) -> str | None:
        """A migration failed with `reason`: when it passes without the new address's code, that wallet's hook turned
        the badges down. The address is kept with its code, as for a claim (a new move there is refused until the code
        changes); returns the failure to show. None when the hook is not to blame."""
        if not self._passes_without_code(self.relayer.address, data, timing.TX_GAS_CAP, [export.to_address]):
            return None
        code = self._call(lambda: bytes(self.w3.eth.get_code(export.to_address, "latest")))
        if code:
            refusals.record(session, address=export.to_address, code="0x" + keccak(code).hex(), reason=reason)
        log.warning("export %s: %s refused the badges: %s", export.id, export.to_address, reason)
        return f"the wallet refused the badges: {reason}"

    @staticmethod
    def _wallets_of(session: Session, claims: list[Claim]) -> dict[int, tuple[str, WalletKind]]:
        """The address and kind of wallet of each claim's member (one query)."""
        return {user_id: (address, kind) for user_id, address, kind in session.execute(
            select(User.id, User.wallet_address, User.wallet_kind).where(
                User.id.in_({c.user_id for c in claims if c.user_id is not None}))).all()}

    def _migrate_wallets(self) -> None:
        with self.sessions.begin() as session:
            for export in session.scalars(select(WalletExport).where(WalletExport.status == ExportStatus.pending)).all():
                args = [export.from_address, export.to_address, export.deadline, export.signature]
                data = self.contracts.badges.encode_abi("migrateWithSignature", args=args)

                def failed(reason: str, export=export, data=data) -> None:
                    export.status = ExportStatus.failed
                    export.failure = self._refused_migration(session, export, data, reason) or reason

                tx = self._sign(session, self.relayer, self.contracts.badges.address, data, "migrate", export.id,
                                None, on_revert=failed)
                if tx is not None:
                    export.status = ExportStatus.submitted
                    export.tx_id = tx.id

    # ------------------------------------------------------------------ steps that move transactions on

    def _broadcast_signed(self) -> None:
        with self.sessions.begin() as session:
            # in the order they were signed (each key's nonces in order): the round-robin's order, so that one
            # organization's transactions of a tick are not all sent before another's
            for tx in session.scalars(select(OutboundTx).where(OutboundTx.status == TxStatus.signed)
                                      .order_by(OutboundTx.id)).all():
                self._send(session, tx)

    def _follow_broadcast(self) -> None:
        head = self._call(lambda: self.w3.eth.block_number)
        with self.sessions() as session:
            ids = session.scalars(select(OutboundTx.id).where(OutboundTx.status == TxStatus.broadcast)).all()
        for tx_id in ids:  # each transaction settles in its own database transaction: one failure stops no other
            try:
                with self.sessions.begin() as session:
                    tx = session.get(OutboundTx, tx_id)
                    receipt = self._receipt_of(tx)
                    if receipt is None:
                        now = utcnow()
                        if now - _aware(tx.fee_bumped_at or tx.created_at) > timedelta(seconds=timing.REPLACE_AFTER_S):
                            self._bump_fees(session, tx)
                        elif now - _aware(tx.updated_at) > timedelta(seconds=timing.REBROADCAST_AFTER_S):
                            self._send(session, tx)
                        continue
                    if head - receipt["blockNumber"] + 1 >= self.confirmations:
                        self._settle(session, tx, receipt)
            except NodeError:
                raise
            except Exception:  # noqa: BLE001 - logged, retried next tick
                log.exception("settling transaction %s failed", tx_id)

    def _bump_fees(self, session: Session, tx: OutboundTx) -> None:
        """Replaces a stuck transaction: the same call with the same nonce, signed again with both fees raised by at
        least FEE_BUMP and the fee cap above twice the current base fee. Stored before it is sent, like any other."""
        fields = TypedTransaction.from_bytes(HexBytes(tx.raw)).as_dict()
        base_fee = self._call(lambda: self.w3.eth.get_block("latest")).get("baseFeePerGas", 0)
        tip = max(_bumped(fields["maxPriorityFeePerGas"]), self.priority_fee_wei)
        max_fee = max(_bumped(fields["maxFeePerGas"]), 2 * base_fee + tip)
        if self.max_fee_per_gas_wei is not None and max_fee > self.max_fee_per_gas_wei:
            if _bumped(fields["maxFeePerGas"]) > self.max_fee_per_gas_wei:
                return  # a replacement would pass the sponsor's cap: it waits for the base fee to fall
            max_fee, tip = self.max_fee_per_gas_wei, min(tip, self.max_fee_per_gas_wei)
        account = self._signer_of(session, tx.sender)
        if account.address != self.relayer.address and not self._funded(
                session, account.address, fields["gas"] * max_fee + fields["value"], *self._funding_of(session, tx)):
            return  # the higher fees need a top-up first; it is on its way
        signed = account.sign_transaction({
            "chainId": fields["chainId"], "nonce": tx.nonce, "to": fields["to"], "data": fields["data"],
            "value": fields["value"], "gas": fields["gas"], "type": 2,
            "maxPriorityFeePerGas": tip, "maxFeePerGas": max_fee,
        })
        tx.replaced_hashes = [*tx.replaced_hashes, tx.tx_hash]
        tx.tx_hash = "0x" + signed.hash.hex().removeprefix("0x")
        tx.raw = bytes(signed.raw_transaction)
        tx.fee_bumped_at = utcnow()
        session.flush()  # stored before it is sent: a crash now re-sends the replacement
        log.warning("tx nonce %d of %s stuck: replaced by %s (fee cap %d, tip %d)", tx.nonce, tx.sender, tx.tx_hash,
                    max_fee, tip)
        self._send(session, tx)

    @staticmethod
    def _funding_of(session: Session, tx: OutboundTx) -> tuple[str, int | None, int]:
        """How the key behind `tx` is topped up (as `_sign` would): an organization's, or a member's."""
        if tx.organization_id is not None:
            return "fund", tx.organization_id, timing.TOP_UP_FACTOR
        user_id = session.scalar(select(CustodialKey.user_id).where(CustodialKey.address == tx.sender))
        return "fund_member", user_id, timing.MEMBER_TOP_UP_FACTOR

    def _signer_of(self, session: Session, address: str) -> LocalAccount:
        """The key behind a stored transaction: the relayer's, an organization's issuer key, or a member's."""
        account = self._accounts.get(address)
        if account is not None:
            return account
        org = session.scalar(select(Organization).where(Organization.issuer_address == address))
        if org is not None:
            return self._account_of(org)
        custodial = session.scalar(select(CustodialKey).where(CustodialKey.address == address))
        if custodial is None:
            raise LookupError(f"no key for {address}")
        return self.vault.open(SealedKey(custodial.address, custodial.sealed))

    def _settle(self, session: Session, tx: OutboundTx, receipt) -> None:
        tx.tx_hash = "0x" + bytes(receipt["transactionHash"]).hex().removeprefix("0x")  # the version that was mined
        tx.gas_used = receipt["gasUsed"]
        tx.block_number = receipt["blockNumber"]
        tx.block_hash = blocks.hash_hex(receipt["blockHash"])
        # What the sponsor paid, reverted or not, charged to the budget it was sent for: the organization's, or the
        # community's governance budget (OutboundTx.organization_id; set by `_store`).
        price = receipt.get("effectiveGasPrice")
        # OP-stack chains (Base, Soneium) also charge the L1 data fee, which their receipts carry as `l1Fee`
        tx.fee_paid = None if price is None else receipt["gasUsed"] * price + _wei(receipt.get("l1Fee"))
        if tx.organization_id is not None:
            session.execute(
                update(Organization).where(Organization.id == tx.organization_id)
                .values(gas_used=Organization.gas_used + receipt["gasUsed"])
            )
        else:
            governance_budget.charge(session, receipt["gasUsed"])
        if receipt["status"] != 1:
            tx.status = TxStatus.reverted
            tx.last_error = "reverted on chain"
            if self._resend_out_of_gas(session, tx, receipt):
                return
            claims = session.scalars(select(Claim).where(Claim.tx_id == tx.id).order_by(Claim.id)).all()
            if len(claims) > 1:  # one hostile recipient must not cost the whole batch an attempt
                self._sort_out_reverted(session, tx, claims)
            elif claims:
                self._retry_or_fail(claims[0], "the issuance transaction reverted")
            if tx.purpose == "migrate":
                export = session.get(WalletExport, tx.subject_id)
                data = TypedTransaction.from_bytes(HexBytes(tx.raw)).as_dict()["data"]
                data = data if isinstance(data, str) else "0x" + bytes(data).hex()
                reason = self._simulate(tx.sender, self.contracts.badges.address, data, timing.TX_GAS_CAP)
                export.status = ExportStatus.failed
                export.failure = ((reason and self._refused_migration(session, export, data, reason))
                                  or "the migration transaction reverted")
            self._unsettle_governance(session, tx, f"the {tx.purpose} transaction reverted")
            log.warning("tx %s (%s) reverted", tx.tx_hash, tx.purpose)
            return
        tx.status = TxStatus.mined
        if tx.purpose in PURPOSES_READING_EVENTS:
            receipt = self._call(lambda: self.w3.eth.get_transaction_receipt(receipt["transactionHash"]))
        badges = self.contracts.badges
        if tx.purpose == "register_organization":
            created = badges.events.OrganizationCreated().process_receipt(receipt, errors=DISCARD)
            session.get(Organization, tx.subject_id).chain_id = created[0]["args"]["organizationId"]
        elif tx.purpose == "grant_issuer":
            session.get(Organization, tx.subject_id).registered = True
        elif tx.purpose == "revoke_issuer":
            session.get(Organization, tx.subject_id).registered = False
        elif tx.purpose == "create_event":
            created = badges.events.EventCreated().process_receipt(receipt, errors=DISCARD)
            session.get(Event, tx.subject_id).token_id = created[0]["args"]["eventId"]
            # on chain: its receipt counts from now on instead of the estimate reserved when it was made
            gas_budget.release_gas(session, tx.organization_id, gas_budget.EVENT_GAS_ESTIMATE)
        elif tx.purpose == "migrate":
            self._finish_export(session, session.get(WalletExport, tx.subject_id))
        else:
            self._settle_governance(session, tx, receipt)
        # one UPDATE for the whole batch, instead of loading and flushing every claim object of it
        confirmed = session.execute(update(Claim).where(Claim.tx_id == tx.id)
                                    .values(status=ClaimStatus.confirmed, confirmed_at=utcnow())
                                    .execution_options(synchronize_session=False)).rowcount
        if confirmed and tx.organization_id is not None:
            gas_budget.release(session, tx.organization_id, confirmed)

    def _resend_out_of_gas(self, session: Session, tx: OutboundTx, receipt) -> bool:
        """A transaction that ran out of gas is signed again, once, with twice the gas it used, and its work (claims,
        export, votes, ...) moves to the new one as it is: a limit that fell short says nothing against the work, so
        no attempt is used and no export fails. False (settle it as any revert) for another revert, for a re-send,
        and at the cap."""
        if receipt["gasUsed"] < tx.gas_limit * timing.OUT_OF_GAS_USED or tx.gas_limit >= timing.TX_GAS_CAP:
            return False
        if session.scalar(select(OutboundTx.id).where(OutboundTx.last_error == _resent_as(tx.id))) is not None:
            return False
        fields = TypedTransaction.from_bytes(HexBytes(tx.raw)).as_dict()
        gas = min(2 * receipt["gasUsed"], timing.TX_GAS_CAP)
        base_fee = self._call(lambda: self.w3.eth.get_block("latest")).get("baseFeePerGas", 0)
        max_fee = self._fee_cap(base_fee)
        account = self._signer_of(session, tx.sender)
        if account.address != self.relayer.address and not self._funded(
                session, account.address, gas * max_fee + fields["value"], *self._funding_of(session, tx)):
            # a top-up is on its way: the work waits in the queue, as after a superseded transaction
            self._requeue(session, tx, "ran out of gas; back in the queue until its key is topped up")
            return True
        resent = self._store(session, account, fields["to"], fields["data"], fields["value"], gas, max_fee,
                             tx.purpose, tx.subject_id, tx.organization_id)
        tx.last_error = _resent_as(resent.id)
        for model in WAITING_ON_TX:
            session.execute(update(model).where(model.tx_id == tx.id).values(tx_id=resent.id)
                            .execution_options(synchronize_session=False))
        log.warning("tx %s (%s) ran out of gas (%d of %d): sent again with %d gas as %s", tx.tx_hash, tx.purpose,
                    receipt["gasUsed"], tx.gas_limit, gas, resent.tx_hash)
        return True

    @staticmethod
    def _finish_export(session: Session, export: WalletExport) -> None:
        """Everything is at the member's own address now: point the account there. The custodial key stays sealed
        until the migration's block is final (reorgs.py `_destroy_exported_keys`): a reorg may still hand the badges
        back to the custodial address."""
        export.status = ExportStatus.done
        user = session.get(User, export.user_id) if export.user_id is not None else None
        if user is not None:
            user.wallet_address = export.to_address
            user.wallet_kind = WalletKind.own

    # ------------------------------------------------------------------ helpers

    def _sign(self, session, account, to, data, purpose, subject_id, organization_id, on_revert=None,
              funding: tuple[str, int, int] | None = None, gas_limit: int | None = None,
              history_entries: int | None = None) -> OutboundTx | None:
        """Estimates, signs and stores a transaction from `account` (None if it would revert: `on_revert` gets the
        reason). A key other than the relayer's is funded first when it cannot pay: `funding` is (purpose, subject,
        top-up factor) of that top-up; by default the organization's, topped up TOP_UP_FACTOR times the cost.
        `gas_limit`: the caller's upper bound of what the call costs in any block, checked a moment ago by a run in
        the node (no estimate then). Otherwise the limit is the estimate with its margin, plus the voting-history
        entries the call may write in its block but not in the estimate's (`history_entries`, by default the
        purpose's in timing.HISTORY_ENTRIES)."""
        try:
            if gas_limit is None:
                estimate = self._call(lambda: self.w3.eth.estimate_gas({"from": account.address, "to": to,
                                                                        "data": data}))
        except (ContractCustomError, ContractLogicError) as exc:
            reason = self._reason(exc)
            log.warning("%s for %s %s would revert: %s", purpose, "subject", subject_id, reason)
            if on_revert:
                on_revert(reason)
            return None
        if gas_limit is None:
            entries = timing.HISTORY_ENTRIES.get(purpose, 0) if history_entries is None else history_entries
            gas_limit = min(int(estimate * timing.GAS_MARGIN) + entries * timing.HISTORY_ENTRY_GAS, timing.TX_GAS_CAP)
        base_fee = self._call(lambda: self.w3.eth.get_block("latest")).get("baseFeePerGas", 0)
        max_fee = self._fee_cap(base_fee)
        if funding is None:
            funding = ("fund", organization_id, timing.TOP_UP_FACTOR)
        if account.address != self.relayer.address and not self._funded(session, account.address,
                                                                          gas_limit * max_fee, *funding):
            return None  # a top-up from the relayer is on its way; this work waits for it
        return self._store(session, account, to, data, 0, gas_limit, max_fee, purpose, subject_id, organization_id)

    def _store(self, session, account, to, data, value, gas, max_fee, purpose, subject_id, organization_id):
        if organization_id is None and purpose in CHARGED_TO_SUBJECT:
            organization_id = subject_id  # sent by the relayer's key, for (and charged to) that organization
        nonce = self._next_nonce(session, account.address)
        signed = account.sign_transaction({
            "chainId": self.chain_id, "nonce": nonce, "to": to, "data": data, "value": value, "gas": gas, "type": 2,
            "maxPriorityFeePerGas": self.priority_fee_wei, "maxFeePerGas": max_fee,
        })
        tx = OutboundTx(
            sender=account.address, nonce=nonce, purpose=purpose, organization_id=organization_id,
            subject_id=subject_id, tx_hash="0x" + signed.hash.hex().removeprefix("0x"), raw=bytes(signed.raw_transaction),
            status=TxStatus.signed, gas_limit=gas,
        )
        session.add(tx)
        session.flush()
        return tx

    def _funded(self, session: Session, address: str, cost: int, purpose: str, subject_id: int | None,
                factor: int) -> bool:
        """Organization and member keys hold only what their transactions need: the relayer (the sponsor's key) tops
        them up. True when `address` can pay `cost` now; otherwise a top-up to `factor` times `cost` is queued (once
        per purpose and subject) and False is returned."""
        if cost == 0:
            return True
        balance = self._call(lambda: self.w3.eth.get_balance(address))
        if balance >= cost:
            return True
        if subject_id is not None and self._has_live(session, purpose, subject_id, settled=False):
            return False
        base_fee = self._call(lambda: self.w3.eth.get_block("latest")).get("baseFeePerGas", 0)
        amount = max(cost * factor - balance, 0)
        # an organization's top-up is charged to the organization, a member's (for a proposal) to governance
        self._store(session, self.relayer, address, b"", amount, timing.TOP_UP_GAS,
                    self._fee_cap(base_fee), purpose, subject_id,
                    subject_id if purpose == "fund" else None)
        log.info("topping up %s with %d wei", address, amount)
        return False

    def _send(self, session: Session, tx: OutboundTx) -> None:
        try:
            self.w3.eth.send_raw_transaction(tx.raw)
        except (Web3RPCError, ValueError) as exc:
            message = str(exc).lower()
            if "already known" in message or "known transaction" in message:
                pass  # the node has it: that is what we wanted
            elif "nonce too low" in message:
                if self._receipt_of(tx) is None:
                    self._supersede(session, tx, "its nonce was used by another transaction")
                    return
            else:
                tx.last_error = redact(str(exc))[:500]
                log.warning("broadcast of %s failed: %s", tx.tx_hash, exc)
                return
        except (ConnectionError, OSError) as exc:
            raise NodeError(redact(str(exc))) from exc
        tx.status = TxStatus.broadcast
        tx.broadcasts += 1
        tx.updated_at = utcnow()

    def _supersede(self, session: Session, tx: OutboundTx, reason: str) -> None:
        tx.status = TxStatus.superseded
        # rare, and worth an operator's look: the key was used from outside, or the node lost a transaction
        log.warning("tx %s (%s, nonce %d of %s) superseded: %s", tx.tx_hash, tx.purpose, tx.nonce, tx.sender, reason)
        self._requeue(session, tx, reason)

    def _requeue(self, session: Session, tx: OutboundTx, reason: str) -> None:
        """The work of `tx` goes back to the queue without using an attempt: not its fault that `tx` did not do it."""
        tx.last_error = reason
        for claim in session.scalars(select(Claim).where(Claim.tx_id == tx.id)).all():
            claim.status = ClaimStatus.accepted
            claim.tx_id = None
        if tx.purpose == "migrate":
            export = session.get(WalletExport, tx.subject_id)
            if export is not None and export.status == ExportStatus.submitted:
                export.status, export.tx_id = ExportStatus.pending, None
        self._unsettle_governance(session, tx, reason, attempt=False)

    def _retry_or_fail(self, claim: Claim, reason: str, *, final: bool = False) -> None:
        claim.attempts += 1
        claim.tx_id = None
        if final or claim.attempts >= timing.MAX_CLAIM_ATTEMPTS:
            claim.status = ClaimStatus.failed
            claim.failure = reason
            session = object_session(claim)
            gas_budget.release(session, claim.event.organization_id, 1)
            allowance.release(session, claim.event.organization_id, claim.event.points, allowance.limits_of(session),
                              utcnow())
        else:
            claim.status = ClaimStatus.accepted

    def _fail_claims(self, claims: list[Claim], reason: str) -> None:
        for claim in claims:
            self._retry_or_fail(claim, reason)

    def _next_nonce(self, session: Session, sender: str) -> int:
        stored = session.scalar(select(func.max(OutboundTx.nonce)).where(OutboundTx.sender == sender))
        chain = self._call(lambda: self.w3.eth.get_transaction_count(sender, "pending"))
        return max(chain, -1 if stored is None else stored + 1)

    def _has_live(self, session: Session, purpose: str, subject_id: int, settled: bool = True) -> bool:
        """A transaction for this purpose and subject is on its way (or, with `settled`, done: a reverted one may be
        tried again)."""
        statuses = (*LIVE, TxStatus.mined) if settled else LIVE
        return session.scalar(
            select(func.count()).select_from(OutboundTx).where(
                OutboundTx.purpose == purpose, OutboundTx.subject_id == subject_id, OutboundTx.status.in_(statuses),
            )
        ) > 0

    def _already_holding(self, token_id: int, recipients: list[str]) -> set[str]:
        # read without web3's contract-call machinery, which formatted and validated every address of the batch, a
        # large share of the background worker's CPU in a festival burst (docs/benchmarks.md)
        balances = self._call(lambda: reads.read(self.contracts.badges, "balanceOfBatch(address[],uint256[])",
                                                 recipients, [token_id] * len(recipients), returns="uint256[]"))
        return {r for r, b in zip(recipients, balances) if b}

    def _account_of(self, org: Organization) -> LocalAccount:
        account = self._accounts.get(org.issuer_address)
        if account is None:
            account = self.vault.open(SealedKey(org.issuer_address, org.issuer_key))
            self._accounts[org.issuer_address] = account
        return account

    def _receipt_of(self, tx: OutboundTx):
        """The receipt of whichever version of `tx` was mined (fee bumps make several), or None."""
        for tx_hash in (tx.tx_hash, *reversed(tx.replaced_hashes or [])):
            receipt = self._receipt(tx_hash)
            if receipt is not None:
                return receipt
        return None

    def _receipt(self, tx_hash: str):
        """The receipt's outcome (status, gasUsed, effectiveGasPrice, blockNumber, transactionHash), or None while it
        is not mined. Raw JSON-RPC: web3's receipt formatting reads every log of it (300 for a batch of 100 claims) and
        was a large part of the relayer's CPU in a festival burst; the few settlements that need the logs read the
        full receipt (`_settle`)."""
        response = self._call(lambda: self.w3.provider.make_request("eth_getTransactionReceipt", [tx_hash]))
        if response.get("error"):
            raise NodeError(f"eth_getTransactionReceipt: {response['error']}")
        raw = response.get("result")
        if not raw or raw.get("blockNumber") is None:
            return None
        price = raw.get("effectiveGasPrice")
        return {"transactionHash": HexBytes(raw["transactionHash"]), "status": int(raw["status"], 16),
                "gasUsed": int(raw["gasUsed"], 16), "blockNumber": int(raw["blockNumber"], 16),
                "blockHash": raw["blockHash"],
                "effectiveGasPrice": None if price is None else int(price, 16)}

    def _simulate(self, sender: str, to: str, data: str, gas: int) -> str | None:
        """Why sending `data` to `to` from `sender` with `gas` would fail now (a revert, out of gas), else None: one
        run in the node."""
        try:
            self._call(lambda: self.w3.eth.call({"from": sender, "to": to, "data": data, "gas": gas}))
        except (ContractCustomError, ContractLogicError) as exc:
            return self._reason(exc)
        except (Web3RPCError, ValueError) as exc:  # out of gas, the node's own cap
            return redact(str(exc))[:200]
        return None

    def _reason(self, exc: Exception) -> str:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data[:10] in self._errors:
            return self._errors[data[:10]]
        if isinstance(exc, ContractCustomError) and isinstance(data, str):  # e.g. a receiver hook's own error
            return f"custom error {data[:10]}" + (f" with 0x{data[10:]}" if len(data) > 10 else "")[:200]
        return redact(str(exc))[:200]

    @staticmethod
    def _call(fn):
        try:
            return fn()
        except (ConnectionError, OSError) as exc:  # requests' errors name the URL: its credentials go
            raise NodeError(redact(str(exc))) from exc
        except Exception as exc:
            if type(exc).__name__ in ("ConnectionError", "ReadTimeout", "ConnectTimeout"):
                raise NodeError(redact(str(exc))) from exc
            raise


# Everything that waits on a transaction by its tx_id: it moves to a re-send.
WAITING_ON_TX = (Claim, WalletExport, Vote, Delegation, Proposal)
# Settlements that read what the transaction emitted (the new ids; a proposal's window; a queued proposal's eta).
PURPOSES_READING_EVENTS = frozenset({"register_organization", "create_event", "propose", "queue"})
# Transactions of the relayer's own key whose subject is an organization: charged to that organization's budget.
CHARGED_TO_SUBJECT = frozenset({"register_organization", "grant_issuer", "revoke_issuer", "fund"})


def _issue_data(token_id: int, claims: list[Claim]) -> str:
    # encoded without web3's ABI lookup and per-address validation (a tenth of the worker's CPU in a burst)
    return "0x" + reads.encode_call("issue(uint256,address[])", token_id, [c.recipient for c in claims]).hex()


def _issue_bound(claims: list[Claim], hooks: set[int]) -> int:
    """The gas limit of an issue of `claims`: its upper bound in any block (timing.issue_gas)."""
    return timing.issue_gas(len(claims), hooks=sum(1 for c in claims if c.id in hooks))


def _hooks_of(claims: list[Claim], wallets: dict[int, tuple[str, WalletKind]]) -> set[int]:
    """The claims whose recipient may have code, and so a receiver hook: members' own wallets, and claims whose member
    is gone. A custodial address is a key the backend holds and never delegates (EIP-7702): it has no code."""
    return {c.id for c in claims if (wallets.get(c.user_id) or (None, WalletKind.own))[1] != WalletKind.custodial}


def _resent_as(tx_id: int) -> str:
    """The mark an out-of-gas transaction keeps of its re-send (its last_error): a re-send is re-sent no more."""
    return f"ran out of gas: sent again as transaction {tx_id}"


def _wei(value) -> int:
    """A receipt's optional amount: absent, an int, or a hex string (extra fields reach web3.py undecoded)."""
    if value is None:
        return 0
    return int(value, 16) if isinstance(value, str) else int(value)


def _bumped(fee: int) -> int:
    return fee + max(int(fee * timing.FEE_BUMP), 1)


def _ts(value: datetime) -> int:
    return int(_aware(value).timestamp())


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

