"""Texts, plurals, dates, times and numbers in each language (times in Japan time), and the text of error codes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backend.api.limits import BODY_TOO_LARGE, HEADERS_TOO_LARGE
from backend.i18n import TIMEZONE, Translator, error_message, translator

JA, EN = translator("ja"), translator("en")
FRIDAY_EVENING = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)  # 18:00 in Kanazawa
MIDNIGHT_IN_JAPAN = datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc)  # 00:00 on Saturday the 5th in Japan


def test_texts_in_each_language_with_their_fields_filled():
    assert (JA("nav_home"), EN("nav_home")) == ("イベント", "Events")
    assert EN("logged_in_as", name="Aiko") == "Logged in as Aiko"
    assert JA("logged_in_as", name="Aiko") == "Aiko としてログイン中"
    assert EN("status_failed", reason="{reason}") == "The claim failed: {reason}"  # the page's script fills it
    assert EN("logged_in_as") == "Logged in as {name}"  # a missing field leaves the text as it is
    assert EN("no_such_key") == "no_such_key"
    assert Translator("fr").lang == "ja"


@pytest.mark.parametrize("key, one, two", [
    ("points_unit", "1 point", "2 points"),
    ("perk_used", "used once", "used 2 times"),
    ("perk_remaining", "1 use left", "2 uses left"),
    ("perk_limit_total", "first 1 use", "first 2 uses"),
    ("redemptions_count", "1 use", "2 uses"),
])
def test_english_plurals(key, one, two):
    assert EN.plural(key, 1) == one
    assert EN.plural(key, 2) == two


def test_plurals_fill_their_other_fields_and_write_the_count_out():
    assert EN.plural("points_unit", 0) == "0 points"
    assert EN.plural("points_unit", 1500) == "1,500 points"
    assert EN.plural("claims_count", 1, c="1") == "1 claim (1 confirmed)"
    assert EN.plural("claims_count", 12, c="3") == "12 claims (3 confirmed)"
    assert EN.plural("quorum_progress", 1, pct=50, need="1") == "Quorum 50% reached (1 point needed)"
    assert EN("activity_counts", uses=EN.plural("redemptions_count", 1),
              completions=EN.plural("completions_count", 2)) == "1 use · 2 mission completions"


@pytest.mark.parametrize("n", [0, 1, 2, 21])
def test_japanese_has_one_form(n):
    assert JA.plural("points_unit", n) == f"{n} ポイント"
    assert JA.plural("perk_used", n) == f"{n} 回利用済み"
    assert JA.plural("perk_remaining", n) == f"あと {n} 回使えます"


def test_dates_and_times_in_japan_time_as_each_language_writes_them():
    assert JA.datetime(FRIDAY_EVENING) == "2026年12月4日(金) 18:00"
    assert EN.datetime(FRIDAY_EVENING) == "Fri, 4 Dec 2026, 18:00"
    assert (JA.date(FRIDAY_EVENING), EN.date(FRIDAY_EVENING)) == ("2026年12月4日(金)", "Fri, 4 Dec 2026")
    assert (JA.day(FRIDAY_EVENING), EN.day(FRIDAY_EVENING)) == ("12月4日", "4 Dec")
    assert (JA.time(FRIDAY_EVENING), EN.time(FRIDAY_EVENING)) == ("18:00", "18:00")
    assert JA.datetime(None) == EN.date(None) == ""


def test_fifteen_hundred_utc_is_midnight_of_the_next_day_in_japan():
    assert MIDNIGHT_IN_JAPAN.astimezone(TIMEZONE).utcoffset().total_seconds() == 9 * 3600
    assert EN.datetime(MIDNIGHT_IN_JAPAN) == "Sat, 5 Dec 2026, 00:00"
    assert JA.datetime(MIDNIGHT_IN_JAPAN) == "2026年12月5日(土) 0:00"  # CLDR's Japanese hour is not zero-padded
    assert (JA.day(MIDNIGHT_IN_JAPAN), EN.day(MIDNIGHT_IN_JAPAN)) == ("12月5日", "5 Dec")
    assert EN.time(MIDNIGHT_IN_JAPAN) == "00:00"
    naive = MIDNIGHT_IN_JAPAN.replace(tzinfo=None)  # taken as UTC
    assert EN.datetime(naive) == "Sat, 5 Dec 2026, 00:00"


def test_numbers_categories_and_bilingual_fields():
    assert (JA.number(1234567), EN.number(1234567)) == ("1,234,567", "1,234,567")
    assert EN.number(None) == ""
    assert (JA.category("cleanup"), EN.category("cleanup")) == ("清掃", "Clean-up")
    assert EN.category("astronomy") == "astronomy"  # a category without a text yet: its name
    assert (JA.pick("祭り", "Festival"), EN.pick("祭り", "Festival")) == ("祭り", "Festival")
    assert (JA.pick("", "Festival"), EN.pick("祭り", "")) == ("Festival", "祭り")


def test_error_messages_fill_their_fields_in_each_language():
    assert error_message("too_many_attempts", "en", retry_after=30) == "Too many wrong codes. Try again in 30 s."
    assert error_message("too_many_attempts", "ja", retry_after=30) == (
        "間違いが多すぎます。30 秒後にもう一度お試しください。")
    assert error_message("invalid_request", "en", summary="body.points: too big") == (
        "Invalid request: body.points: too big")
    assert error_message("event_not_found", "en", event_id=3) == "No such event."  # unused params are ignored
    assert error_message("claim_window_closed", "en", claim_start=FRIDAY_EVENING, claim_end=MIDNIGHT_IN_JAPAN) == (
        "Badges of this event can be claimed from Fri, 4 Dec 2026, 18:00 to Sat, 5 Dec 2026, 00:00.")
    assert error_message("unknown_events", "en", event_ids=[3, 1024]) == "No such events: 3, 1024."
    assert error_message("below_threshold", "en", threshold=1000, voting_power=12) == (
        "Proposing needs a voting power of 1,000; yours is 12.")


def test_an_error_message_missing_a_field_is_shown_unformatted():
    assert error_message("invalid_parameter_value", "en", parameter="quorum") == (
        "{parameter} must be between {low} and {high}.")


@pytest.mark.parametrize("code", ["no_such_code", "", "nav_homeX"])
def test_an_unknown_code_gets_the_generic_text(code):
    assert error_message(code, "en") == "Something went wrong. Please try again."
    assert error_message(code, "ja") == "エラーが発生しました。もう一度お試しください。"


def test_an_unsupported_language_gets_japanese():
    assert error_message("event_not_found", "fr") == "イベントが見つかりません。"


@pytest.mark.parametrize("code, japanese, english", [
    ("body_too_large", ["1 MiB", "リクエストの本文が大きすぎます"], ["1 MiB"]),
    ("headers_too_large", ["16 KiB"], ["16 KiB"]),
    ("invalid_body", ["UTF-8", "読み取れませんでした"], ["UTF-8"]),
    ("gas_budget_exhausted", ["予算"], ["budget"]),
    ("not_authenticated", ["ログインしてください"], ["Log in"]),
    ("not_found", ["ページが見つかりません"], ["not found"]),
    ("method_not_allowed", ["メソッド"], ["method"]),
    ("invalid_content_length", ["Content-Length"], ["Content-Length"]),
    ("chain_unavailable", ["ブロックチェーン"], ["blockchain"]),
    ("storage_unavailable", ["保存できませんでした"], ["Nothing was saved"]),
    ("too_many_attempts", ["秒後"], ["Try again"]),
    ("error_generic", ["エラー"], ["went wrong"]),
])
def test_the_api_layers_codes_say_what_clients_and_tests_look_for(code, japanese, english):
    # the limits' sizes are parameters of their errors, as backend/api/limits.py raises them
    params = {error.code: error.params for error in (BODY_TOO_LARGE, HEADERS_TOO_LARGE)}.get(code, {})
    for fact in japanese:
        assert fact in error_message(code, "ja", retry_after=5, **params), fact
    for fact in english:
        assert fact in error_message(code, "en", retry_after=5, **params), fact
