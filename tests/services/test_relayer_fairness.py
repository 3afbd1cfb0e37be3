"""The relayer's round-robin between organizations (backend/relayer/fairness.py), without a chain."""

from __future__ import annotations

from backend.relayer.fairness import round_robin


def test_each_organization_gets_one_slot_per_round_whatever_its_queue():
    queues = {1: [f"a{i}" for i in range(500)], 2: ["b0"], 3: ["c0", "c1"]}
    assert round_robin(queues, 6) == [(1, "a0"), (2, "b0"), (3, "c0"), (1, "a1"), (3, "c1"), (1, "a2")]


def test_the_budget_bounds_a_tick_and_the_next_tick_starts_after_the_last_one_served():
    queues = {org: [f"{org}-{i}" for i in range(3)] for org in (1, 2, 3, 4, 5)}
    first = round_robin(queues, 3)
    assert first == [(1, "1-0"), (2, "2-0"), (3, "3-0")]
    second = round_robin(queues, 3, after=first[-1][0])
    assert second == [(4, "4-0"), (5, "5-0"), (1, "1-0")]  # with more organizations than slots, none waits for ever


def test_a_lone_organization_takes_the_whole_budget_and_nothing_is_made_up():
    assert round_robin({7: list(range(10))}, 4) == [(7, 0), (7, 1), (7, 2), (7, 3)]
    assert round_robin({7: [0, 1]}, 4) == [(7, 0), (7, 1)]
    assert round_robin({7: [], 8: []}, 4) == []
    assert round_robin({}, 4) == []


def test_a_flood_drains_in_as_many_ticks_as_its_work_needs():
    """Taking served items off the queues tick after tick, every item of every queue is served, each within
    ceil(total / budget) ticks."""
    queues = {1: list(range(37)), 2: list(range(3)), 3: list(range(11))}
    total, budget, after, ticks = sum(map(len, queues.values())), 5, None, 0
    served: list[tuple[int, int]] = []
    while any(queues.values()):
        taken = round_robin(queues, budget, after)
        for org, item in taken:
            assert queues[org][0] == item  # oldest first within an organization
            queues[org].pop(0)
        served += taken
        after, ticks = taken[-1][0], ticks + 1
    assert len(served) == total and ticks == -(-total // budget)
    # organization 2's three items were all served within its first three rounds
    assert [i for i, (org, _) in enumerate(served) if org == 2] == [1, 4, 7]
