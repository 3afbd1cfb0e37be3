"""Which organization work the relayer does in one tick: bounded, and fair between organizations (issue #17).

Organization work is what each organization's own key signs: creating its events on chain and issuing its badge
batches. One organization may have hundreds of such transactions waiting (a script that creates 500 events and
5,000 claims); another, a few claims. Each tick takes at most `timing.ORG_TXS_PER_TICK` of them in all, round-robin by
organization: every organization with work waiting gets one transaction per round, whatever the length of its queue,
its oldest work first, and no organization has more than `timing.ORG_TXS_IN_FLIGHT` transactions signed and not yet
settled. The rounds of a tick start after the organization that was served last in the previous tick, so that with
more organizations waiting than a tick's budget each one still gets its turn within a few ticks; and a queue that was
cut by the budget is taken up in the very next tick (the relayer does not pause between ticks then), so a flood drains
at full speed once nobody else is waiting.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def round_robin(queues: Mapping[int, Sequence[T]], budget: int, after: int | None = None) -> list[tuple[int, T]]:
    """Up to `budget` (organization, item) pairs from `queues` (organization id -> its work, oldest first): one item of
    each organization per round, organizations in id order starting with the first after `after` (wrapping)."""
    order = sorted(org for org, queue in queues.items() if queue)
    if after is not None:
        cut = bisect_right(order, after)
        order = order[cut:] + order[:cut]
    taken: list[tuple[int, T]] = []
    depth = 0
    while len(taken) < budget and order:
        for org in order:
            if len(taken) == budget:
                break
            taken.append((org, queues[org][depth]))
        depth += 1
        order = [org for org in order if len(queues[org]) > depth]
    return taken
