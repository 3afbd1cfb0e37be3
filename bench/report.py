"""Writes the end-to-end figures of bench/results/{burst,votes,reads,scale,floor,flood}.json into docs/benchmarks.md
(between the `<!-- bench:end-to-end -->` markers), as tables of measured against target: `python bench/report.py` (the
last step of `make bench`). A result file that is missing leaves its table out."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:end-to-end -->", "<!-- /bench:end-to-end -->"


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _verdict(value, target: float, higher_is_better: bool, size_note: str = "") -> str:
    if value is None:
        return "missed (not measured)"
    met = value >= target if higher_is_better else value <= target
    return ("met" if met else "**missed**") + size_note


def _target(target, higher: bool) -> str:
    if target == 0:
        return "0"
    return ("≥ " if higher else "≤ ") + _fmt(target)


def _run_line(r: dict) -> str:
    return (f"Run {r['date']} on {r['machine']} ({r['cores']} cores; load average {r['load_average_1m_at_end']} at the "
            f"end of the run, {r['load_average_5m_at_end']} over 5 min): `{r['command']}`")


def _layout(r: dict) -> str:
    workers = r.get("workers", 1)
    api = f"{workers} API processes" if workers > 1 else "one API process"
    if r.get("worker_process"):
        return (f"The backend as `make run` starts it: {api} and the background worker (`python -m backend.worker`: "
                "the relayer and the indexer); backend CPU is both.")
    return f"The backend as {api} with the relayer and the indexer in it (`--single-process`)."


def burst_section(r: dict) -> list[str]:
    ratio = r["confirmed_per_s"] / r["naive_confirmed_per_s"] if r.get("naive_confirmed_per_s") else None
    rows = [
        ("claims (one member each)", "claims", None, None),
        ("accepted (202)", "accepted", None, None),
        ("accepted / s", "accepted_per_s", None, None),
        ("confirmed / s", "confirmed_per_s", 500, True),
        ("last confirmed after the last answer, s", "last_confirmed_after_s", 20, False),
        ("claim request p50, ms", "p50_request_ms", None, None),
        ("claim request p99, ms", "p99_request_ms", 250, False),
        ("accepted → confirmed p50, s", "p50_accepted_to_confirmed_s", None, None),
        ("accepted → confirmed p99, s", "p99_accepted_to_confirmed_s", None, None),
        ("issue transactions", "issue_transactions", None, None),
        ("backend CPU per claim, ms", "server_cpu_ms_per_claim", None, None),
        ("lost", "lost", 0, False),
        ("duplicated", "duplicated", 0, False),
        ("relayer alone: confirmed / s (claims stored at once)", "drain_confirmed_per_s", None, None),
    ]
    note = f" (at {r['claims']:,} claims; the target is for 10,000)" if r["claims"] < 10_000 else ""
    out = ["## Festival burst (`make bench-burst` → `bench/results/burst.json`)", "",
           _run_line(r), "",
           f"{r['claims']:,} members claim badges of {r.get('events', 4)} events with the announced secret word, "
           f"{r.get('clients', '?')} concurrent HTTP connections from a separate load-generator process (loopback). "
           f"{_layout(r)} "
           "Three stacks, one after the other in the same run: the relayer as it ships (batched, Anvil automine), "
           "the naive baseline (`bench/naive_relayer.py`: one transaction per claim, each receipt awaited before "
           "the next) and the batched relayer with Anvil mining a block every 2 s.", "",
           "| | batched | naive | batched, 2 s blocks | target (batched) | |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for label, key, target, higher in rows:
        values = [r.get(key), r.get(f"naive_{key}", r.get(key) if key == "claims" else None),
                  r.get(f"interval2s_{key}", r.get(key) if key == "claims" else None)]
        verdict = _verdict(r.get(key), target, higher, note if target else "") if target is not None else ""
        shown_target = _target(target, higher) if target is not None else ""
        out.append(f"| {label} | " + " | ".join(_fmt(v) for v in values) + f" | {shown_target} | {verdict} |")
    out.append(f"| confirmed / s, batched ÷ naive | {_fmt(ratio)} | | | ≥ 10 | "
               f"{_verdict(ratio, 10, True)} |")
    if r.get("naive_drain_confirmed_per_s"):
        out.append(f"| relayer alone, batched ÷ naive | "
                   f"{_fmt(r['drain_confirmed_per_s'] / r['naive_drain_confirmed_per_s'])} | | | | |")
    return out


def votes_section(r: dict) -> list[str]:
    rows = [("votes (one member each)", "votes", None, None), ("accepted (202)", "accepted", None, None),
            ("all confirmed after the first request, s", "all_confirmed_after_s", 5, False),
            ("last confirmed after the last answer, s", "last_confirmed_after_s", None, None),
            ("votes / s (confirmed)", "votes_per_s", None, None), ("accepted / s", "accepted_per_s", None, None),
            ("vote request p50, ms", "p50_request_ms", None, None), ("vote request p99, ms", "p99_request_ms", None, None),
            ("backend CPU per vote, ms", "server_cpu_ms_per_vote", None, None),
            ("lost", "lost", 0, False), ("duplicated", "duplicated", 0, False)]
    out = ["## Gasless votes (`make bench-votes` → `bench/results/votes.json`)", "", _run_line(r), "",
           f"{r['votes']:,} custodial members (10 points each, from a badge issued by the relayer before the snapshot) "
           f"vote on one proposal, {r.get('clients', '?')} concurrent connections; the backend signs each ballot "
           f"with the member's key, the relayer sends them 100 to a `multicall`. {_layout(r)}", "",
           "| | measured | target | |", "| --- | ---: | ---: | --- |"]
    for label, key, target, higher in rows:
        shown_target = _target(target, higher) if target is not None else ""
        verdict = _verdict(r.get(key), target, higher) if target is not None else ""
        out.append(f"| {label} | {_fmt(r.get(key))} | {shown_target} | {verdict} |")
    return out


def reads_section(r: dict) -> list[str]:
    pages = [("badge gallery, `GET /api/me/wallet` (member)", "gallery_api"), ("my page, `GET /me` (member)", "gallery_page"),
             ("`GET /api/proposals`", "proposals_api"), ("`GET /api/proposals/{id}`", "proposal_api"),
             ("proposal page, `GET /proposals/{id}`", "proposal_page"),
             ("proposal page, `GET /proposals/{id}` (member: own vote and voting power)", "proposal_page_member")]
    out = ["## Reads (`make bench-reads` → `bench/results/reads.json`)", "", _run_line(r), "",
           f"{r['members']:,} members, {r['badges']:,} badges (badge_holdings rows, and as many confirmed claims), "
           f"{r['events']} events, {r['proposals']} open proposals with {r['votes_per_proposal']} votes each; "
           f"{r['requests_per_page']} requests per page, {r['clients']} at a time, after a warm-up.", "",
           "| page | p50 ms | p99 ms | target p99 | |", "| --- | ---: | ---: | ---: | --- |"]
    for label, key in pages:
        out.append(f"| {label} | {_fmt(r.get(f'{key}_p50_ms'))} | {_fmt(r.get(f'{key}_p99_ms'))} | ≤ 50 | "
                   f"{_verdict(r.get(f'{key}_p99_ms'), 50, False)} |")
    return out


def scale_section(r: dict) -> list[str]:
    configs = r["configs"]
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    heads = [f"{c.split('_')[0]} × {names.get(c.split('_')[1], c.split('_')[1])}" for c in configs]
    rows = [("accepted / s", "accepted_per_s"), ("confirmed / s", "confirmed_per_s"),
            ("last confirmed after the last answer, s", "last_confirmed_after_s"),
            ("claim request p50, ms", "p50_request_ms"), ("claim request p99, ms", "p99_request_ms"),
            ("backend CPU per claim, ms (all worker processes)", "server_cpu_ms_per_claim"),
            ("lost", "lost"), ("duplicated", "duplicated")]
    out = ["## Scale-out (`make bench-scale` → `bench/results/scale.json`)", "", _run_line(r), "",
           f"The festival burst's batched mode ({r['claims']:,} claims, {r['clients']} connections) against backends "
           "of one or more uvicorn worker processes on one port, beside the background worker that runs the "
           "relayer and the indexer. PostgreSQL is a server of the run's own on the same machine (its CPU is not in "
           "the backend's).", "",
           "| | " + " | ".join(heads) + " |", "| --- |" + " ---: |" * len(configs)]
    for label, key in rows:
        out.append(f"| {label} | " + " | ".join(_fmt(r.get(f"{c}_{key}")) for c in configs) + " |")
    return out


def floor_section(r: dict) -> list[str]:
    kinds = [("bare FastAPI: one sync route and dependency (`bench/floor_app.py`)", "bare"),
             ("Kyoso `GET /api/me`", "me"), ("Kyoso `POST /api/events/{id}/claims` (API only)", "claim")]
    clients = r["clients"]
    out = ["## Where a claim's CPU goes (`make bench-floor` → `bench/results/floor.json`)", "", _run_line(r), "",
           f"{r['requests']:,} requests of each kind at each concurrency, from the load generator; the backend's "
           "relayer and indexer are off, so this is the API's own cost. Backend CPU per request (user + system), and "
           "answers per second.", "",
           "| | " + " | ".join(f"CPU ms, {c} client{'s' if c > 1 else ''} | answers/s, {c}" for c in clients) + " |",
           "| --- |" + " ---: | ---: |" * len(clients)]
    for label, kind in kinds:
        out.append(f"| {label} | " + " | ".join(f"{_fmt(r.get(f'{kind}_c{c}_cpu_ms'))} | "
                                                f"{_fmt(r.get(f'{kind}_c{c}_per_s'))}" for c in clients) + " |")
    return out


def flood_section(r: dict) -> list[str]:
    modes = [("", "relayer as it ships")] + [("unbounded_", "relayer before #17")] * ("unbounded_p99_ratio" in r)
    rows = [("B's claims accepted (each burst)", "flood_b_claims", None),
            ("B without the flood: accepted → confirmed p50, s", "baseline_b_p50_s", None),
            ("B without the flood: accepted → confirmed p99, s", "baseline_b_p99_s", None),
            ("B with the flood: accepted → confirmed p50, s", "flood_b_p50_s", None),
            ("B with the flood: accepted → confirmed p99, s", "flood_b_p99_s", None),
            ("B with the flood: accepted → batch signed p99, s", "flood_b_to_signed_p99_s", None),
            ("B's p99 with the flood ÷ without", "p99_ratio", 2),
            ("A's transactions signed while B's claims waited", "a_transactions_while_b_waited", None),
            ("A's flood drained, s after its start", "a_drained_after_flood_start_s", None),
            ("A's events created", "a_events_created", None), ("A's claims accepted", "a_claims_accepted", None),
            ("lost (both organizations, database and chain)", "lost", 0),
            ("duplicated", "duplicated", 0)]
    out = ["## One organization's flood (`make bench-flood` → `bench/results/flood.json`)", "", _run_line(r), "",
           f"Organization A creates {r['a_events']:,} events and {r['a_codes']:,} single-use codes through the API and "
           f"its {r['a_codes']:,} members claim them (load generator; the API's rate limits of 50 events and code "
           "sheets an hour are skipped in the database, as if the hours had passed), while organization B's "
           f"{r['b_members']} members claim B's event with its secret word, on a fixed schedule "
           f"({r.get('b_rate', 150):g} a second); the same B burst (other members, B's other event) runs first "
           "without the flood, on the same stack. The relayer as it ships (at most "
           f"{r['org_txs_per_tick']} organization transactions a tick, round-robin by organization, "
           f"{r['org_txs_in_flight']} in flight per organization, votes first) and, on a second stack in the same "
           "run, the relayer before issue #17 (`bench/unbounded_relayer.py`: every event and every batch in one "
           "tick). Accepted → confirmed as the backend stored them. Target: B's p99 with the flood within 2x of "
           "without (the relayer as it ships).", "",
           "| | " + " | ".join(label for _, label in modes) + " | target | |",
           "| --- |" + " ---: |" * len(modes) + " ---: | --- |"]
    def shown(value) -> str:  # seconds and ratios with two decimals: most are below one
        return f"{value:.2f}" if isinstance(value, float) else _fmt(value)

    for label, key, target in rows:
        values = " | ".join(shown(r.get(f"{prefix}{key}")) for prefix, _ in modes)
        goal = _target(target, False) if target is not None else ""
        verdict = _verdict(r.get(key), target, False) if target is not None else ""
        out.append(f"| {label} | {values} | {goal} | {verdict} |")
    return out


def render() -> str:
    parts = []
    for name, section in (("burst", burst_section), ("votes", votes_section), ("reads", reads_section),
                          ("scale", scale_section), ("floor", floor_section), ("flood", flood_section)):
        result = _load(name)
        if result is not None:
            parts.append("\n".join(section(result)))
    return "\n\n".join(parts)


def main() -> None:
    text = DOC.read_text()
    block = f"{START}\n<!-- written by bench/report.py from bench/results/*.json; edit the script, not this -->\n\n" \
            f"{render()}\n\n{END}"
    if START in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)
    print(f"updated {DOC}")


if __name__ == "__main__":
    main()
