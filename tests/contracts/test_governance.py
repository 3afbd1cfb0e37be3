"""The full governance lifecycle on Anvil with time travel, in both counting modes."""

from __future__ import annotations

import math

import brownie
import pytest
from brownie import CommunityTestToken, Wei, accounts, chain, web3

from scripts.kyoso_suite import GovernanceSettings, deploy_suite
from tests.contracts.conftest import DAY, now
from tools.devstack.eip712 import domain_of, sign_typed
from tests.helpers.reverts import custom_error

BALLOT_TYPES = [("proposalId", "uint256"), ("support", "uint8"), ("voter", "address"), ("nonce", "uint256")]
EXTENDED_BALLOT_TYPES = BALLOT_TYPES + [("reason", "string"), ("params", "bytes")]
AGAINST, FOR, ABSTAIN = 0, 1, 2
PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)
SETTINGS = GovernanceSettings(voting_delay_s=3600, voting_period_s=3 * DAY, proposal_threshold=10, quorum_percent=10,
                              timelock_delay_s=DAY)


class Community:
    """A deployed suite with an organization, an event, and members holding 100, 49, 16 and 4 points."""

    def __init__(self, counting: str):
        deployer, registrar, org_admin = accounts[0], accounts[1], accounts[2]
        self.suite = deploy_suite(deployer, registrar.address, GovernanceSettings(**{**SETTINGS.__dict__,
                                                                                     "counting": counting}))
        self.badges, self.points = self.suite.badges, self.suite.points
        self.governor, self.timelock = self.suite.governor, self.suite.timelock
        self.issuer = accounts.add("0x" + "77" * 32)
        accounts[9].transfer(self.issuer, "5 ether")
        self.badges.createOrganization(org_admin, {"from": registrar})
        self.badges.grantRole(self.badges.organizationIssuerRole(1), self.issuer, {"from": org_admin})
        self.members = [accounts.add("0x" + f"{0xA0 + i:064x}") for i in range(4)]
        t = now()
        for i, pts in enumerate((100, 49, 16, 4)):
            event = self.badges.createEvent(1, "", pts, t - 60, t + 30 * DAY, 0, {"from": self.issuer}).return_value
            self.badges.issue(event, [self.members[i]], {"from": self.issuer})
        accounts[8].transfer(self.timelock, "2 ether")
        self.token = CommunityTestToken.deploy({"from": deployer})
        self.token.mint(self.timelock, 1_000_000, {"from": deployer})

    def propose(self, targets, values, calldatas, description, proposer=None):
        # A buffer above brownie's 1.25: the estimate runs in one second, the block may come in the next, and a
        # proposal whose snapshot second is new registers it (a fresh storage slot, ~20k gas more than estimated).
        tx = self.governor.propose(targets, values, calldatas, description,
                                   {"from": proposer or self.members[0], "gas_buffer": 1.5})
        return tx.return_value, tx

    def to_voting(self):
        chain.sleep(SETTINGS.voting_delay_s + 1)
        chain.mine()

    def after_voting(self):
        chain.sleep(SETTINGS.voting_period_s + 1)
        chain.mine()

    def enact(self, targets, values, calldatas, description):
        """Proposes, passes with the largest holder's vote, queues and executes."""
        proposal_id, _ = self.propose(targets, values, calldatas, description)
        self.to_voting()
        self.governor.castVote(proposal_id, FOR, {"from": self.members[0]})
        self.after_voting()
        description_hash = web3.keccak(text=description)
        self.governor.queue(targets, values, calldatas, description_hash, {"from": self.members[0]})
        chain.sleep(SETTINGS.timelock_delay_s + 1)
        self.governor.execute(targets, values, calldatas, description_hash, {"from": self.members[0]})
        assert self.governor.state(proposal_id) == EXECUTED

    def ballot(self, voter, proposal_id, support, reason=None) -> bytes:
        domain = domain_of(self.governor)
        nonce = self.governor.nonces(voter, proposal_id % 2**192)
        message = {"proposalId": proposal_id, "support": support, "voter": str(voter), "nonce": nonce}
        if reason is None:
            return sign_typed(voter.private_key, domain, "Ballot", BALLOT_TYPES, message)
        message.update(reason=reason, params=b"")
        return sign_typed(voter.private_key, domain, "ExtendedBallot", EXTENDED_BALLOT_TYPES, message)


@pytest.fixture(scope="module", params=["simple", "quadratic"])
def community(request):
    return Community(request.param)


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


