"""The relayer's governance steps: custodial members' proposals, signed votes and delegations, and queuing and
executing passed proposals. A mixin of `Relayer` (backend/relayer/service.py), whose helpers it uses: one writer per
key, every transaction stored signed before it is sent. States and timing: backend/relayer/timing.py.
"""

from __future__ import annotations

import logging
import time

from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.logs import DISCARD

from backend.accounts.models import User
from backend.governance import ballots
from backend.governance.actions import Actions
from backend.governance.models import Delegation, Proposal, RelayStatus, Vote
from backend.platform.keys import SealedKey
from backend.platform.models import OutboundTx
from backend.platform.orm import utcnow
from backend.relayer import timing

log = logging.getLogger("kyoso.relayer")

# IGovernor.ProposalState values the relayer acts on
PENDING, SUCCEEDED, QUEUED = (ballots.PROPOSAL_STATES.index(s) for s in ("pending", "succeeded", "queued"))
CLOSED = {ballots.PROPOSAL_STATES.index(s): s for s in ("canceled", "defeated", "expired", "executed")}


class GovernanceRelaying:
    """Mixed into `Relayer`; relies on its `_sign`, `_call`, `_reason`, `_has_live` and friends."""

    # ------------------------------------------------------------------ proposals

    def _submit_proposals(self) -> None:
        governor = self.contracts.governor
        with self.sessions.begin() as session:
            proposing = set(session.scalars(select(Proposal.proposer_user_id)
                                            .where(Proposal.status == RelayStatus.submitted)).all())
            for proposal in session.scalars(select(Proposal).where(Proposal.status == RelayStatus.accepted)
                                            .order_by(Proposal.id)).all():
                # one `propose` at a time per member key: its funding covers exactly one transaction
                if proposal.proposer_user_id in proposing or self._has_live(session, "propose", proposal.id):
                    continue
                user = session.get(User, proposal.proposer_user_id) if proposal.proposer_user_id else None
                if user is None or user.custodial_key is None or user.wallet_address != proposal.proposer_address:
                    proposal.status, proposal.failure = RelayStatus.failed, "the proposer's custodial wallet is gone"
                    continue
                pid = int(proposal.proposal_id)
                snapshot = self._call(lambda: governor.functions.proposalSnapshot(pid).call())
                if snapshot:  # on chain already (an earlier transaction of ours whose receipt was never recorded)
                    proposal.status, proposal.snapshot = RelayStatus.confirmed, snapshot
                    proposal.deadline = self._call(lambda: governor.functions.proposalDeadline(pid).call())
                    continue
                account = self.vault.open(SealedKey(user.custodial_key.address, user.custodial_key.sealed))
                actions = Actions.from_json(proposal.actions)
                data = governor.encode_abi("propose", args=[actions.targets, actions.values, actions.calldatas,
                                                             proposal.description])

                def failed(reason: str, proposal=proposal) -> None:
                    proposal.status, proposal.failure = RelayStatus.failed, reason

                tx = self._sign(session, account, governor.address, data, "propose", proposal.id, None,
                                on_revert=failed, funding=("fund_member", user.id, timing.MEMBER_TOP_UP_FACTOR))
                if tx is not None:
                    proposal.status, proposal.tx_id = RelayStatus.submitted, tx.id
                    proposing.add(proposal.proposer_user_id)

    def _advance_proposals(self) -> None:
        """Queues succeeded proposals and executes queued ones whose timelock delay has passed (all of them with
        auto-execute, else those someone asked for); notes proposals that can change no more, also one executed
        directly in the timelock, which the governor reports executed without an event of its own."""
        if time.monotonic() < self._next_advance:
            return
        self._next_advance = time.monotonic() + timing.ADVANCE_EVERY_S
        governor = self.contracts.governor
        with self.sessions.begin() as session:
            candidates = session.scalars(select(Proposal).where(
                Proposal.status == RelayStatus.confirmed, Proposal.closed_state.is_(None),
                Proposal.deadline.is_not(None))).all()
            if not candidates:
                return
            now = self._call(lambda: self.w3.eth.get_block("latest"))["timestamp"]
            for proposal in candidates:
                if now <= proposal.deadline:
                    continue  # still voting
                pid = int(proposal.proposal_id)
                state = self._call(lambda: governor.functions.state(pid).call())
                if state in CLOSED:
                    proposal.closed_state = CLOSED[state]
                    if proposal.closed_state == "executed" and proposal.executed_at is None:
                        proposal.executed_at = utcnow()
                elif not (self.auto_execute or proposal.advance_requested):
                    continue
                elif state == SUCCEEDED and not self._has_live(session, "queue", proposal.id):
                    self._send_governor_call(session, proposal, "queue")
                elif state == QUEUED and not self._has_live(session, "execute", proposal.id):
                    eta = self._call(lambda: governor.functions.proposalEta(pid).call())
                    if eta and now >= eta:
                        self._send_governor_call(session, proposal, "execute")

    def _send_governor_call(self, session: Session, proposal: Proposal, function: str) -> None:
        actions = Actions.from_json(proposal.actions)
        description_hash = keccak(text=proposal.description)
        data = self.contracts.governor.encode_abi(function, args=[actions.targets, actions.values, actions.calldatas,
                                                                   description_hash])

        def failed(reason: str) -> None:
            log.warning("%s of proposal %s would revert: %s", function, proposal.id, reason)

        self._sign(session, self.relayer, self.contracts.governor.address, data, function, proposal.id, None,
                   on_revert=failed)

    # ------------------------------------------------------------------ votes

    def _relay_votes(self) -> None:
        with self.sessions.begin() as session:
            queued = session.scalars(select(Vote).where(Vote.status == RelayStatus.accepted).order_by(Vote.id)
                                     .limit(timing.MAX_VOTE_BATCH)).all()
            if not queued:
                return
            waited = (utcnow() - min(v.created_at for v in queued)).total_seconds()
            if len(queued) < timing.MAX_VOTE_BATCH and waited < timing.BATCH_WINDOW_S:
                return  # wait a moment for company
            proposals = {p.id: p for p in session.scalars(
                select(Proposal).where(Proposal.id.in_({v.proposal_id for v in queued}))).all()}
            calls, votes, budget = {}, [], timing.VOTE_TX_GAS
            for vote in queued:  # as many as one transaction may hold in the worst case
                call = ballots.cast_call(int(proposals[vote.proposal_id].proposal_id),
                                         vote.support, vote.voter, vote.reason, vote.signature)
                cost = timing.VOTE_GAS_BASE + timing.VOTE_GAS_PER_BYTE * (len(call) // 2)
                if votes and budget + cost > timing.TX_GAS_CAP:
                    break
                budget += cost
                calls[vote.id] = call
                votes.append(vote)
            data = self._multicall(list(calls.values()))
            # The batch is checked by one run in the node (eth_call) and sent with the budget as its gas limit: the
            # budget bounds what each ballot costs in any block (timing.VOTE_GAS_BASE), and unused gas is not paid. A
            # gas estimate is a binary search of many runs of the whole batch, most of the relayer's time in a vote
            # burst (docs/benchmarks.md). Only a batch that fails that run is sorted out, with estimates (their
            # margin covers what a later block may add: votes write no voting history).
            governor = self.contracts.governor.address
            gas_limit, reason = budget, self._simulate(self.relayer.address, governor, data, budget)
            if reason:
                votes = self._sort_out_votes(session, votes, proposals, calls)
                # each one alone is fine, together they are too much for one transaction: fewer at a time
                while len(votes) > 1 and self._would_revert(self._multicall([calls[v.id] for v in votes])):
                    votes = votes[:len(votes) // 2]
                if not votes:
                    return
                data, gas_limit = self._multicall([calls[v.id] for v in votes]), None

            def failed(reason: str) -> None:  # reverting after the batch was sorted out: e.g. a front-run just now
                for vote in votes:
                    self._retry_or_fail_relayed(vote, reason, attempt=len(votes) == 1)

            tx = self._sign(session, self.relayer, self.contracts.governor.address, data, "vote", None, None,
                            on_revert=failed, gas_limit=gas_limit)
            if tx is not None:
                for vote in votes:
                    vote.status, vote.tx_id = RelayStatus.submitted, tx.id

    def _sort_out_votes(self, session: Session, votes: list[Vote], proposals: dict[int, Proposal],
                        calls: dict[int, str]) -> list[Vote]:
        """A batch would revert: confirms the votes already on chain, leaves queued those whose proposal is not open on
        the chain yet, fails those that would revert on their own, and returns the rest."""
        governor, sendable = self.contracts.governor, []
        waiting = {p.id for p in proposals.values() if self._not_open_yet(p)}
        for vote in votes:
            if vote.proposal_id in waiting:
                continue
            pid = int(proposals[vote.proposal_id].proposal_id)
            if self._call(lambda: governor.functions.hasVoted(pid, vote.voter).call()):
                # The same signature was relayed by someone else (front-running it changes nothing: it is the
                # member's own vote), or by an earlier transaction of ours: either way the vote is counted.
                vote.status, vote.confirmed_at = RelayStatus.confirmed, utcnow()
                continue
            reason = self._would_revert(calls[vote.id])
            if reason:
                vote.status, vote.failure = RelayStatus.failed, reason
                log.warning("vote %s would revert: %s", vote.id, reason)
            else:
                sendable.append(vote)
        return sendable

    def _not_open_yet(self, proposal: Proposal) -> bool:
        """Voting on `proposal` has not started on the chain as the node sees it now. A vote is accepted only while the
        proposal is active, so this is a reorg's doing: the new branch's clock is behind the old one's, or the
        proposal's own transaction was taken out and is being sent again. Its votes wait for it (they would revert
        now) instead of failing; a proposal that failed for good takes its votes with it."""
        if proposal.status == RelayStatus.failed:
            return False
        try:
            state = self._call(lambda: self.contracts.governor.functions.state(int(proposal.proposal_id)).call())
        except (ContractCustomError, ContractLogicError):  # GovernorNonexistentProposal
            return True
        return state == PENDING

    def _multicall(self, calls: list[str]) -> str:
        return self.contracts.governor.encode_abi("multicall", args=[[bytes.fromhex(c[2:]) for c in calls]])

    def _would_revert(self, data: str) -> str | None:
        """Why sending `data` to the governor from the relayer would fail now (a revert, or more gas than one
        transaction may use), else None."""
        try:
            gas = self._call(lambda: self.w3.eth.estimate_gas({"from": self.relayer.address,
                                                               "to": self.contracts.governor.address, "data": data}))
        except (ContractCustomError, ContractLogicError) as exc:
            return self._reason(exc)
        except (Web3RPCError, ValueError) as exc:  # e.g. the node's own gas cap
            return str(exc)[:200]
        if gas * timing.GAS_MARGIN > timing.TX_GAS_CAP:
            return f"needs {gas} gas, more than one transaction may use"
        return None

    @staticmethod
    def _retry_or_fail_relayed(item: Vote | Delegation, reason: str, attempt: bool = True) -> None:
        """Back to the queue; a vote whose transactions reverted MAX_CLAIM_ATTEMPTS times fails with the reason."""
        if isinstance(item, Vote) and attempt:
            item.attempts += 1
            if item.attempts >= timing.MAX_CLAIM_ATTEMPTS:
                item.status, item.failure, item.tx_id = RelayStatus.failed, reason, None
                return
        item.status, item.tx_id = RelayStatus.accepted, None

    # ------------------------------------------------------------------ delegations

    def _relay_delegations(self) -> None:
        points = self.contracts.points
        with self.sessions.begin() as session:
            for delegation in session.scalars(select(Delegation).where(Delegation.status == RelayStatus.accepted)
                                              .order_by(Delegation.id)).all():
                if delegation.expiry < time.time():
                    delegation.status, delegation.failure = RelayStatus.failed, "the signed delegation expired"
                    continue
                used = self._call(lambda d=delegation: points.functions.nonces(d.delegator).call()) > delegation.nonce
                if used:
                    current = self._call(lambda d=delegation: points.functions.delegates(d.delegator).call())
                    if current == delegation.delegatee:  # relayed already (by us earlier, or by someone else)
                        delegation.status = RelayStatus.confirmed
                    else:
                        delegation.status = RelayStatus.failed
                        delegation.failure = "a later delegation by the same member replaced it"
                    continue
                data = ballots.delegate_call(points, delegation.delegatee, delegation.nonce, delegation.expiry,
                                             delegation.signature)

                def failed(reason: str, delegation=delegation) -> None:
                    delegation.status, delegation.failure = RelayStatus.failed, reason

                tx = self._sign(session, self.relayer, points.address, data, "delegate", delegation.id, None,
                                on_revert=failed)
                if tx is not None:
                    delegation.status, delegation.tx_id = RelayStatus.submitted, tx.id

    # ------------------------------------------------------------------ settling

    def _settle_governance(self, session: Session, tx: OutboundTx, receipt) -> None:
        """A governance transaction was mined (status 1): record what it did."""
        governor = self.contracts.governor
        if tx.purpose == "vote":
            for vote in session.scalars(select(Vote).where(Vote.tx_id == tx.id)).all():
                vote.status, vote.confirmed_at = RelayStatus.confirmed, utcnow()
                vote.tx_hash, vote.block_number = tx.tx_hash, receipt["blockNumber"]
        elif tx.purpose == "delegate":
            session.get(Delegation, tx.subject_id).status = RelayStatus.confirmed
        elif tx.purpose == "propose":
            proposal = session.get(Proposal, tx.subject_id)
            created = governor.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
            if created:
                args = created[0]["args"]
                proposal.snapshot, proposal.deadline = args["voteStart"], args["voteEnd"]
            proposal.status, proposal.created_tx = RelayStatus.confirmed, tx.tx_hash
        elif tx.purpose == "queue":
            queued = governor.events.ProposalQueued().process_receipt(receipt, errors=DISCARD)
            proposal = session.get(Proposal, tx.subject_id)
            proposal.queued_tx = tx.tx_hash
            if queued:
                proposal.eta = queued[0]["args"]["etaSeconds"]
        elif tx.purpose == "execute":
            proposal = session.get(Proposal, tx.subject_id)
            proposal.executed_tx, proposal.executed_at, proposal.closed_state = tx.tx_hash, utcnow(), "executed"

    def _unsettle_governance(self, session: Session, tx: OutboundTx, reason: str, attempt: bool = True) -> None:
        """A governance transaction reverted (`attempt`) or was superseded: its work returns to the queue (a vote
        fails after too many reverted attempts; a delegation or proposal that would revert again fails at its next
        estimate, with the contract's reason)."""
        votes = session.scalars(select(Vote).where(Vote.tx_id == tx.id)).all()
        for vote in votes:
            # A batch that reverted is sorted out vote by vote before it is sent again (one front-run ballot must not
            # cost the others their attempts); a vote that reverted alone has used an attempt.
            self._retry_or_fail_relayed(vote, reason, attempt and len(votes) == 1)
        if tx.purpose == "delegate":
            self._retry_or_fail_relayed(session.get(Delegation, tx.subject_id), reason, attempt)
        elif tx.purpose == "propose":
            proposal = session.get(Proposal, tx.subject_id)
            if proposal.status == RelayStatus.submitted:
                proposal.status, proposal.tx_id = RelayStatus.accepted, None
