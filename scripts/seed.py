"""Seeds a demo community into a running Kyoso backend, on any network, through its API (what `make run` does after
the API is up, and what a developer runs once against a backend on a testnet).

Kanazawa-style organizations and events, a demo organizer, a few claim links to try, and a demo member with a
proposal to vote on. Idempotent: if the demo organizer exists already, nothing is created again.
On the local chain (31337) the demo password is the public one below and the treasury is funded from Anvil's last
unlocked account; on any other chain the password comes from KYOSO_DEMO_PASSWORD or is generated and printed once,
and the treasury is left as it is (the demo proposal is then a decision, not a grant).

    python scripts/seed.py http://127.0.0.1:8000 http://127.0.0.1:8545     (the API; the local chain's RPC URL)
    python scripts/seed.py https://kyoso.example.org                        (a backend on a testnet)
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx

LOCAL_CHAIN_ID = 31337
LOCAL_DEMO_PASSWORD = "kyoso-demo-2026"  # public: the local chain only
ORGANIZER_EMAIL = "organizer@demo.kyoso.example"
MEMBER_EMAIL = "member@demo.kyoso.example"
TREASURY_ETH = 5  # funded on the local chain only
GRANT_ETH = 0.5
JST = timezone(timedelta(hours=9))

ORGANIZATIONS = [
    ("金沢市", "Kanazawa City"),
    ("Code for Kanazawa", "Code for Kanazawa"),
    ("ひがし茶屋街 金箔工房", "Higashi Chaya Gold Leaf Studio"),
]

# (organization index, title ja, title en, category, venue, days from today, points)
EVENTS = [
    (0, "鼓門まわり クリーンアップ", "Tsuzumi Gate clean-up", "cleanup", "金沢駅 鼓門", 0, 10),
    (0, "兼六園 雪吊り見学ボランティア", "Kenroku-en yukitsuri volunteer guides", "volunteering", "兼六園", 3, 15),
    (1, "金沢シビックテック・ハッカソン", "Kanazawa civic-tech hackathon", "hackathon", "金沢市役所", 7, 30),
    (1, "オープンデータ・アイデアソン", "Open data ideathon", "hackathon", "金沢21世紀美術館 周辺", 14, 20),
    (2, "金箔貼り体験ワークショップ", "Gold leaf workshop", "crafts", "ひがし茶屋街", 1, 10),
]


def _wait(what: str, predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"seeding: {what} did not happen within {timeout} s")
        time.sleep(0.3)


def _rpc(url: str, method: str, params: list):
    response = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    response.raise_for_status()
    return response.json()["result"]


def _log_in(client: httpx.Client, email: str, password: str, missing_ok: bool = False) -> dict | None:
    response = client.post("/auth/login", json={"email": email, "password": password})
    if response.status_code == 401 and missing_ok:
        return None
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def seed_governance(client: httpx.Client, organizer: dict, event_id: int, password: str, rpc_url: str | None) -> dict:
    """A demo member with a badge (10 points, the proposal threshold) and the member's proposal to fund the Higashi
    Chaya clean-up kit: a grant when the treasury can pay it (on the local chain it is funded with 5 ETH first)."""
    # unconfirmed on purpose: the member's verification mail is the first one on /dev/mail to try
    client.post("/auth/signup", json={"email": MEMBER_EMAIL, "password": password,
                                      "display_name": "デモ会員"}).raise_for_status()
    member = _log_in(client, MEMBER_EMAIL, password)
    (link,) = client.post(f"/events/{event_id}/codes", json={"count": 1}, headers=organizer).json()["claim_urls"]
    claim = client.post(f"/events/{event_id}/claims", json={"method": "code", "secret": link.split("#c=")[1]},
                        headers=member).json()
    _wait("the demo member's badge", lambda: client.get(f"/claims/{claim['id']}", headers=member)
          .json()["status"] == "confirmed")
    if rpc_url is not None:  # the local chain: Anvil's accounts are unlocked
        timelock = client.get("/governance").json()["timelock"]
        funding = _rpc(rpc_url, "eth_sendTransaction", [{"from": _rpc(rpc_url, "eth_accounts", [])[-1],
                                                          "to": timelock, "value": hex(TREASURY_ETH * 10**18)}])
        # the chain makes a block every few seconds, not one per transaction: the proposal is a grant only if the
        # treasury holds the funds when it is made
        _wait("the treasury's funding", lambda: _rpc(rpc_url, "eth_getTransactionReceipt", [funding]) is not None)
    eth = next(b for b in client.get("/treasury").json()["balances"] if b["token"] is None)
    recipient = client.get("/me/organizations", headers=organizer).json()[0]["issuer_address"]  # the city's wallet
    action = ({"kind": "grant", "recipient": recipient, "amount": str(GRANT_ETH)}
              if float(eth["balance"]) >= GRANT_ETH else {"kind": "text"})
    response = client.post("/proposals", headers=member, json={
        **action,
        "title_ja": "ひがし茶屋街クリーンアップの道具一式に 0.5 ETH を助成",
        "title_en": "Fund the Higashi Chaya clean-up kit — 0.5 ETH",
        "body_ja": "毎月のひがし茶屋街クリーンアップで使うトング・ごみ袋・ビブスを、市民ボランティア用に購入します。"
                   "残った道具は次回以降も金沢市が保管し、貸し出します。",
        "body_en": "Tongs, bin bags and bibs for the volunteers of the monthly Higashi Chaya clean-up. The city keeps "
                   "the kit afterwards and lends it out for later clean-ups.",
    })
    response.raise_for_status()
    return response.json()


def seed_perks(client: httpx.Client, organizer: dict, org_ids: list[int], event_ids: list[int]) -> None:
    """The gold leaf studio's perk for clean-up volunteers (the demo member qualifies), and the city's mission for
    taking part with two organizations."""
    now = datetime.now(JST)
    period = {"valid_from": (now - timedelta(days=1)).isoformat(), "valid_until": (now + timedelta(days=60)).isoformat()}
    client.post(f"/organizations/{org_ids[2]}/perks", headers=organizer, json={
        **period, "title_ja": "クリーンアップ参加者は金箔体験10%オフ", "title_en": "10% off the gold leaf workshop for clean-up volunteers",
        "description_ja": "鼓門まわりクリーンアップのバッジをお持ちの方は、金箔貼り体験が10%オフになります。",
        "description_en": "Holders of the Tsuzumi Gate clean-up badge get 10% off the gold leaf workshop.",
        "limit_per_member": 1, "rule": {"kind": "any_events", "event_ids": [event_ids[0]]},
    }).raise_for_status()
    client.post(f"/organizations/{org_ids[0]}/missions", headers=organizer, json={
        **period, "title_ja": "金沢まちづくり探検家", "title_en": "Kanazawa community explorer", "points": 20,
        "description_ja": "2つ以上の団体のイベントに参加すると、ミッションのバッジがもらえます。",
        "description_en": "Take part in events of two organizations or more to receive the mission badge.",
        "rule": {"kind": "any_events", "event_ids": event_ids, "min_badges": 2, "min_organizations": 2},
    }).raise_for_status()


def seed(base: str, rpc_url: str | None) -> None:
    client = httpx.Client(base_url=f"{base.rstrip('/')}/api", timeout=30)
    chain_id = client.get("/health").json().get("chain_id")
    local = chain_id == LOCAL_CHAIN_ID
    password = LOCAL_DEMO_PASSWORD if local else os.environ.get("KYOSO_DEMO_PASSWORD") or secrets.token_urlsafe(12)
    # A sign-up answers alike whether or not the address has an account (it mails either way): whether the demo is
    # there already shows at log-in, with the demo password, and by the organizer's organizations.
    headers = _log_in(client, ORGANIZER_EMAIL, password, missing_ok=True)
    if headers is None:
        client.post("/auth/signup", json={"email": ORGANIZER_EMAIL, "password": password,
                                          "display_name": "デモ運営者"}).raise_for_status()
        headers = _log_in(client, ORGANIZER_EMAIL, password, missing_ok=True)  # None: there, with another password
    if headers is None or client.get("/me/organizations", headers=headers).json():
        print(f"Demo community already there (log in as {ORGANIZER_EMAIL}"
              f"{' / ' + password if local else ''}).")
        return
    # Founding organizations needs a confirmed address, and new organizations wait for a steward. The operator (the
    # `kyoso` command, backend/admin.py, on the backend's database) vouches for the demo organizer's address, makes it
    # a steward and the sponsor's account (the city pays the gas), and the steward approves the demo's organizations:
    # then they are registered on chain.
    for command in (["accounts", "verify"], ["steward", "add"], ["sponsor", "set"]):
        subprocess.run([sys.executable, "-m", "backend.admin", *command, ORGANIZER_EMAIL], check=True,
                       stdout=subprocess.DEVNULL)
    org_ids = [client.post("/organizations", json={"name_ja": ja, "name_en": en}, headers=headers).json()["id"]
               for ja, en in ORGANIZATIONS]
    for org_id in org_ids:
        client.post(f"/organizations/{org_id}/approve", headers=headers).raise_for_status()
    today = datetime.now(JST).replace(hour=10, minute=0, second=0, microsecond=0)
    event_ids = []
    for org, title_ja, title_en, category, venue, days, points in EVENTS:
        # today's event is on now (whatever the hour); the others start at 10:00 JST on their day
        start = datetime.now(JST).replace(minute=0, second=0, microsecond=0) if days == 0 else today + timedelta(days=days)
        body = {
            "title_ja": title_ja, "title_en": title_en, "category": category, "venue": venue, "points": points,
            "description_ja": f"{venue}で開催。参加すると共創バッジとポイントがもらえます。",
            "description_en": f"At {venue}. Take part to receive a co-creation badge and points.",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=4)).isoformat(),
            "claim_start": (today - timedelta(days=1)).isoformat(),
            "claim_end": (start + timedelta(days=2)).isoformat(),
        }
        event_ids.append(client.post(f"/organizations/{org_ids[org]}/events", json=body, headers=headers).json()["id"])
    deadline = time.monotonic() + 60
    while client.get(f"/events/{event_ids[0]}").json()["token_id"] is None and time.monotonic() < deadline:
        time.sleep(0.3)
    links = client.post(f"/events/{event_ids[0]}/codes", json={"count": 3}, headers=headers).json()["claim_urls"]
    proposal = seed_governance(client, headers, event_ids[0], password, rpc_url if local else None)
    seed_perks(client, headers, org_ids, event_ids)
    print(f"Demo community seeded: {len(org_ids)} organizations, {len(event_ids)} events (chain {chain_id}).")
    print("  a perk of the gold leaf studio for clean-up volunteers (the demo member can use it) and a mission")
    print(f"  organizer login: {ORGANIZER_EMAIL} / {password} (address verified, a steward, the sponsor's account)")
    print(f"  member login:    {MEMBER_EMAIL} / {password} (10 points; proposal 「{proposal['title_ja']}」, "
          f"voting from {proposal['voting_starts_at'] or 'shortly'})")
    print("  claim links for 「鼓門まわり クリーンアップ」 (single use):")
    for link in links:
        print(f"    {link}")


if __name__ == "__main__":
    seed(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000",
         sys.argv[2] if len(sys.argv) > 2 else None)
