"""The web and the API against what a hostile page, client or crawler can send (issue #18): where a log-in leads, the
headers every answer carries, whose address the throttles count behind a proxy, and the work anyone can make the
backend do (rows written by a GET, nonces and passes that pile up, QR sheets, lists without end)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from backend.accounts.models import SiweNonce
from backend.app import create_app
from backend.perks.models import PerkPass
from backend.platform.models import GuessThrottle
from tests.backend.conftest import (
    API_BASE,
    Api,
    approved_organization,
    codes,
    event_body,
    iso,
    organizer_with_event,
    wait_confirmed,
    wait_for,
)

SITE = "http://testserver"
TRUSTED_PROXIES = "10.0.0.0/8, fd00::/8"


@pytest.fixture
def settings(settings):
    """The app behind a reverse proxy in 10.0.0.0/8 (or fd00::/8): the only peers whose X-Forwarded-For counts."""
    return settings.model_copy(update={"trusted_proxies": TRUSTED_PROXIES})


def log_in_with_cookie(client: TestClient, member: Api) -> None:
    response = client.post(f"{SITE}/login", data={"email": member.email, "password": member.password},
                           headers={"Origin": SITE}, follow_redirects=False)
    assert response.status_code == 303, response.text


# ---------------------------------------------------------------------------------------------- where a log-in leads

HOSTILE_NEXT = ["/\\evil.example", "/%5Cevil.example", "/\\/evil.example", "/\t/evil.example", "/%09/evil.example",
                "//evil.example", "///evil.example", "https://evil.example", "javascript:alert(1)",
                "/\r\n/evil.example", "\\\\evil.example", "http:/evil.example", ""]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_next_that_leaves_the_site_lands_on_my_page(client, target):
    member = Api(client)
    page = client.get(f"{SITE}/login", params={"next": target})
    assert re.findall(r'name="next" value="([^"]*)"', page.text) == ["/me", "/me"]  # the sign-up and log-in forms
    response = client.post(f"{SITE}/login", data={"email": member.email, "password": member.password,
                                                 "next": target}, headers={"Origin": SITE}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/me"
    signup = client.post(f"{SITE}/signup", data={"email": f"x{member.email}", "password": "kenrokuen-2026",
                                                "next": target}, headers={"Origin": SITE}, follow_redirects=False)
    assert signup.status_code == 303 and signup.headers["location"] == "/me"


@pytest.mark.parametrize("query", ["next=/%5Cevil.example", "next=/%09/evil.example", "next=//evil.example",
                                   "next=https://evil.example", "next=javascript:alert(1)", "next=/%5C%5Cevil.example"])
def test_the_payloads_as_a_link_carries_them_land_on_my_page(client, query):
    page = client.get(f"{SITE}/login?{query}")  # decoded by the server: /\evil.example, /<TAB>/evil.example, ...
    assert re.findall(r'name="next" value="([^"]*)"', page.text) == ["/me", "/me"]


def test_a_next_on_this_site_is_kept(client):
    member = Api(client)
    page = client.get(f"{SITE}/login", params={"next": "/events/1?lang=en#top"})
    assert 'name="next" value="/events/1?lang=en#top"' in page.text
    response = client.post(f"{SITE}/login", data={"email": member.email, "password": member.password,
                                                 "next": "/events/1"}, headers={"Origin": SITE}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/events/1"
    # a member page asked for without a session sends to the log-in page, which comes back to it
    anonymous = TestClient(client.app, base_url=API_BASE)
    redirect = anonymous.get(f"{SITE}/me", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == "/login?next=/me"


# ---------------------------------------------------------------------------------------------- headers


def page_paths(app, ids: dict[str, int]) -> list[str]:
    """Every GET route of the app outside the JSON API, its path parameters filled with real ids where there are
    some: a page added later is checked without anyone listing it here. (FastAPI keeps an included router as one
    branch of `app.routes`; its routes, with their full paths, are the branch's effective routes.)"""
    paths = []
    for branch in app.routes:
        routes = branch.effective_route_contexts() if hasattr(branch, "effective_route_contexts") else [branch]
        for route in routes:
            if "GET" in (getattr(route, "methods", None) or ()) and not route.path.startswith("/api"):
                paths.append(re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), route.path))
    return paths


