"""The web app in a real browser (Debian's Chromium, driven by Playwright) against the stack `make run` serves, on
test ports: an attendee claims on a phone, a member votes, an organizer makes an event and prints its QR codes, the
language switch, and an accessibility check (axe-core) of the main pages. Screenshots of the main pages in both
languages go to test-artifacts/screenshots/ (ignored by git)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backend.i18n import all_texts
from tests.web.conftest import PHONE

pytestmark = pytest.mark.stack

LAPTOP = {"viewport": {"width": 1280, "height": 900}}
DEMO_PASSWORD = "kyoso-demo-2026"
JST = timezone(timedelta(hours=9))
JA, EN = all_texts("ja"), all_texts("en")


def log_in(page, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#li-email", email)
    page.fill("#li-password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/me")


def sign_up_and_claim(browser, url: str, screenshot: Path | None = None) -> None:
    """An attendee on a phone opens a claim link, signs up inline, and sees the badge confirmed."""
    context = browser.new_context(**PHONE, locale="ja-JP")
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text(JA["claim_title"])
    page.fill("#su-email", f"attendee-{time.time_ns()}@example.jp")
    page.fill("#su-password", "kanazawa-2026")
    page.click("form[action='/signup'] button[type=submit]")
    expect(page.get_by_test_id("claim-status")).to_have_text(JA["status_confirmed"], timeout=60_000)
    expect(page.get_by_role("link", name=JA["see_my_badges"])).to_be_visible()
    if screenshot:
        page.screenshot(path=screenshot, full_page=True)
    page.get_by_role("link", name=JA["see_my_badges"]).click()
    expect(page.get_by_test_id("badge-gallery").locator("img")).to_have_count(1)
    context.close()


def test_attendee_on_a_phone_claims_from_a_qr_link(stack, browser, shots):
    links = re.findall(r"http://127\.0\.0\.1:\d+/claim/\d+#c=[A-Za-z0-9_-]+", stack.process.output)
    assert len(links) == 3, stack.process.output
    sign_up_and_claim(browser, links[0], shots / "claim-ja-phone.png")


def test_organizer_creates_an_event_and_its_qr_sheet_works(stack, browser, shots, tmp_path):
    import zxingcpp
    from PIL import Image

    context = browser.new_context(**LAPTOP, locale="en-US", accept_downloads=True)
    page = context.new_page()
    log_in(page, stack.base, "organizer@demo.kyoso.example")
    page.goto(f"{stack.base}/console")
    page.get_by_text(EN["new_event"], exact=True).first.click()  # opens the first organization's new-event form
    form = page.locator("form[data-event-form]").first
    now = datetime.now(JST)
    form.get_by_label(EN["event_title_ja"]).fill("21世紀美術館 まちあるきワークショップ")
    form.get_by_label(EN["event_title_en"]).fill("21st Century Museum town-walk workshop")
    form.get_by_label(EN["venue"]).fill("金沢21世紀美術館")
    form.get_by_label(EN["starts_at"]).fill((now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label(EN["ends_at"]).fill((now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name=EN["create"]).click()
    page.wait_for_url(re.compile(r"/console/events/\d+$"))
    event_id = int(page.url.rsplit("/", 1)[1])
    deadline = time.monotonic() + 60
    while EN["on_chain"] not in page.locator("main .meta").first.inner_text():
        assert time.monotonic() < deadline, "the event never reached the chain"
        page.wait_for_timeout(1000)
        page.reload()
    page.fill("#sheet-count", "2")
    with page.expect_download() as download:
        page.get_by_test_id("download-sheet").click()
    sheet = tmp_path / "sheet.png"
    download.value.save_as(sheet)
    page.screenshot(path=shots / "console-en-laptop.png", full_page=True)
    context.close()

    urls = sorted(result.text for result in zxingcpp.read_barcodes(Image.open(sheet)))
    assert len(urls) == 2 and all(re.fullmatch(rf"{stack.base}/claim/{event_id}#c=[A-Za-z0-9_-]+", u) for u in urls)
    sign_up_and_claim(browser, urls[0])


def test_member_on_a_phone_shows_a_perk_and_staff_redeem_it_in_the_console(stack, browser, shots):
    import io

    import zxingcpp
    from PIL import Image

    member = browser.new_context(**PHONE, locale="ja-JP")
    page = member.new_page()
    log_in(page, stack.base, "member@demo.kyoso.example")
    page.goto(f"{stack.base}/perks")
    page.get_by_test_id("perks-available").get_by_role("link", name=re.compile("金箔体験10%オフ")).click()
    expect(page.get_by_test_id("pass-qr").locator("svg")).to_have_count(0)  # opening the page makes no pass
    page.get_by_role("button", name=JA["perk_get_pass"]).click()
    qr = page.get_by_test_id("pass-qr").locator("svg")
    expect(qr).to_be_visible()
    code = page.get_by_test_id("pass-code").inner_text()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code), code
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert decoded.text.startswith(f"{stack.base}/console/redeem#p=v1.")  # the staff's phone camera opens the console
    page.screenshot(path=shots / "perk-ja-phone.png", full_page=True)

    staff = browser.new_context(**PHONE, locale="ja-JP")
    counter = staff.new_page()
    log_in(counter, stack.base, "organizer@demo.kyoso.example")
    counter.goto(f"{stack.base}/console/redeem")
    counter.get_by_label(JA["redeem_code"]).fill(code.lower())
    counter.get_by_role("button", name=JA["redeem_button"]).click()
    expect(counter.get_by_test_id("redeem-verdict")).to_have_text(JA["redeem_yes"])
    expect(counter.get_by_test_id("redeem-detail")).to_have_text(re.compile("金箔体験10%オフ"))
    counter.screenshot(path=shots / "redeem-ja-phone.png", full_page=True)
    counter.get_by_label(JA["redeem_code"]).fill(code)  # the same code again: spent
    counter.get_by_role("button", name=JA["redeem_button"]).click()
    expect(counter.get_by_test_id("redeem-verdict")).to_have_text(JA["redeem_no"])
    expect(counter.get_by_test_id("redeem-detail")).to_have_text("このコードは使用済みです。")

    counter.goto(f"{stack.base}/console/organizations/3/perks")  # the studio's console: its new perk from the form
    expect(counter.get_by_test_id("activity-count")).to_have_text(re.compile("利用 1 件"))
    counter.locator("summary", has_text=JA["new_perk"]).click()
    form = counter.locator("form[data-action$='/perks']")
    form.get_by_label(JA["title_ja"]).fill("ハッカソン参加者は入館無料")
    form.get_by_label(JA["title_en"]).fill("Free entry for hackathon people")
    form.get_by_label(JA["rule_kind"]).select_option("category")
    form.get_by_label(JA["category"]).select_option("hackathon")
    now = datetime.now(JST)
    form.get_by_label(JA["valid_from"]).fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label(JA["valid_until"]).fill((now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label(JA["limit_total"]).fill("50")
    form.get_by_role("button", name=JA["create"]).click()
    expect(counter.get_by_test_id("org-perks")).to_contain_text("ハッカソン参加者は入館無料")
    expect(counter.get_by_test_id("org-perks")).to_contain_text("「ハッカソン」のイベントのバッジ 1 個以上")
    staff.close()

    page.reload()  # the member used the perk once, its limit
    expect(page.get_by_test_id("pass-qr")).to_have_count(0)
    expect(page.get_by_test_id("perk-refusal")).to_be_visible()
    member.close()


VISIBLE_TEXT_NODES = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const element = walker.currentNode.parentElement;
    if (text && element && element.getClientRects().length && getComputedStyle(element).visibility !== "hidden") {
      out.push(text);
    }
  }
  return out;
}"""


