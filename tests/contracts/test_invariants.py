"""Stateful property test: random sequences of issue, claim, revoke, migrate, delegate and vote keep the books exact.

Invariants after every step: total points equal the sum of balances; total voting power equals total points; at most
one badge per (event, holder) and each event's issued count matches its holders; nothing moves except by migration
(the chain matches a model in which only migration moves badges); a vote weighs exactly the voter's power at the
proposal snapshot.
"""

from __future__ import annotations

import os

import brownie
from brownie import accounts, chain
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from scripts.kyoso_suite import GovernanceSettings, deploy_suite
from tests.contracts.conftest import DAY, now
from tools.devstack.eip712 import domain_of, sign_typed

EVENT_POINTS = [5, 7, 11]
CLAIM_TYPES = [("recipient", "address"), ("eventId", "uint256"), ("deadline", "uint256")]


MEMBER = st.integers(min_value=0, max_value=4)
EVENT = st.integers(min_value=0, max_value=len(EVENT_POINTS) - 1)
GROUP = st.lists(MEMBER, min_size=1, max_size=4, unique=True)


class KyosoBooks(RuleBasedStateMachine):
    """Each run starts from the same chain snapshot (see the test) and is reverted to it at teardown."""

    world = None  # (suite, issuer, members, event_ids, proposal_id), set by the test

    def __init__(self):
        super().__init__()
        suite, self.issuer, self.members, self.event_ids, self.proposal_id = self.world
        self.badges, self.points, self.governor = suite.badges, suite.points, suite.governor
        chain.snapshot()

    def teardown(self):
        chain.revert()

    @initialize()
    def setup(self):
        addresses = [m.address for m in self.members]
        self.holdings = {a: set() for a in addresses}
        self.revoked = set()
        self.delegate_of = {a: a for a in addresses}
        self.voted = set()
        # every member starts with the first event's badge, issued before the proposal's snapshot
        for a in addresses:
            self.holdings[a].add(self.event_ids[0])
        self.snapshot_votes = self._votes()

    # ------------------------------------------------------------ model

    def _balance(self, address):
        return sum(EVENT_POINTS[self.event_ids.index(e)] for e in self.holdings[address])

    def _votes(self):
        votes = {a: 0 for a in self.holdings}
        for a, d in self.delegate_of.items():
            votes[d] += self._balance(a)
        return votes

    # ------------------------------------------------------------ rules

    @rule(event=EVENT, group=GROUP)
    def issue(self, event, group):
        event_id = self.event_ids[event]
        recipients = [self.members[i].address for i in group if event_id not in self.holdings[self.members[i].address]]
        if not recipients:
            return
        self.badges.issue(event_id, recipients, {"from": self.issuer})
        for r in recipients:
            self.holdings[r].add(event_id)

    @rule(event=EVENT, member=MEMBER)
    def claim(self, event, member):
        event_id, recipient = self.event_ids[event], self.members[member].address
        deadline = now() + 3600
        message = {"recipient": recipient, "eventId": event_id, "deadline": deadline}
        signature = sign_typed(self.issuer.private_key, domain_of(self.badges), "Claim", CLAIM_TYPES, message)
        refused = event_id in self.holdings[recipient] or (event_id, recipient) in self.revoked
        if refused:
            with brownie.reverts():
                self.badges.claim(recipient, event_id, deadline, signature, {"from": accounts[8]})
            return
        self.badges.claim(recipient, event_id, deadline, signature, {"from": accounts[8]})
        self.holdings[recipient].add(event_id)

    @rule(event=EVENT, member=MEMBER)
    def revoke(self, event, member):
        event_id, holder = self.event_ids[event], self.members[member].address
        if event_id not in self.holdings[holder]:
            return
        self.badges.revoke(event_id, holder, "stateful test", {"from": self.issuer})
        self.holdings[holder].discard(event_id)
        self.revoked.add((event_id, holder))

    @rule(member=MEMBER, other=MEMBER)
    def migrate(self, member, other):
        source, target = self.members[member], self.members[other]
        if source == target:
            return
        self.badges.migrate(target, {"from": source})
        # the source gave these badges away: a voucher made out to it cannot issue them again
        self.revoked |= {(event_id, source.address) for event_id in self.holdings[source.address]}
        self.holdings[target.address] |= self.holdings[source.address]
        self.holdings[source.address] = set()
        self.delegate_of[source.address] = source.address

    @rule(member=MEMBER, other=MEMBER)
    def delegate(self, member, other):
        self.points.delegate(self.members[other], {"from": self.members[member]})
        self.delegate_of[self.members[member].address] = self.members[other].address

    @rule(member=MEMBER)
    def vote(self, member):
        voter = self.members[member]
        if voter.address in self.voted:
            return
        tx = self.governor.castVote(self.proposal_id, 1, {"from": voter})
        assert tx.events["VoteCast"]["weight"] == self.snapshot_votes[voter.address]
        self.voted.add(voter.address)

    # ------------------------------------------------------------ invariants

    @invariant()
    def books(self):
        if not hasattr(self, "holdings"):
            return
        votes = self._votes()
        total = self.points.totalSupply()
        for member in self.members:
            a = member.address
            assert sorted(self.badges.badgesOf(a)) == sorted(self.holdings[a])
            assert self.points.balanceOf(a) == self._balance(a)
            assert self.points.getVotes(a) == votes[a]
            assert self.points.delegates(a) == self.delegate_of[a]
        assert total == sum(self._balance(a) for a in self.holdings)
        assert total == sum(self.points.getVotes(m) for m in self.members)
        for event_id in self.event_ids:
            holders = sum(event_id in held for held in self.holdings.values())
            assert self.badges.eventInfo(event_id)[3] == holders


def test_books_stay_exact_under_random_sequences():
    deployer, registrar, org_admin = accounts[0], accounts[1], accounts[2]
    suite = deploy_suite(deployer, registrar.address, GovernanceSettings(voting_delay_s=1, proposal_threshold=1))
    issuer = accounts.add("0x" + "99" * 32)
    accounts[9].transfer(issuer, "5 ether")
    suite.badges.createOrganization(org_admin, {"from": registrar})
    suite.badges.grantRole(suite.badges.organizationIssuerRole(1), issuer, {"from": org_admin})
    members = list(accounts[3:8])
    t = now()
    event_ids = [
        suite.badges.createEvent(1, "", pts, t - 60, t + 30 * DAY, 0, {"from": issuer}).return_value
        for pts in EVENT_POINTS
    ]
    suite.badges.issue(event_ids[0], members, {"from": issuer})
    proposal_id = suite.governor.propose([suite.timelock], [0], ["0x"], "stateful", {"from": members[0]}).return_value
    chain.sleep(3)
    chain.mine()
    KyosoBooks.world = (suite, issuer, members, event_ids, proposal_id)
    run_state_machine_as_test(
        KyosoBooks, settings=settings(max_examples=int(os.environ.get("KYOSO_STATEFUL_EXAMPLES", "20")),
                                      stateful_step_count=12, deadline=None, database=None)
    )
