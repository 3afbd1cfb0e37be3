"""The relayer's states and timing constants, in one place.

Outbound transaction (one relayer key = one writer, its nonces in order):

    signed ──broadcast──▶ broadcast ──receipt status 1──▶ mined
      │                      │  ├─receipt status 0──▶ reverted
      │                      │  └─no receipt after REPLACE_AFTER_S──▶ broadcast (same nonce, higher fees)
      └──────────────────────┴─nonce used by another tx──▶ superseded

A transaction is *signed* and stored (nonce reserved, raw bytes and hash in the database) in the same database
transaction that attaches its claims, before it is sent; a crash at any moment therefore leaves either nothing or a
stored transaction that the next start re-broadcasts (the same bytes: it cannot be mined twice).

Claim: accepted ──batched──▶ submitted ──tx mined──▶ confirmed
                    ▲             ├──tx reverted──▶ accepted again (attempts + 1), or failed after MAX_CLAIM_ATTEMPTS,
                    │             │                 with the reason
                    └─────────────┴──tx superseded (its nonce used by another)──▶ accepted again

Vote (a signed ballot) and delegation (a signed delegation) follow the claim's path: accepted ──▶ submitted ──▶
confirmed, back to accepted when their transaction reverts or is superseded. Before a batch of votes is sent it is
estimated as a whole; if that would revert, each vote is looked at alone: one already on chain (relayed by someone
else with the same signature, or by an earlier transaction of ours whose receipt was lost) is confirmed, one that
would revert fails with the contract's reason, and the rest go out together.

Proposal of a custodial member: accepted ──fund the member's key with the cost of `propose`, then send it from that
key──▶ submitted ──▶ confirmed (on chain: the indexer follows its votes). An own-wallet member's proposal waits in
awaiting_wallet until the indexer sees the member's own `propose`. Once voting is over the relayer queues a
succeeded proposal and executes it when the timelock allows (auto-execute, or when someone asked through the API).
"""

from __future__ import annotations

# How often the relayer loop looks for work. Short: a claim waits at most this long before it is batched.
TICK_S = 0.2
# How long claims of one event may wait for company before a batch is sent anyway; at a festival, many claims arrive
# within this window and share one transaction.
BATCH_WINDOW_S = 0.5
# Recipients per issuance transaction. ~59k gas per first-time claim: 100 claims ~6M gas, well under the EIP-7825 cap
# of 16.7M per transaction (250 would fit; a margin keeps a batch of returning and first-time members safe).
MAX_BATCH = 100
# A broadcast transaction without a receipt after this long is sent again (the node may have dropped it).
REBROADCAST_AFTER_S = 15.0
# A transaction still without a receipt this long after it was signed (or last bumped) is stuck: usually the base fee
# rose above its fee cap, or the network is busy. It is signed again with the same nonce and higher fees (whichever
# version is mined settles it; the earlier hashes are kept). Longer than REBROADCAST_AFTER_S: a plain re-send of a
# dropped transaction comes first, and a bump costs the sponsor money.
REPLACE_AFTER_S = 45.0
# Each bump raises both the tip and the fee cap by at least this fraction: nodes accept a replacement only when both
# rise by 10% or more (geth's and Anvil's price-bump rule); 12.5% leaves room for rounding.
FEE_BUMP = 0.125
# Gas estimate margin: Anvil's estimates were seen to fall short by ~1% (storage refunds, nested calls).
GAS_MARGIN = 1.25
# Added to the estimate of `propose`: the estimate runs against the latest block, but the proposal is mined in a later
# one; when that moves its snapshot to a second no proposal has used yet, registering the snapshot writes a fresh
# storage slot (~22k gas) the estimate did not include (seen: +24% on ~83k, past GAS_MARGIN).
PROPOSE_EXTRA_GAS = 30_000
# An event's claim window on chain closes this long after the window the API accepts claims in: a claim accepted in
# the window's last second is still waiting for its batch, and after a node outage the queue may be minutes long.
# Without it such claims would revert on chain (ClaimWindowClosed) although the attendee was told "accepted".
ISSUE_GRACE_S = 3600
# The per-transaction cap public networks enforce (EIP-7825).
TX_GAS_CAP = 16_777_216
# A claim whose transaction reverted is retried alone; after this many attempts it fails with the reason.
MAX_CLAIM_ATTEMPTS = 3
# An organization key is topped up to this many times the cost of the transaction that found it short, so that a
# festival's batches do not each wait for a top-up, while the sponsor's funds stay with the sponsor's key.
TOP_UP_FACTOR = 20
# Signed votes per transaction (a `multicall` of `castVoteBySig`): ~98k gas each (first vote on a proposal a little
# more), so 100 votes ~10M gas, under the EIP-7825 cap with room to spare.
MAX_VOTE_BATCH = 100
# How often the relayer asks the governor whether a proposal whose voting has ended can be queued or executed. Each
# look is one call per such proposal; a few seconds' delay before queuing costs nobody anything.
ADVANCE_EVERY_S = 2.0
# A member's key is funded with this many times the cost of its `propose` transaction: just enough (the fee cap is
# already twice the base fee), since a member proposes rarely and the sponsor's funds should stay with the sponsor.
MEMBER_TOP_UP_FACTOR = 1
# Votes are refused VOTE_CLOSING_MARGIN_S before a proposal's deadline (a governance rule: backend/governance/votes.py),
# which must stay longer than a vote's way through the batch window, a block and a confirmation.
# A batch of votes is also bounded by its estimated gas: a ballot with a long reason carries kilobytes of calldata
# (EIP-7623 prices calldata at up to 40 gas a byte) and is emitted again in the VoteCast event. The batch's estimate
# (VOTE_GAS_BASE and VOTE_GAS_PER_BYTE per ballot) is also its transaction's gas limit, checked by one run in the node
# before it is signed, so it must stay an upper bound of what a ballot costs.
VOTE_BATCH_GAS_BUDGET = 10_000_000
VOTE_GAS_BASE = 110_000  # castVoteBySig, measured ~98k (docs/gas.md), with room
VOTE_GAS_PER_BYTE = 60  # calldata floor, memory copies, hashing and the event's log data per byte of the call