def visible_texts(page) -> set[str]:
    """Every piece of text a person sees on the page, one text node each."""
    return set(page.evaluate(VISIBLE_TEXT_NODES))


def test_member_votes_and_sees_the_tally_change(stack, browser, shots):
    # The seeded proposal opens for voting a minute after start-up, on `make run`'s chain as it is: it makes a block
    # every 2 s on its own, and nobody moves its clock.
    context = browser.new_context(**PHONE, locale="ja-JP")
    page = context.new_page()
    log_in(page, stack.base, "member@demo.kyoso.example")
    page.goto(f"{stack.base}/proposals")
    page.get_by_role("link", name=re.compile("ひがし茶屋街クリーンアップ")).click()
    deadline = stack.started + 90
    while page.get_by_test_id("proposal-state").inner_text() != JA["state_active"]:
        assert time.monotonic() < deadline, "the proposal never showed as open for voting"
        page.wait_for_timeout(1000)
        page.reload()
    tally = page.get_by_test_id("tally")
    expect(tally.locator("[data-tally=vote_for]")).to_have_text("0")
    page.get_by_label(JA["vote_for"]).check()
    page.fill("#vote-reason", "道具があれば参加者が増えます")
    page.get_by_role("button", name=JA["vote_button"]).click()
    expect(page.get_by_test_id("my-vote")).to_have_text(JA["your_vote"].format(choice=JA["vote_for"]), timeout=60_000)
    expect(tally.locator("[data-tally=vote_for]")).to_have_text("10")
    expect(page.get_by_test_id("voter-count")).to_have_text("1")
    page.screenshot(path=shots / "proposal-ja-phone.png", full_page=True)
    context.close()