def assert_page_headers(response, path: str) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if " " in d.strip())
    assert directives["frame-ancestors"] == "'none'", path
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["referrer-policy"] == "same-origin", path
    assert headers["x-frame-options"] == "DENY", path
    assert "strict-transport-security" not in headers, path  # the site is http here
    if path.startswith("/metadata/") and path.endswith(".svg"):
        assert directives["default-src"] == "'none'", path  # the badge image's own policy: nothing runs in it
        return
    script_sources = directives["script-src"].split()
    assert "'unsafe-inline'" not in script_sources and "'unsafe-eval'" not in script_sources, path
    nonces = [s for s in script_sources if s.startswith("'nonce-")]
    assert len(nonces) == 1, path
    if not response.headers.get("content-type", "").startswith("text/html"):
        return
    html = response.text
    hosts = [source for source in script_sources if source.startswith("https://")]
    for tag in re.findall(r"<script\b[^>]*>", html):
        # from this site (or a host the policy names), or inline with this very answer's nonce: nothing else runs
        src = re.search(r'src="([^"]*)"', tag)
        url = src.group(1) if src else ""
        allowed = (url.startswith("/") and not url.startswith("//")) or any(url.startswith(h + "/") for h in hosts)
        assert allowed or f'nonce="{nonces[0][7:-1]}"' in tag, (path, tag)
    if path not in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert directives["style-src"] == "'self'", path
        assert not re.search(r"<[^>]+\sstyle=", html), path  # the policy would drop it: the page would look wrong


def test_every_page_and_file_carries_the_security_headers(client):
    organizer, org, event = organizer_with_event(client)
    now = datetime.now(timezone.utc)
    perk = organizer.post(f"/organizations/{org['id']}/perks", {
        "title_ja": "割引", "title_en": "Discount", "valid_from": iso(now - timedelta(hours=1)),
        "valid_until": iso(now + timedelta(days=1)), "rule": {"kind": "any_events", "event_ids": [event["id"]]}}).json()
    ids = {"event_id": event["id"], "organization_id": org["id"], "perk_id": perk["id"],
           "token_hex": f"{event['token_id']:064x}", "locale": "ja"}
    anonymous = TestClient(client.app, base_url=API_BASE)
    log_in_with_cookie(client, organizer)
    paths = page_paths(client.app, ids)
    assert {"/", "/login", "/me", "/console", f"/console/events/{event['id']}/kiosk", f"/perks/{perk['id']}",
            "/docs"} <= set(paths)
    for visitor in (anonymous, client):
        for path in paths:
            response = visitor.get(f"{SITE}{path}", follow_redirects=False)
            assert response.status_code < 500, (path, response.status_code)
            assert_page_headers(response, path)
    for path in ("/static/app.js", "/static/app.css", "/no/such/page"):
        assert_page_headers(client.get(f"{SITE}{path}"), path)


def test_the_api_answers_with_a_policy_that_runs_nothing(client):
    for response in (client.get("/health"), client.get("/events"), client.get("/no-such-route"),
                     client.post("/auth/login", content=b"\xff", headers={"Content-Type": "application/json"})):
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_behind_https_the_session_cookie_is_secure_and_hsts_is_sent(settings):
    # uvicorn behind a proxy that ends TLS sees http: the public address decides
    https = settings.model_copy(update={"public_base_url": "https://kyoso.example.org"})
    with TestClient(create_app(https), base_url=API_BASE) as client:
        member = Api(client)
        response = client.post(f"{SITE}/login", data={"email": member.email, "password": member.password},
                               headers={"Origin": SITE}, follow_redirects=False)
        cookie = response.headers["set-cookie"]
        assert "kyoso_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
        assert "Secure" in client.get(f"{SITE}/?lang=en").headers["set-cookie"]  # the language cookie too
        for path in (f"{SITE}/", "/health"):
            assert client.get(path).headers["strict-transport-security"] == "max-age=63072000"


def test_over_plain_http_the_cookie_is_not_secure(client):
    member = Api(client)
    response = client.post(f"{SITE}/login", data={"email": member.email, "password": member.password},
                           headers={"Origin": SITE}, follow_redirects=False)
    assert "Secure" not in response.headers["set-cookie"]


