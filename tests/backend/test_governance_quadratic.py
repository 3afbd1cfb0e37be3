"""Quadratic counting through the API: weights are square roots of points, the quorum still counts points."""

from __future__ import annotations

from tests.backend.conftest import wait_for
from tests.backend.governance_helpers import (  # noqa: F401 - chain_time_restored is an autouse fixture
    AGAINST,
    FOR,
    SETTINGS,
    Community,
    chain_time_restored,
    governance_suite,
    travel,
    wait_state,
)


suite = governance_suite("quadratic")


def test_quadratic_weights_and_point_quorum(client, suite):
    community = Community(client)
    assert client.get("/governance").json()["counting"] == "quadratic"
    second = community.new_event(points=30)
    small = community.member_with_points()  # 10 points: weight 3
    large = community.member_with_points(community.member_with_points(), second)  # 40 points: weight 6
    proposal = small.post("/proposals", {"kind": "text", "title_ja": "工芸体験の回数を増やす",
                                         "title_en": "More crafts workshops"}).json()
    wait_state(client, proposal["id"], "pending")
    travel(SETTINGS.voting_delay_s + 1)
    wait_state(client, proposal["id"], "active")
    assert small.post(f"/proposals/{proposal['id']}/votes", {"support": FOR}).status_code == 202
    assert large.post(f"/proposals/{proposal['id']}/votes", {"support": AGAINST}).status_code == 202
    result = wait_for(lambda: (p := client.get(f"/proposals/{proposal['id']}").json())["votes"]["against"] and
                      p["votes"]["for"] and p, what="votes counted")
    assert result["votes"] == {"for": 3, "against": 6, "abstain": 0}
    assert result["points"] == {"for": 10, "against": 40, "abstain": 0}
    assert result["quorum"] == 5 and result["quorum_progress"] == 1.0  # 10% of 50 points; 10 points for
    travel(SETTINGS.voting_period_s + 1)
    wait_state(client, proposal["id"], "defeated")