@pytest.mark.parametrize("path", ["/", "/proposals", "/treasury", "/login", "/perks", "/perks/1"])
def test_the_language_switch_changes_every_visible_string(stack, browser, path):
    context = browser.new_context(**PHONE, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{stack.base}{path}")
    assert page.locator("html").get_attribute("lang") == "ja"
    japanese = visible_texts(page) & set(JA.values())  # the interface's strings, not data such as venues
    assert len(japanese) >= 5
    page.get_by_test_id("language-switch").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    english = visible_texts(page)
    assert not japanese & english, japanese & english  # no Japanese interface string is left
    for text in japanese:  # and each was replaced by its English counterpart
        assert any(EN[key] in english for key, value in JA.items() if value == text), text
    page.goto(f"{stack.base}/")  # remembered
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()


MAIN_PAGES = ["/", "/events/1", "/claim/1", "/proposals", "/proposals/1", "/treasury", "/login", "/me", "/console",
              "/console/events/1", "/perks", "/perks/1", "/console/organizations/1/perks", "/console/redeem"]


def test_main_pages_pass_the_accessibility_check_in_both_languages(stack, browser, shots, project_root):
    axe = (project_root / "node_modules" / "axe-core" / "axe.min.js").read_text()
    problems = {}
    for lang in ("ja", "en"):
        # axe-core is injected as an inline script, which the pages' Content-Security-Policy refuses (as it would any
        # script a page does not carry itself); the browser lets the test's own script in.
        context = browser.new_context(**PHONE, locale="ja-JP" if lang == "ja" else "en-US", bypass_csp=True)
        page = context.new_page()
        log_in(page, stack.base, "organizer@demo.kyoso.example")
        for path in MAIN_PAGES:
            page.goto(f"{stack.base}{path}?lang={lang}")
            page.add_script_tag(content=axe)
            result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
            serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
                       if v["impact"] in ("serious", "critical")]
            if serious:
                problems[f"{lang}{path}"] = serious
            name = path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=shots / f"{name}-{lang}.png", full_page=True)
        context.close()
    assert not problems, problems


def test_no_page_breaks_the_content_security_policy_and_a_log_in_never_leaves_the_site(stack, browser):
    context = browser.new_context(**PHONE, locale="ja-JP")
    page = context.new_page()
    refused = []  # what the browser would block: a script, a style or a frame the pages' policy does not allow
    page.on("console", lambda message: refused.append((page.url, message.text))
            if "Content Security Policy" in message.text else None)
    page.goto(f"{stack.base}/login?next=/%5Cevil.example")  # the browser reads /\evil.example as //evil.example
    assert page.locator("form[action='/login'] [name=next]").input_value() == "/me"  # the server's check
    # and the script's own, should a page ever carry such a target: it asks the browser's URL parser
    page.locator("form[action='/login'] [name=next]").evaluate("(input) => { input.value = '/\\\\evil.example'; }")
    page.fill("#li-email", "organizer@demo.kyoso.example")
    page.fill("#li-password", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{stack.base}/me")
    for path in [*MAIN_PAGES, "/wallet", "/proposals/new"]:
        page.goto(f"{stack.base}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{stack.base}/console/events/1/kiosk")  # its script draws the rotating QR code
    expect(page.get_by_test_id("kiosk-code")).to_have_text(re.compile(r"^\d{10}$"))
    expect(page.locator("#kiosk-qr svg")).to_be_visible()
    assert not refused, refused
    context.close()
