"""Accounts people can trust (issue #18), over the API, with a real SMTP server: the app's mailer sends to the mail
catcher (aiosmtpd, a process of its own) and the tests read the links from what it caught. The 11th wrong password is
429; sign-up and password reset answer alike for known and unknown addresses; an account that merely carries the
sponsor's address has no power until its owner opens the link; a reset link works once and not after 30 minutes; a
password change or reset ends the other log-ins; log-ins listed and ended, one or all.

No chain is needed for any of it: the app runs against a node that is not there (as tests/backend/test_hostile_input.py
does), so the test takes seconds."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.accounts.models import AccountLink, LinkPurpose
from backend.app import create_app
from backend.platform.config import Settings
from backend.platform.orm import utcnow
from backend.platform.security import secret_hash
from tests.helpers.mail import body, mail_catcher, token_of, wait_for_mail
from tools.devstack.processes import free_port, kyoso

PASSWORD = "kenrokuen-2026"
VERIFY_JA = "【共創 Kyoso】メールアドレスの確認"
ALREADY_JA = "【共創 Kyoso】このメールアドレスは登録済みです"
RESET_JA = "【共創 Kyoso】パスワードの再設定"
RESET_EN = "Kyoso: set a new password"
NO_ACCOUNT_EN = "Kyoso: about your password reset request"


@pytest.fixture
def mail(tmp_path):
    with mail_catcher(tmp_path / "mail") as catcher:
        yield catcher


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'kyoso.db'}"


@pytest.fixture
def api(database_url, mail):
    settings = Settings(environment="test", database_url=database_url, rpc_url=f"http://127.0.0.1:{free_port()}",
                        rpc_timeout_s=1, public_base_url="http://testserver", smtp_host="127.0.0.1",
                        smtp_port=mail.port, smtp_starttls=False, mail_from="Kyoso <kyoso@kanazawa.example>")
    with TestClient(create_app(settings), base_url="http://testserver/api") as client:
        yield client


def sign_up(api, email: str, password: str = PASSWORD, locale: str = "ja"):
    return api.post("/auth/signup", json={"email": email, "password": password, "locale": locale})


def log_in(api, email: str, password: str = PASSWORD) -> dict:
    response = api.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def member(api, email: str, locale: str = "ja") -> dict:
    assert sign_up(api, email, locale=locale).status_code == 202
    return log_in(api, email)


def same_answer(a, b) -> None:
    """Two answers a client cannot tell apart, but for the address it sent itself."""
    assert a.status_code == b.status_code == 202
    assert {k: v for k, v in a.json().items() if k != "email"} == {k: v for k, v in b.json().items() if k != "email"}
    assert set(a.headers) == set(b.headers)


# ---------------------------------------------------------------------------------------------- throttles


def test_the_eleventh_wrong_password_for_one_account_gets_429(api):
    member(api, "guessed@example.jp")
    for attempt in range(10):
        wrong = api.post("/auth/login", json={"email": "guessed@example.jp", "password": f"guess-{attempt}"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_credentials"
    eleventh = api.post("/auth/login", json={"email": "guessed@example.jp", "password": "guess-11"},
                        headers={"Accept-Language": "en"})
    assert eleventh.status_code == 429 and eleventh.json()["error"] == "too_many_password_attempts"
    assert 14 * 60 < int(eleventh.headers["Retry-After"]) <= 15 * 60
    assert "Too many wrong passwords" in eleventh.json()["message"]
    right = api.post("/auth/login", json={"email": "guessed@example.jp", "password": PASSWORD},
                     headers={"Accept-Language": "ja"})
    assert right.status_code == 429 and "パスワードの間違いが多すぎます" in right.json()["message"]


def test_wrong_password_rechecks_are_counted_too(api):
    headers = member(api, "careful@example.jp")
    for _ in range(10):
        assert api.request("DELETE", "/me", json={"password": "nope"}, headers=headers).status_code == 401
    assert api.request("DELETE", "/me", json={"password": PASSWORD}, headers=headers).status_code == 429
    change = api.put("/me/password", json={"current_password": PASSWORD, "new_password": "another-one-2026"},
                     headers=headers)
    assert change.status_code == 429 and "Retry-After" in change.headers
    assert api.get("/me", headers=headers).status_code == 200  # nothing was deleted


# ---------------------------------------------------------------------------------------------- no enumeration


def test_sign_up_answers_alike_for_a_known_and_an_unknown_address(api, mail):
    member(api, "hanako@example.jp")
    known = sign_up(api, "hanako@example.jp", password="someone-elses-2026")
    unknown = sign_up(api, "newcomer@example.jp")
    same_answer(known, unknown)
    assert known.json() == {"status": "mail_sent", "email": "hanako@example.jp"}
    note = wait_for_mail(mail.folder, "hanako@example.jp", ALREADY_JA)
    assert "http://testserver/forgot-password" in body(note) and "#t=" not in body(note)
    assert token_of(wait_for_mail(mail.folder, "newcomer@example.jp", VERIFY_JA))
    again = api.post("/auth/login", json={"email": "hanako@example.jp", "password": "someone-elses-2026"})
    assert again.status_code == 401  # that sign-up's password opens nothing


def test_password_reset_answers_alike_for_a_known_and_an_unknown_address(api, mail):
    member(api, "known@example.jp", locale="en")
    known = api.post("/auth/password-reset", json={"email": "known@example.jp"})
    unknown = api.post("/auth/password-reset", json={"email": "unknown@example.jp"},
                       headers={"Accept-Language": "en"})
    same_answer(known, unknown)
    assert "#t=" in body(wait_for_mail(mail.folder, "known@example.jp", RESET_EN))
    note = wait_for_mail(mail.folder, "unknown@example.jp", NO_ACCOUNT_EN)
    assert "this address has no account" in body(note) and "#t=" not in body(note)


# ---------------------------------------------------------------------------------------------- roles


def test_an_unverified_account_with_the_sponsors_address_has_no_power(api, mail, database_url, project_root):
    sponsor = member(api, "dx@city.kanazawa.example")
    kyoso(database_url, project_root, "sponsor", "set", "dx@city.kanazawa.example")  # the operator's act
    for refused in (api.get("/sponsor/spend", headers=sponsor), api.get("/sponsor/governance-budget", headers=sponsor),
                    api.put("/sponsor/governance-budget", json={"gas_budget": 1}, headers=sponsor)):
        assert refused.status_code == 403 and refused.json()["error"] == "not_sponsor"
    founding = api.post("/organizations", json={"name_ja": "金沢市", "name_en": "Kanazawa City"}, headers=sponsor)
    assert founding.status_code == 403 and founding.json()["error"] == "email_not_verified"

    token = token_of(wait_for_mail(mail.folder, "dx@city.kanazawa.example", VERIFY_JA))
    confirmed = api.post("/auth/email-verification/confirm", json={"token": token})
    assert confirmed.status_code == 200 and confirmed.json() == {"email": "dx@city.kanazawa.example",
                                                                 "email_verified": True}
    assert api.get("/me", headers=sponsor).json()["email_verified"] is True
    assert api.get("/sponsor/spend", headers=sponsor).status_code == 200
    assert api.put("/sponsor/governance-budget", json={"gas_budget": 3_000_000_000},
                   headers=sponsor).json()["gas_budget"] == 3_000_000_000
    again = api.post("/auth/email-verification/confirm", json={"token": token})
    assert again.status_code == 410 and again.json()["error"] == "verification_link_invalid"


# ---------------------------------------------------------------------------------------------- password reset


def test_a_reset_link_works_once_ends_every_log_in_and_not_after_30_minutes(api, mail):
    phone, laptop = member(api, "reset@example.jp"), log_in(api, "reset@example.jp")
    assert api.post("/auth/password-reset", json={"email": "reset@example.jp"}).status_code == 202
    token = token_of(wait_for_mail(mail.folder, "reset@example.jp", RESET_JA))
    reset = api.post("/auth/password-reset/confirm", json={"token": token, "password": "new-password-2026"})
    assert reset.status_code == 204
    for old in (phone, laptop):
        assert api.get("/me", headers=old).status_code == 401  # every log-in ended
    assert api.post("/auth/login", json={"email": "reset@example.jp", "password": PASSWORD}).status_code == 401
    fresh = log_in(api, "reset@example.jp", "new-password-2026")
    assert api.get("/me", headers=fresh).json()["email_verified"] is True  # the link reached the address
    twice = api.post("/auth/password-reset/confirm", json={"token": token, "password": "third-password-2026"})
    assert twice.status_code == 410 and twice.json()["error"] == "reset_link_invalid"

    assert api.post("/auth/password-reset", json={"email": "reset@example.jp"}).status_code == 202
    late = token_of(wait_for_mail(mail.folder, "reset@example.jp", RESET_JA, after=1))
    with api.app.state.session_factory() as session:  # 30 minutes pass: the stored expiry is what counts
        link = session.get(AccountLink, secret_hash(late))
        assert timedelta(minutes=29) < link.expires_at - utcnow() <= timedelta(minutes=30)
        link.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    expired = api.post("/auth/password-reset/confirm", json={"token": late, "password": "too-late-2026"},
                       headers={"Accept-Language": "en"})
    assert expired.status_code == 410 and "30 minutes" in expired.json()["message"]
    assert api.get("/me", headers=fresh).status_code == 200  # nothing happened
    with api.app.state.session_factory() as session:  # no reset link of the account is left that would still work
        assert all(link.used_at is not None or link.expires_at < utcnow() for link in session.scalars(
            select(AccountLink).where(AccountLink.purpose == LinkPurpose.reset_password)))


# ---------------------------------------------------------------------------------------------- log-ins


def test_log_ins_are_listed_ended_one_by_one_or_everywhere_and_a_password_change_ends_the_others(api, mail):
    here = member(api, "devices@example.jp")
    there = log_in(api, "devices@example.jp")
    listed = api.get("/me/sessions", headers=here).json()
    assert [s["current"] for s in listed] == [False, True] and {s["kind"] for s in listed} == {"api"}
    assert all(set(s) == {"id", "kind", "user_agent", "created_at", "expires_at", "current"} for s in listed)
    other_id = next(s["id"] for s in listed if not s["current"])
    assert api.delete(f"/me/sessions/{other_id}", headers=here).status_code == 204
    assert api.get("/me", headers=there).status_code == 401
    assert api.delete(f"/me/sessions/{other_id}", headers=here).status_code == 404

    third = log_in(api, "devices@example.jp")
    wrong = api.put("/me/password", json={"current_password": "not-it", "new_password": "changed-2026"}, headers=here)
    assert wrong.status_code == 401
    changed = api.put("/me/password", json={"current_password": PASSWORD, "new_password": "changed-2026"},
                      headers=here)
    assert changed.status_code == 204
    assert api.get("/me", headers=third).status_code == 401 and api.get("/me", headers=here).status_code == 200
    notice = wait_for_mail(mail.folder, "devices@example.jp", "【共創 Kyoso】パスワードが変更されました")
    assert "http://testserver/forgot-password" in body(notice)

    fourth = log_in(api, "devices@example.jp", "changed-2026")
    assert api.delete("/me/sessions", headers=here).status_code == 204  # log out everywhere
    assert api.get("/me", headers=here).status_code == 401 and api.get("/me", headers=fourth).status_code == 401


def test_the_development_mailbox_is_not_served_outside_development(api, mail):
    member(api, "private@example.jp")
    wait_for_mail(mail.folder, "private@example.jp", VERIFY_JA)
    page = api.get("http://testserver/dev/mail")  # the mail is there, and still the page is not (test environment)
    assert page.status_code == 404 and "private@example.jp" not in page.text


def test_the_account_page_lists_log_ins_and_its_forms_end_them(api, mail):
    site, origin = "http://testserver", {"Origin": "http://testserver"}
    other = member(api, "page@example.jp")  # an API token elsewhere
    login = api.post(f"{site}/login", data={"email": "page@example.jp", "password": PASSWORD}, headers=origin,
                     follow_redirects=False)
    assert login.status_code == 303  # the TestClient keeps the session cookie from here on
    page = api.get(f"{site}/account", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "page@example.jp" in page.text and "Not confirmed" in page.text
    assert len(re.findall(r'data-session="([^"]+)"', page.text)) == 2
    (elsewhere,) = re.findall(r'action="/account/sessions/([^/"]+)/end"', page.text)  # not this one: it stays
    ended = api.post(f"{site}/account/sessions/{elsewhere}/end", headers=origin, follow_redirects=False)
    assert ended.status_code == 303 and api.get("/me", headers=other).status_code == 401

    wrong = api.post(f"{site}/account/password", data={"current_password": "nope", "new_password": "long-enough-1"},
                     headers={**origin, "Accept-Language": "en"})
    assert wrong.status_code == 401 and "The current password is wrong." in wrong.text
    assert api.post(f"{site}/account/password", data={"current_password": PASSWORD, "new_password": "long-enough-1"},
                    headers=origin, follow_redirects=False).status_code == 303
    assert api.get(f"{site}/account", follow_redirects=False).status_code == 200  # still logged in here
    out = api.post(f"{site}/account/logout-everywhere", headers=origin, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert api.get(f"{site}/account", follow_redirects=False).status_code == 303  # to the log-in page
    forged = api.post(f"{site}/account/logout-everywhere", headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
