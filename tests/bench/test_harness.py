"""The benchmark harnesses at tiny sizes: they run end to end (each on an Anvil of its own, on a free port, never the
tests' chain) and count what they must. Only correctness is asserted here, never a timing."""

from __future__ import annotations

from bench import burst, flood, scale, votes

CLAIMS = 40


def test_burst_batched_naive_and_interval_mining_lose_and_duplicate_nothing(tmp_path):
    result = burst.main(["--claims", str(CLAIMS), "--events", "2", "--clients", "8",
                         "--modes", "batched,naive,interval2s", "--drain-claims", "20",
                         "--out", str(tmp_path / "burst.json")])
    for prefix in ("", "naive_", "interval2s_"):
        assert result[f"{prefix}accepted"] == CLAIMS, result
        assert result[f"{prefix}confirmed"] == CLAIMS, result
        assert result[f"{prefix}lost"] == 0 and result[f"{prefix}duplicated"] == 0, result
    assert result["issue_transactions"] < CLAIMS  # batched
    assert result["naive_issue_transactions"] == CLAIMS  # one transaction per claim
    assert (tmp_path / "burst.json").exists()


def test_votes_all_counted_once(tmp_path):
    result = votes.main(["--voters", "20", "--clients", "8", "--out", str(tmp_path / "votes.json")])
    assert result["accepted"] == result["confirmed"] == 20, result
    assert result["lost"] == 0 and result["duplicated"] == 0, result
    assert result["tally_points"] == 20 * votes.POINTS


def test_scale_two_workers_on_postgres_lose_and_duplicate_nothing(tmp_path):
    result = scale.main(["--claims", str(CLAIMS), "--events", "2", "--clients", "8", "--configs", "2:postgres",
                         "--out", str(tmp_path / "scale.json")])
    assert result["configs"] == ["2_postgres"]
    assert result["2_postgres_accepted"] == result["2_postgres_confirmed"] == CLAIMS, result
    assert result["2_postgres_lost"] == 0 and result["2_postgres_duplicated"] == 0, result
    assert (tmp_path / "scale.json").exists()


def test_flood_drains_both_organizations_with_either_relayer(tmp_path):
    result = flood.main(["--events", "6", "--codes", "30", "--b-members", "10", "--clients", "8", "--b-clients", "4",
                         "--b-delay", "0.5", "--modes", "fair,unbounded", "--out", str(tmp_path / "flood.json")])
    for prefix in ("", "unbounded_"):
        assert result[f"{prefix}baseline_b_confirmed"] == result[f"{prefix}flood_b_confirmed"] == 10, result
        assert result[f"{prefix}a_claims_accepted"] == 30 and result[f"{prefix}a_events_created"] == 6, result
        assert result[f"{prefix}a_claims_by_status"] == {"confirmed": 30}, result
        assert result[f"{prefix}lost"] == 0 and result[f"{prefix}duplicated"] == 0, result
        assert result[f"{prefix}a_signed_by_a_key_only"] and result[f"{prefix}b_signed_by_b_key_only"], result
    assert (tmp_path / "flood.json").exists()
