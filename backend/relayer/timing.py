"""The relayer's states and timing constants, in one place.

Outbound transaction (one relayer key = one writer, its nonces in order):

    signed ──broadcast──▶ broadcast ──receipt status 1──▶ mined
      │                      │  ├─receipt status 0──▶ reverted (out of gas: its work moves to a re-send, once)
      │                      │  └─no receipt after REPLACE_AFTER_S──▶ broadcast (same nonce, higher fees)
      └──────────────────────┴─nonce used by another tx──▶ superseded

A transaction is *signed* and stored (nonce reserved, raw bytes and hash in the database) in the same database
transaction that attaches its claims, before it is sent; a crash at any moment therefore leaves either nothing or a
stored transaction that the next start re-broadcasts (the same bytes: it cannot be mined twice).

Claim: accepted ──batched──▶ submitted ──tx mined──▶ confirmed
                    ▲             ├──tx reverted──▶ accepted again (attempts + 1), or failed after MAX_CLAIM_ATTEMPTS,
                    │             │                 with the reason
                    └─────────────┴──tx superseded (its nonce used by another)──▶ accepted again

A batch is checked by one run in the node before it is signed. When that run fails because of some recipients' code
(the batch passes with every recipient's code removed, a state override), the batch is split in halves until each
failing claim stands alone: those fail at once with their hook's reason (the address and its code are kept, and a
new claim for it is refused until the code changes: backend/claims/refusals.py); the others go out together in the
same tick. A batch that reverts on chain (not out of gas: e.g. a hook that changed its mind after the run) is sorted
out the same way at once; only when the whole batch passes again is an attempt counted, by the claims whose
recipient may have code (or, with none, by all of them), so a hook that changes its mind every block still ends.

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
# Recipients per issuance transaction wanted; ISSUE_BATCH (below) is what a batch may hold in the worst case.
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
# The per-transaction cap public networks enforce (EIP-7825).
TX_GAS_CAP = 16_777_216
# Gas limits hold whatever block a transaction lands in (docs/gas.md, "The relayer's gas limits"). The cost of a call
# depends on its block: the points ledger writes an account's voting history only when a registered proposal snapshot
# falls after the account's last change, as of the block's time, while an estimate runs against the latest block (a
# proposal may register its snapshot in between; an account changed in the latest block writes nothing in an
# estimate at that block's time). So a limit is either an upper bound per unit with those writes included (issue,
# votes), or an estimate with GAS_MARGIN plus HISTORY_ENTRY_GAS for each history entry the call can write.
# Gas estimate margin: Anvil's estimates were seen to fall short by ~1% (storage refunds, nested calls).
GAS_MARGIN = 1.25
# The most one write an estimate may miss can cost: the first entry of an account's (or the total supply's) voting
# history, array length and checkpoint, or the new slot of a proposal snapshot's registration (docs/gas.md).
HISTORY_ENTRY_GAS = 48_000
# Voting-history entries (or snapshot registrations) each kind can write beyond its estimate: a migration, the old and
# the new address's delegates and the supply (when badges the new address holds already are burned); a delegation,
# the old and the new delegate; `propose`, its snapshot. An issue writes one per recipient and one for the supply.
# Votes read voting power at the snapshot and write none; queue and execute do not touch the points.
HISTORY_ENTRIES = {"migrate": 3, "delegate": 2, "propose": 1}
# The upper bound of an `issue` in any block, its gas limit: the transaction with the event's checks and the supply's
# history entry, plus each recipient at its worst (a returning member whose badge opens a new 256-event block, with a
# history entry for its delegate). Measured worst cases in docs/gas.md.
ISSUE_TX_GAS = 80_000
ISSUE_RECIPIENT_GAS = 100_000
# What a recipient with code adds at most: its ERC-1155 hook gets no more than the badge contract's RECEIVER_HOOK_GAS
# (ParticipationBadges; a hook that burns everything spends exactly that and the issue reverts with the hook's
# reason instead of running out of gas), and the call around it (arguments, the call, the answer) a few thousand.
# Only members' own wallets can have code: a custodial address is a key the backend holds, which never signs an
# EIP-7702 delegation, so a batch of custodial members pays nothing for hooks.
RECEIVER_HOOK_GAS = 150_000
RECEIVER_HOOK_CALL_GAS = RECEIVER_HOOK_GAS + 5_000
# Recipients per issuance transaction: as many as MAX_BATCH, as long as the worst case fits under the cap (a batch with
# own wallets in it is cut shorter when their hooks would not fit: `issue_gas`).
ISSUE_BATCH = min(MAX_BATCH, (TX_GAS_CAP - ISSUE_TX_GAS) // ISSUE_RECIPIENT_GAS)
# Organization work (event creations and issue batches, signed by the organizations' own keys) per tick, all
# organizations together, taken round-robin by organization, one transaction each per round, oldest first within one
# (backend/relayer/fairness.py). Votes, delegations and proposals are relayed before it in every tick, so this bound
# is what a vote, or another organization's new batch, can wait behind. Measured with bench/flood.py (500 events and
# 5,000 claims of one organization, docs/benchmarks.md): one such transaction takes the relayer 40-60 ms on the
# project's 2-core machine (sign, send, receipt, settle; an event's creation most, for its gas estimate), so a full
# tick is 0.3-0.5 s: less than the BATCH_WINDOW_S a claim may wait for company anyway. Twice as many would let a
# flood add more than that window to everyone else's wait; fewer would spend more of the relayer's time on the
# tick's fixed steps (~10-35 ms a tick in the same runs).
ORG_TXS_PER_TICK = 8
# One organization's share: the most transactions its own key may have signed and not yet settled, so at most this
# many per tick (on a chain that mines at once, each tick settles what it sent) and at most this many of one
# organization's transactions waiting for block space ahead of another's (a full issue batch's limit, issue_gas(100)
# ~10M, lets two fit in a 30M block: two blocks' worth). Half the tick's budget: a lone flooding organization's ticks
# stay ~0.2 s (4 x 40-60 ms), which is what the first claim or vote after it waits for, and a second organization
# always finds room in the first round. Its ticks then follow each other without the TICK_S pause (Relayer.work), so
# the flood still drains near the relayer's full speed: 1,000 transactions in 39 s against 35 s for the relayer before
# #17 (which made the other organization's claims wait 25 s meanwhile), same run.
ORG_TXS_IN_FLIGHT = 4
# A transfer of ETH to a key (an account without code) costs exactly this, in any block.
TOP_UP_GAS = 21_000
# A reverted transaction that used this share of its limit ran out of gas: a call that runs out leaves each caller
# 1/64 of its gas (EIP-150), which it spends reverting, so an out-of-gas a few calls deep still uses ~95% or more.
OUT_OF_GAS_USED = 0.95


def issue_gas(recipients: int, hooks: int = 0) -> int:
    """The upper bound of an issue to `recipients`, `hooks` of whom may have code (members' own wallets)."""
    return ISSUE_TX_GAS + ISSUE_RECIPIENT_GAS * recipients + RECEIVER_HOOK_CALL_GAS * hooks


# An event's claim window on chain closes this long after the window the API accepts claims in: a claim accepted in
# the window's last second is still waiting for its batch, and after a node outage the queue may be minutes long.
# Without it such claims would revert on chain (ClaimWindowClosed) although the attendee was told "accepted".
ISSUE_GRACE_S = 3600
# A claim whose transaction reverted is retried alone; after this many attempts it fails with the reason.
MAX_CLAIM_ATTEMPTS = 3
# An organization key is topped up to this many times the cost of the transaction that found it short, so that a
# festival's batches do not each wait for a top-up, while the sponsor's funds stay with the sponsor's key.
TOP_UP_FACTOR = 20
# Signed votes per transaction (a `multicall` of `castVoteBySig`), as long as their bounds (below) fit under the cap.
MAX_VOTE_BATCH = 100
# How often the relayer asks the governor whether a proposal whose voting has ended can be queued or executed. Each
# look is one call per such proposal; a few seconds' delay before queuing costs nobody anything.
ADVANCE_EVERY_S = 2.0
# A member's key is funded with this many times the cost of its `propose` transaction: just enough (the fee cap is
# already twice the base fee), since a member proposes rarely and the sponsor's funds should stay with the sponsor.
MEMBER_TOP_UP_FACTOR = 1
# Votes are refused VOTE_CLOSING_MARGIN_S before a proposal's deadline (a governance rule: backend/governance/votes.py),
# which must stay longer than a vote's way through the batch window, a block and a confirmation.
# A batch of votes is also bounded by its gas: a ballot with a long reason carries kilobytes of calldata (EIP-7623
# prices calldata at up to 40 gas a byte) and is emitted again in the VoteCast event. The batch's bound (VOTE_TX_GAS,
# and VOTE_GAS_BASE and VOTE_GAS_PER_BYTE per ballot) is also its transaction's gas limit, checked by one run in the
# node before it is signed, so it must stay an upper bound of what a ballot costs in any block, and stays under
# TX_GAS_CAP: a batch takes as many ballots as fit.
VOTE_TX_GAS = 30_000  # the transaction and the multicall around the ballots
# a ballot at its worst: the first of its proposal (new counters, two with quadratic counting), voting power looked up
# in a long history because the voter's points changed since the snapshot (docs/gas.md)
VOTE_GAS_BASE = 130_000
VOTE_GAS_PER_BYTE = 60  # calldata floor, memory copies, hashing and the event's log data per byte of the call
