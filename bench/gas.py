"""Gas benchmark: Kyoso's contracts against the obvious OpenZeppelin composition, measured in the same run.

    make bench-gas        (python bench/run_gas.py [--out PATH]: this script on an Anvil of its own)

Writes bench/results/gas.json (or the path given): a flat JSON object of integer gas figures (receipt gasUsed; per
claim where the key says batch, i.e. the whole transaction divided by the recipients, the 21,000 base included).
"""

from __future__ import annotations

import json
from pathlib import Path

from brownie import OwnerSignedWallet, ReferenceBadges, accounts, chain
from eth_account import Account

from scripts.kyoso_suite import GovernanceSettings, deploy_suite
from tools.devstack.eip712 import domain_of, sign_typed

RESULTS = Path(__file__).resolve().parent / "results" / "gas.json"
BATCH = 100
POINTS = 10
EIP7825_TX_GAS_CAP = 16_777_216
DAY = 24 * 3600


def fresh_addresses(n: int) -> list[str]:
    return [Account.create().address for _ in range(n)]


def main(out: str | None = None) -> None:
    deployer, registrar, org_admin, relayer = accounts[0], accounts[1], accounts[2], accounts[3]
    issuer = accounts.add("0x" + "5a" * 32)
    accounts[9].transfer(issuer, "100 ether")
    suite = deploy_suite(deployer, registrar.address, GovernanceSettings(voting_delay_s=1, proposal_threshold=1))
    badges, governor = suite.badges, suite.governor
    badges.createOrganization(org_admin, {"from": registrar})
    badges.grantRole(badges.organizationIssuerRole(1), issuer, {"from": org_admin})
    now = chain[-1].timestamp

    def new_event(points: int = POINTS) -> int:
        return badges.createEvent(1, "", points, now - 60, now + 30 * DAY, 0, {"from": issuer}).return_value

    # measured transactions get the cap as their limit: gasUsed does not depend on it, and Anvil's estimate was seen
    # to fall short for the reference composition (out of gas at 99% of the estimate)
    def issue(event: int, recipients: list, **params) -> int:
        return badges.issue(event, recipients, {"from": issuer, "gas_limit": EIP7825_TX_GAS_CAP, **params}).gas_used

    results: dict[str, int] = {}
    # Kyoso: first-time and returning members, single and batch of 100 (returning = same 256-event bucket)
    first, second = new_event(), new_event()
    single = fresh_addresses(1)
    results["claim_first_time_single"] = issue(first, single)
    results["claim_returning_single"] = issue(second, single)
    batch = fresh_addresses(BATCH)
    third, fourth = new_event(), new_event()
    results["claim_first_time_batch100"] = issue(third, batch) // BATCH
    results["claim_returning_batch100"] = issue(fourth, batch) // BATCH
    # the badge alone (an event worth 0 points: the points ledger returns at once)
    badge_only = new_event(0)
    results["badge_only_first_time_batch100"] = issue(badge_only, fresh_addresses(BATCH)) // BATCH

    # returning member whose next event lies in a new 256-event bucket (the bitmap's worst case)
    while badges.eventCount() % 256 != 255:
        new_event()
    far = new_event()
    results["claim_returning_new_bucket_batch100"] = issue(far, batch) // BATCH

    # the largest first-time batch that stays under the EIP-7825 per-transaction cap, and proof that it does
    per_claim = results["claim_first_time_batch100"]
    limit = (EIP7825_TX_GAS_CAP - 100_000) // per_claim // 50 * 50
    results["max_first_time_batch_under_cap"] = limit
    results["max_first_time_batch_gas"] = issue(new_event(), fresh_addresses(limit))

    # a member's own contract wallet (a Safe-like wallet with OpenZeppelin's ERC1155Holder): its receiver hook runs,
    # with at most RECEIVER_HOOK_GAS
    wallet = OwnerSignedWallet.deploy(deployer, {"from": deployer})
    results["claim_contract_wallet_single"] = issue(new_event(), [wallet.address])

    # voucher claim, submitted by the relayer for a first-time member
    voucher_event = new_event()
    member = accounts.add()
    deadline = chain[-1].timestamp + 3600
    message = {"recipient": member.address, "eventId": voucher_event, "deadline": deadline}
    claim_types = [("recipient", "address"), ("eventId", "uint256"), ("deadline", "uint256")]
    signature = sign_typed(issuer.private_key, domain_of(badges), "Claim", claim_types, message)
    results["voucher_claim"] = badges.claim(member, voucher_event, deadline, signature, {"from": relayer}).gas_used
    # the same member's voucher for the next event (same 256-event bucket): a returning member
    next_event = new_event()
    message = {"recipient": member.address, "eventId": next_event, "deadline": deadline}
    signature = sign_typed(issuer.private_key, domain_of(badges), "Claim", claim_types, message)
    results["voucher_claim_returning"] = badges.claim(member, next_event, deadline, signature,
                                                      {"from": relayer}).gas_used
    # registering an organization (a second one: the first also writes the organization counter's first value) and
    # creating an event
    results["create_organization"] = badges.createOrganization(org_admin, {"from": registrar}).gas_used
    results["create_event"] = badges.createEvent(1, "", POINTS, now - 60, now + 30 * DAY, 0, {"from": issuer}).gas_used

    # castVoteBySig relayed by a third party
    accounts[7].transfer(member, "1 ether")  # the member who claimed above proposes (threshold: 1 point)
    proposal_id = governor.propose([suite.timelock], [0], ["0x"], "bench", {"from": member}).return_value
    chain.sleep(2)
    chain.mine()
    voter = accounts.add()
    issue(new_event(), [voter.address])
    ballot_types = [("proposalId", "uint256"), ("support", "uint8"), ("voter", "address"), ("nonce", "uint256")]
    nonce = governor.nonces(voter, proposal_id % 2**192)
    ballot = sign_typed(voter.private_key, domain_of(governor), "Ballot", ballot_types,
                        {"proposalId": proposal_id, "support": 1, "voter": voter.address, "nonce": nonce})
    # the voter's points arrived after the snapshot, so it votes with weight 0; the gas is the same code path
    results["cast_vote_by_sig"] = governor.castVoteBySig(proposal_id, 1, voter, ballot, {"from": relayer}).gas_used

    # migration of a holder with 20 badges to a fresh address
    holder = accounts.add()
    accounts[8].transfer(holder, "1 ether")
    for _ in range(20):
        issue(new_event(), [holder.address])
    results["migrate_20_badges"] = badges.migrate(Account.create().address, {"from": holder}).gas_used

    # the obvious OpenZeppelin composition, same shapes
    reference = ReferenceBadges.deploy({"from": deployer})
    ref_single, ref_batch = fresh_addresses(1), fresh_addresses(BATCH)

    def ref_issue(event: int, recipients: list) -> int:
        return reference.issue(event, recipients, POINTS, {"from": issuer, "gas_limit": EIP7825_TX_GAS_CAP}).gas_used

    results["oz_claim_first_time_single"] = ref_issue(1, ref_single)
    results["oz_claim_returning_single"] = ref_issue(2, ref_single)
    results["oz_claim_first_time_batch100"] = ref_issue(3, ref_batch) // BATCH
    results["oz_claim_returning_batch100"] = ref_issue(4, ref_batch) // BATCH

    written = Path(out) if out else RESULTS
    written.parent.mkdir(parents=True, exist_ok=True)
    written.write_text(json.dumps(results, indent=2) + "\n")
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:>12,}")
    print(f"\nwritten to {written}")
