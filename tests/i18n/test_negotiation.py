"""The language of a request: ?lang=, then the cookie, then Accept-Language with its q-values; Japanese by default."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.i18n import DEFAULT_LANGUAGE, LANG_COOKIE, accepted_languages, language_of


def request(accept_language: str | None = None, lang: str | None = None, cookie: str | None = None):
    """What language_of reads of a Starlette request (whose headers are looked up case-insensitively)."""
    return SimpleNamespace(query_params={"lang": lang} if lang else {},
                           cookies={LANG_COOKIE: cookie} if cookie else {},
                           headers={"accept-language": accept_language} if accept_language is not None else {})


@pytest.mark.parametrize("header, expected", [
    ("en;q=0.1, ja;q=0.9", "ja"),
    ("ja;q=0.1, en;q=0.9", "en"),
    ("fr, en;q=0.5", "en"),  # French is not offered: the next acceptable one
    ("fr-FR, fr;q=0.9, en-US;q=0.8, en;q=0.7", "en"),
    ("en-GB,en-US;q=0.9,ja;q=0.8", "en"),  # regional tags match their language
    ("ja-JP", "ja"),
    ("EN-us", "en"),
    ("en;q=0, ja;q=0.5", "ja"),  # q=0: not acceptable, whatever its place
    ("en;q=0", DEFAULT_LANGUAGE),
    ("ja;q=0, en;q=0.001", "en"),
    ("de, fr;q=0.8, zh-CN;q=0.5", DEFAULT_LANGUAGE),  # nothing offered: Japanese
    ("*", DEFAULT_LANGUAGE),
    ("en;q=0.5, ja;q=0.5", "en"),  # a tie keeps the header's order
    ("en;q=abc, ja;q=0.2", "ja"),  # a malformed q is left out
    ("en ; q = 0.9 , ja ; q = 1", "ja"),
    ("", DEFAULT_LANGUAGE),
    (None, DEFAULT_LANGUAGE),
])
def test_accept_language_is_negotiated_with_its_q_values(header, expected):
    assert language_of(request(header)) == expected


def test_accepted_languages_are_ordered_by_q_and_leave_out_the_unacceptable():
    assert accepted_languages("da, en-gb;q=0.8, en;q=0.7, ja;q=0") == ["da", "en-gb", "en"]
    assert accepted_languages(",;q=1, , en") == ["en"]


def test_the_switch_wins_over_the_cookie_and_the_cookie_over_the_browser():
    assert language_of(request("ja", lang="en", cookie="ja")) == "en"
    assert language_of(request("ja", cookie="en")) == "en"
    assert language_of(request("en", cookie="ja")) == "ja"
    assert language_of(request("en", lang="fr", cookie="ja")) == "ja"  # an unknown ?lang= is ignored
    assert language_of(request("en", lang="fr", cookie="xx")) == "en"