# ---------------------------------------------------------------------------------------------- behind a proxy


def throttle_keys(client: TestClient) -> set[str]:
    with client.app.state.session_factory() as session:
        return set(session.scalars(select(GuessThrottle.key).where(GuessThrottle.key.like("ip:%"))))


def guess_from(client: TestClient, member: Api, event: dict, peer: str, forwarded_for: str | None = None) -> None:
    """One wrong code, from the connection's address `peer`, with the X-Forwarded-For a client or proxy sent."""
    via = TestClient(client.app, base_url=API_BASE, client=(peer, 40000))
    headers = {**member.headers, **({"X-Forwarded-For": forwarded_for} if forwarded_for else {})}
    response = via.post(f"/events/{event['id']}/claims", json={"method": "code", "secret": "guess"}, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_code", response.text


@pytest.fixture
def claimable_event(client) -> dict:
    organizer = Api(client)
    org = approved_organization(client, organizer)
    return organizer.post(f"/organizations/{org['id']}/events", event_body()).json()


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(client, claimable_event):
    guess_from(client, Api(client), claimable_event, "192.0.2.50", forwarded_for="198.51.100.77")
    assert throttle_keys(client) == {"ip:192.0.2.50"}


def test_behind_a_trusted_proxy_the_client_it_forwarded_for_is_counted(client, claimable_event):
    member = Api(client)
    guess_from(client, member, claimable_event, "10.0.0.2", forwarded_for="198.51.100.9")
    # two proxies in a row; what the client wrote itself, left of the addresses the proxies wrote, is not believed
    guess_from(client, member, claimable_event, "10.0.0.2", forwarded_for="203.0.113.66, 198.51.100.10, 10.1.2.3")
    assert throttle_keys(client) == {"ip:198.51.100.9", "ip:198.51.100.10"}


def test_two_addresses_of_one_ipv6_slash_64_are_one_guesser(client, claimable_event):
    member = Api(client)
    guess_from(client, member, claimable_event, "2001:db8:1:2::1")
    guess_from(client, member, claimable_event, "2001:db8:1:2:8a4f:19ff:fe02:77")
    guess_from(client, member, claimable_event, "fd00::5", forwarded_for="2001:db8:1:2:dead::beef")  # via a proxy
    guess_from(client, member, claimable_event, "2001:db8:1:3::1")  # the next /64: someone else
    assert throttle_keys(client) == {"ip:2001:db8:1:2::/64", "ip:2001:db8:1:3::/64"}
    with client.app.state.session_factory() as session:
        assert session.get(GuessThrottle, "ip:2001:db8:1:2::/64").failures == 3


# ---------------------------------------------------------------------------------------------- work anyone can cause


def pass_count(client: TestClient) -> int:
    with client.app.state.session_factory() as session:
        return session.scalar(select(func.count()).select_from(PerkPass))


def test_opening_a_perk_page_makes_no_pass_the_button_does(client):
    organizer, org, event = organizer_with_event(client)
    member = Api(client)
    (code,) = codes(organizer, event["id"], 1)
    claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": code}).json()
    wait_confirmed(member, claim["id"])
    now = datetime.now(timezone.utc)
    perk = organizer.post(f"/organizations/{org['id']}/perks", {
        "title_ja": "お茶一杯", "title_en": "A cup of tea", "valid_from": iso(now - timedelta(hours=1)),
        "valid_until": iso(now + timedelta(days=1)), "rule": {"kind": "any_events", "event_ids": [event["id"]]}}).json()
    wait_for(lambda: member.get("/me/perks").json()[0]["progress"]["eligible"], what="the badge indexed")
    log_in_with_cookie(client, member)

    for _ in range(3):  # a reload, a link preview, a crawler: all GETs
        page = client.get(f"{SITE}/perks/{perk['id']}")
        assert page.status_code == 200 and 'data-testid="get-pass"' in page.text
    assert pass_count(client) == 0

    forged = client.post(f"{SITE}/perks/{perk['id']}", headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and pass_count(client) == 0
    shown = client.post(f"{SITE}/perks/{perk['id']}", headers={"Origin": SITE})  # the button, without JavaScript
    assert shown.status_code == 200 and "<svg" in shown.text and pass_count(client) == 1
    code = re.search(r'data-testid="pass-code">([^<]+)<', shown.text).group(1)
    assert organizer.post("/redemptions", {"short_code": code}).status_code == 201


def test_expired_nonces_and_passes_are_purged_by_the_background_worker(client):
    nonces = [client.get("/auth/siwe/nonce").json()["nonce"] for _ in range(3)]  # anyone, no log-in
    organizer = Api(client)
    org = approved_organization(client, organizer)
    now = datetime.now(timezone.utc)
    perk = organizer.post(f"/organizations/{org['id']}/perks", {
        "title_ja": "割引", "title_en": "Discount", "valid_from": iso(now - timedelta(hours=1)),
        "valid_until": iso(now + timedelta(days=1)), "rule": {"kind": "category", "category": "festival"}}).json()
    factory = client.app.state.session_factory
    with factory() as session:
        session.execute(update(SiweNonce).where(SiweNonce.nonce.in_(nonces[:2])).values(expires_at=now))
        for name, expired in (("old-pass", timedelta(hours=2)), ("new-pass", timedelta(seconds=-30))):
            session.add(PerkPass(id=name, perk_id=perk["id"], user_id=organizer.me()["id"],
                                 code_hash=name.ljust(64, "0"), expires_at=now - expired))
        session.commit()
    relayer = client.app.state.services.relayer
    relayer._next_purge = 0.0  # its next tick purges, as it does every minute

    def left() -> tuple[set[str], set[str]]:
        with factory() as session:
            return (set(session.scalars(select(SiweNonce.nonce).where(SiweNonce.nonce.in_(nonces)))),
                    set(session.scalars(select(PerkPass.id))))

    wait_for(lambda: left() == ({nonces[2]}, {"new-pass"}), what="the expired nonces and passes purged")


def test_a_qr_sheet_holds_at_most_100_codes(client):
    organizer = Api(client)
    org = approved_organization(client, organizer)
    event = organizer.post(f"/organizations/{org['id']}/events", event_body()).json()
    refused = organizer.post(f"/events/{event['id']}/code-sheet", {"count": 101})
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_request"
    assert "less than or equal to 100" in str(refused.json()["details"])
    log_in_with_cookie(client, organizer)
    form = client.post(f"{SITE}/console/events/{event['id']}/sheet", data={"count": "101"}, headers={"Origin": SITE})
    assert form.status_code == 422 and "100" in form.text  # the console's form: the error page names the limit
    sheet = organizer.post(f"/events/{event['id']}/code-sheet", {"count": 100})
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/png"


def test_lists_come_a_page_at_a_time_with_their_total(client):
    organizer = Api(client)
    org = approved_organization(client, organizer)
    created = [organizer.post(f"/organizations/{org['id']}/events", event_body(title_en=f"Event {n}")).json()["id"]
               for n in range(3)]
    first = client.get("/events", params={"limit": 2})
    assert first.status_code == 200 and int(first.headers["x-total-count"]) >= 3 and len(first.json()) == 2
    total = int(first.headers["x-total-count"])
    rest = client.get("/events", params={"limit": 2, "offset": total - 1})
    assert len(rest.json()) == 1 and rest.headers["x-total-count"] == str(total)
    listed = [e["id"] for offset in range(0, total, 2) for e in client.get(
        "/events", params={"limit": 2, "offset": offset}).json()]
    assert set(created) <= set(listed) and len(listed) == len(set(listed)) == total  # no row twice, none left out
    assert client.get("/events", params={"limit": 201}).status_code == 422
    mine = organizer.get("/me/organizations", params={"limit": 1})
    assert mine.headers["x-total-count"] == "1" and [o["id"] for o in mine.json()] == [org["id"]]
    for path in ("/perks", "/missions", "/proposals", "/proposals?state=active"):
        response = client.get(path)
        assert response.status_code == 200 and int(response.headers["x-total-count"]) == len(response.json()), path
    for path in ("/me/claims", "/me/perks", "/me/missions"):
        response = organizer.get(path)
        assert response.status_code == 200 and "x-total-count" in response.headers, path
