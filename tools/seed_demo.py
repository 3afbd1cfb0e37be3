"""Seeds a demo community into a running local Kyoso (what `make run` does after the API is up), through the API.

Kanazawa-style organizations and events, one demo organizer account, and a few claim links to try. Idempotent: if
the demo organizer can log in already, nothing is created again. Development only: the demo password is public.

    python tools/seed_demo.py http://127.0.0.1:8000
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone

import httpx

DEMO_ORGANIZER = {"email": "organizer@demo.kyoso.example", "password": "kyoso-demo-2026"}
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


def seed(base: str) -> None:
    client = httpx.Client(base_url=f"{base}/api", timeout=30)
    login = client.post("/auth/login", json=DEMO_ORGANIZER)
    if login.status_code == 200:
        print(f"Demo community already there (log in as {DEMO_ORGANIZER['email']} / {DEMO_ORGANIZER['password']}).")
        return
    token = client.post("/auth/signup", json={**DEMO_ORGANIZER, "display_name": "デモ運営者"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    org_ids = [client.post("/organizations", json={"name_ja": ja, "name_en": en}, headers=headers).json()["id"]
               for ja, en in ORGANIZATIONS]
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
    print(f"Demo community seeded: {len(org_ids)} organizations, {len(event_ids)} events.")
    print(f"  organizer login: {DEMO_ORGANIZER['email']} / {DEMO_ORGANIZER['password']}")
    print("  claim links for 「鼓門まわり クリーンアップ」 (single use):")
    for link in links:
        print(f"    {link}")


if __name__ == "__main__":
    seed(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
