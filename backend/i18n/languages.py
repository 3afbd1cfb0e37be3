"""The languages of Kyoso and the time zone its times are shown in."""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
LANG_COOKIE = "kyoso_lang"

# Events happen in Kanazawa: times are shown in Japan time in both languages.
try:
    TIMEZONE = ZoneInfo("Asia/Tokyo")
except ZoneInfoNotFoundError:  # a system without a time zone database; Japan has had no daylight saving since 1951
    TIMEZONE = timezone(timedelta(hours=9), "JST")

# The CLDR locale that writes each language's dates and numbers. English pages write dates day first with a 24-hour
# clock ("Fri, 4 Dec 2026, 18:00"), as British English does; the texts themselves are plain "en".
FORMAT_LOCALES = {"ja": "ja_JP", "en": "en_GB"}
