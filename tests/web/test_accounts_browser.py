"""Accounts people can trust (issue #18) in a real browser (Debian's Chromium, Playwright) against the stack `make run`
serves on test ports, whose local mail catcher (aiosmtpd) receives every e-mail the backend sends, shown on /dev/mail:
a newcomer signs up, the verification mail arrives and its link confirms the address; then the password is forgotten,
the reset mail arrives, a new password is set in another browser, and the session of the first one is logged out.
In Japanese and in English, the mails in the member's language. The new pages pass axe-core and the pages' CSP."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from backend.i18n import all_texts
from tests.web.conftest import PHONE

pytestmark = pytest.mark.stack

TEXTS = {"ja": all_texts("ja"), "en": all_texts("en")}
LOCALES = {"ja": "ja-JP", "en": "en-US"}


def caught_mail(page, base: str, to: str, subject: str, timeout: float = 30):
    """On /dev/mail, the mails to `to` with `subject`, once there is one (waited for: the background worker sends
    within a second or so)."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(f"{base}/dev/mail")
        mail = page.get_by_test_id("caught-mail").filter(has_text=to).filter(
            has=page.get_by_role("heading", name=subject, exact=True))
        if mail.count():
            return mail
        assert time.monotonic() < deadline, f"no mail {subject!r} to {to} on /dev/mail"
        page.wait_for_timeout(500)


def open_mail_link(page, base: str, to: str, subject: str) -> None:
    """A click on the link of the newest mail to `to` with `subject`."""
    caught_mail(page, base, to, subject).first.get_by_role("link").first.click()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_sign_up_verify_then_forget_the_password_and_the_old_session_ends(stack, browser, shots, lang):
    t = TEXTS[lang]
    email, password, new_password = f"newcomer-{lang}-{time.time_ns()}@example.jp", "kanazawa-2026", "kenroku-2027"
    phone = browser.new_context(**PHONE, locale=LOCALES[lang])
    page = phone.new_page()

    # sign up on the log-in page: in at once, the address not yet confirmed
    page.goto(f"{stack.base}/login")
    page.fill("#su-email", email)
    page.fill("#su-password", password)
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_url(f"{stack.base}/me")
    expect(page.get_by_test_id("unverified")).to_have_text(t["me_unverified"].format(email=email))

    # the verification mail, in the member's language, and its link
    open_mail_link(page, stack.base, email, t["mail_verify_subject"])
    expect(page).to_have_url(f"{stack.base}/verify-email")  # the token left the address bar
    page.get_by_role("button", name=t["verify_button"]).click()
    expect(page.get_by_test_id("verified")).to_have_text(t["verify_done"].format(email=email))
    page.goto(f"{stack.base}/account")
    expect(page.get_by_test_id("email-state")).to_have_text(t["email_verified_yes"])
    expect(page.get_by_test_id("unverified")).to_have_count(0)
    page.screenshot(path=shots / f"account-{lang}-phone.png", full_page=True)

    # forgotten: another browser asks for a reset link and sets a new password
    laptop = browser.new_context(locale=LOCALES[lang])
    other = laptop.new_page()
    other.goto(f"{stack.base}/login")
    other.get_by_role("link", name=t["forgot_password_link"]).click()
    other.fill("#fp-email", email)
    other.get_by_role("button", name=t["send_reset_link"]).click()
    expect(other.get_by_test_id("mail-sent")).to_have_text(t["reset_sent_text"].format(email=email))
    open_mail_link(other, stack.base, email, t["mail_reset_subject"])
    other.fill("#rp-password", new_password)
    other.get_by_role("button", name=t["set_password_button"]).click()
    other.wait_for_url(re.compile(r"/account\?done=password_reset_done$"))
    expect(other.get_by_test_id("account-notice")).to_have_text(t["password_reset_done"])

    # the phone's session ended with the reset; the old password opens nothing, the new one does
    page.goto(f"{stack.base}/me")
    expect(page).to_have_url(re.compile(r"/login\?next=/me$"))
    page.fill("#li-email", email)
    page.fill("#li-password", password)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("form[action='/login'] .form-error")).to_have_text(t["login_failed"])
    page.fill("#li-password", new_password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{stack.base}/me")
    phone.close()
    laptop.close()


def test_a_second_sign_up_with_a_known_address_logs_nobody_in_and_mails_the_owner(stack, browser):
    t = TEXTS["en"]
    email = f"twice-{time.time_ns()}@example.jp"
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    for password in ("first-password-1", "second-password-2"):
        page.goto(f"{stack.base}/login")
        page.fill("#su-email", email)
        page.fill("#su-password", password)
        page.click("form[action='/signup'] button[type=submit]")
        if password.startswith("first"):
            page.wait_for_url(f"{stack.base}/me")
            page.get_by_role("button", name=t["nav_logout"]).click()
    expect(page.locator("form[action='/signup'] .form-error")).to_have_text(t["signup_check_email"].format(email=email))
    expect(caught_mail(page, stack.base, email, t["mail_already_registered_subject"])).to_have_count(1)
    context.close()


ACCOUNT_PAGES = ["/account", "/forgot-password", "/reset-password", "/verify-email", "/dev/mail"]


def test_the_account_pages_pass_the_accessibility_check_and_the_content_security_policy(stack, browser, shots,
                                                                                        project_root):
    axe = (project_root / "node_modules" / "axe-core" / "axe.min.js").read_text()
    problems, refused = {}, []
    for lang in ("ja", "en"):
        # axe-core goes in as an inline script, which the policy refuses: the CSP is checked in a context of its own
        checked = browser.new_context(**PHONE, locale=LOCALES[lang], bypass_csp=True)
        plain = browser.new_context(**PHONE, locale=LOCALES[lang])
        for context in (checked, plain):
            page = context.new_page()
            page.on("console", lambda message, p=page: refused.append((p.url, message.text))
                    if "Content Security Policy" in message.text else None)
            page.goto(f"{stack.base}/login")
            page.fill("#li-email", "member@demo.kyoso.example")
            page.fill("#li-password", "kyoso-demo-2026")
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(f"{stack.base}/me")
            for path in ACCOUNT_PAGES:
                page.goto(f"{stack.base}{path}?lang={lang}")
                page.wait_for_load_state("networkidle")
                if context is plain:
                    continue
                page.add_script_tag(content=axe)
                result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
                serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                           for v in result["violations"] if v["impact"] in ("serious", "critical")]
                if serious:
                    problems[f"{lang}{path}"] = serious
                name = path.strip("/").replace("/", "-")
                page.screenshot(path=shots / f"{name}-{lang}.png", full_page=True)
        checked.close()
        plain.close()
    assert not problems, problems
    assert not refused, refused
