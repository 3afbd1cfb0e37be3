"""Claims as phones send them to a real backend process over HTTP, for the tests that kill or stall things."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tools.devstack.processes import steward, verify


def claim_until_answered(urls: list[str], headers: dict, event_id: int, secret: str, timeout: float) -> int:
    """What a phone does (behind a load balancer, when there are several servers): send the claim, and while no
    server answers, send it again. Returns the claim id: 202, or 409 naming the claim that an answer lost in a crash
    had already stored. A server error fails the test: a crash must look like a lost answer, never like a 500."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for url in urls:
            try:
                response = httpx.post(f"{url}/events/{event_id}/claims", json={"method": "code", "secret": secret},
                                      headers=headers, timeout=10)
            except httpx.HTTPError:
                continue
            assert response.status_code < 500, response.text
            if response.status_code == 202:
                return response.json()["id"]
            assert response.status_code == 409 and response.json()["error"] == "already_claimed", response.text
            return response.json()["claim_id"]
        time.sleep(0.3)
    raise AssertionError("no server answered the claim")


def claim_statuses(url: str, members: list[dict], claim_ids: list[int], timeout: float) -> list[str]:
    """Each member's claim status, polled until all are confirmed or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = [httpx.get(f"{url}/claims/{cid}", headers=h).json()["status"] for h, cid in zip(members, claim_ids)]
        if all(s == "confirmed" for s in statuses) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.5)


def event_on_chain(url: str, organizer: dict, organization: dict, event: dict, codes: int, *, database_url: str,
                   project_root: Path, timeout: float = 60) -> tuple[dict, dict, int, list[str]]:
    """An organization (of `organizer`, whose address the operator confirms, approved by a steward the operator made;
    both on `database_url`) and an event made through the API at `url`, waited for on chain, and `codes` printed claim
    codes: (organization, event, token id, secrets)."""
    verify(url, organizer, database_url, project_root)  # founding an organization needs a confirmed address
    org = httpx.post(f"{url}/organizations", json=organization, headers=organizer).json()
    approved = httpx.post(f"{url}/organizations/{org['id']}/approve", headers=steward(url, database_url, project_root))
    assert approved.status_code == 200, approved.text
    made = httpx.post(f"{url}/organizations/{org['id']}/events", json=event, headers=organizer).json()
    deadline = time.monotonic() + timeout
    while (token_id := httpx.get(f"{url}/events/{made['id']}").json()["token_id"]) is None:
        assert time.monotonic() < deadline, "the event never reached the chain"
        time.sleep(0.2)
    secrets = [u.split("c=")[1] for u in httpx.post(f"{url}/events/{made['id']}/codes", json={"count": codes},
                                                    headers=organizer).json()["claim_urls"]]
    return org, made, token_id, secrets