def test_full_lifecycle_executes_an_eth_grant(community):
    c = community
    recipient = accounts.add()
    description = "東茶屋街クリーンアップキットに 0.5 ETH / Fund the Higashi Chaya clean-up kit — 0.5 ETH"
    targets, values, calldatas = [recipient], [Wei("0.5 ether")], ["0x"]
    proposal_id, tx = c.propose(targets, values, calldatas, description)
    assert tx.events["ProposalCreated"]["proposalId"] == proposal_id
    assert c.governor.state(proposal_id) == PENDING
    snapshot = c.governor.proposalSnapshot(proposal_id)
    assert c.points.isSnapshot(snapshot)
    c.to_voting()
    assert c.governor.state(proposal_id) == ACTIVE

    c.governor.castVote(proposal_id, FOR, {"from": c.members[0]})
    relayer = accounts[7]  # a third party submits signed votes and pays the gas
    c.governor.castVoteBySig(proposal_id, AGAINST, c.members[1], c.ballot(c.members[1], proposal_id, AGAINST),
                             {"from": relayer})
    reason = "道具は町内会で共有します / shared by the neighbourhood"
    tx = c.governor.castVoteWithReasonAndParamsBySig(
        proposal_id, FOR, c.members[2], reason, b"", c.ballot(c.members[2], proposal_id, FOR, reason),
        {"from": relayer},
    )
    assert tx.events["VoteCast"]["reason"] == reason
    c.governor.castVote(proposal_id, ABSTAIN, {"from": c.members[3]})

    weight = (lambda p: math.isqrt(p)) if c.governor.COUNTING_MODE().endswith("weight=sqrt") else (lambda p: p)
    against, for_, abstain = c.governor.proposalVotes(proposal_id)
    assert (against, for_, abstain) == (weight(49), weight(100) + weight(16), weight(4))

    c.after_voting()
    assert c.governor.state(proposal_id) == SUCCEEDED
    description_hash = web3.keccak(text=description)
    c.governor.queue(targets, values, calldatas, description_hash, {"from": relayer})
    assert c.governor.state(proposal_id) == QUEUED
    chain.sleep(SETTINGS.timelock_delay_s + 1)
    chain.mine()
    before = recipient.balance()
    c.governor.execute(targets, values, calldatas, description_hash, {"from": relayer})
    assert c.governor.state(proposal_id) == EXECUTED
    assert recipient.balance() - before == Wei("0.5 ether")


def test_erc20_grant_from_the_treasury(community):
    c = community
    recipient = accounts.add()
    calldata = c.token.transfer.encode_input(recipient, 250_000)
    c.enact([c.token], [0], [calldata], "Hackathon prize / ハッカソン賞金")
    assert c.token.balanceOf(recipient) == 250_000


def test_governance_changes_a_community_parameter(community):
    c = community
    calldata = c.badges.setDefaultURI.encode_input("https://kyoso.kanazawa.example/metadata/{id}.json")
    c.enact([c.badges], [0], [calldata], "Move metadata to the city's domain")
    assert c.badges.uri(999) == "https://kyoso.kanazawa.example/metadata/{id}.json"


def test_points_issued_after_the_snapshot_give_no_weight(community):
    c = community
    proposal_id, _ = c.propose([c.timelock], [0], ["0x"], "Text-only decision: adopt the festival charter")
    c.to_voting()
    t = now()
    late = c.badges.createEvent(1, "", 900, t - 1, t + DAY, 0, {"from": c.issuer}).return_value
    c.badges.issue(late, [c.members[3]], {"from": c.issuer})
    tx = c.governor.castVote(proposal_id, FOR, {"from": c.members[3]})
    weight = math.isqrt(4) if c.governor.COUNTING_MODE().endswith("weight=sqrt") else 4
    assert tx.events["VoteCast"]["weight"] == weight
    assert c.points.getVotes(c.members[3]) == 904


def test_member_below_the_threshold_cannot_propose(community):
    c = community
    with brownie.reverts(revert_pattern=custom_error("GovernorInsufficientProposerVotes", c.members[3], 4, 10)):
        c.governor.propose([c.timelock], [0], ["0x"], "too small", {"from": c.members[3]})


def test_keyed_nonces_let_one_voter_sign_votes_on_two_proposals_independently(community):
    c = community
    first, _ = c.propose([c.timelock], [0], ["0x"], "proposal one")
    second, _ = c.propose([c.timelock], [0], ["0x"], "proposal two")
    c.to_voting()
    voter = c.members[1]
    ballot_one, ballot_two = c.ballot(voter, first, FOR), c.ballot(voter, second, AGAINST)
    # signed before either is sent, relayed in the opposite order: each proposal has its own nonce sequence
    c.governor.castVoteBySig(second, AGAINST, voter, ballot_two, {"from": accounts[7]})
    c.governor.castVoteBySig(first, FOR, voter, ballot_one, {"from": accounts[7]})
    assert c.governor.hasVoted(first, voter) and c.governor.hasVoted(second, voter)


def test_replayed_vote_signature_is_refused(community):
    c = community
    proposal_id, _ = c.propose([c.timelock], [0], ["0x"], "replay")
    c.to_voting()
    ballot = c.ballot(c.members[1], proposal_id, FOR)
    c.governor.castVoteBySig(proposal_id, FOR, c.members[1], ballot, {"from": accounts[7]})
    with brownie.reverts(revert_pattern="GovernorInvalidSignature: .*"):
        c.governor.castVoteBySig(proposal_id, FOR, c.members[1], ballot, {"from": accounts[7]})


def test_quorum_counts_points_in_both_modes(community):
    c = community
    proposal_id, _ = c.propose([c.timelock], [0], ["0x"], "quorum check")
    c.to_voting()
    # total 169 points, quorum 10% = 16 points: the 4-point member alone does not reach it
    assert c.governor.quorum(c.governor.proposalSnapshot(proposal_id)) == 16
    c.governor.castVote(proposal_id, FOR, {"from": c.members[3]})
    c.after_voting()
    assert c.governor.state(proposal_id) == DEFEATED
