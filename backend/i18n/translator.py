"""`t` in templates: texts from the catalogs in one language, and dates, times and numbers as it writes them."""

from __future__ import annotations

import functools
from datetime import datetime

from babel import Locale
from babel.dates import format_skeleton, get_datetime_format
from babel.numbers import format_decimal

from backend.i18n.catalogs import translations
from backend.i18n.languages import DEFAULT_LANGUAGE, FORMAT_LOCALES, LANGUAGES, TIMEZONE


def format_text(text: str, params: dict) -> str:
    """`text` with its `{name}` fields filled; unused params are ignored, and a text whose fields the params do not
    fill is shown as it is rather than failing the page."""
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError, AttributeError):
        return text


class Translator:
    """`t("key", name=...)`, `t.plural("key", count, name=...)` (also `tn(...)` in templates), `t.datetime(x)`,
    `t.date(x)`, `t.day(x)`, `t.time(x)`, `t.number(n)`, `t.pick(ja, en)`, `t.category(name)`, `t.lang`."""

    def __init__(self, lang: str):
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._translations = translations(self.lang)
        self._locale = Locale.parse(FORMAT_LOCALES[self.lang])

    def __call__(self, key: str, **params) -> str:
        return format_text(self._translations.gettext(key), params)

    def plural(self, key: str, count: int, /, **params) -> str:
        """The form of `key` for `count` (its msgid_plural is the key itself); `{n}` is the count, written out."""
        params.setdefault("n", self.number(count))
        return format_text(self._translations.ngettext(key, key, count), params)

    # The plain gettext pair, for Jinja2's i18n extension (`env.install_gettext_callables`) if a page wants `_()`.
    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def category(self, name: str) -> str:
        key = f"category_{name}"
        text = self._translations.gettext(key)
        return name if text == key else text

    def pick(self, ja: str, en: str) -> str:
        """The bilingual field in this language (the other one if empty)."""
        return (ja or en) if self.lang == "ja" else (en or ja)

    def number(self, value: int | float | None) -> str:
        return "" if value is None else format_decimal(value, locale=self._locale)

    # Dates from CLDR skeletons, so each language orders and punctuates them itself: 2026年12月4日(金) 18:00 in
    # Japanese, Fri, 4 Dec 2026, 18:00 in English. A naive datetime is taken as UTC (as Babel does).
    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return ""
        glue = get_datetime_format("medium", locale=self._locale)
        return glue.replace("{0}", self.time(value)).replace("{1}", self.date(value))

    def date(self, value: datetime | None) -> str:
        return "" if value is None else self._skeleton("yMMMEd", value)

    def day(self, value: datetime) -> str:
        return self._skeleton("MMMd", value)

    def time(self, value: datetime) -> str:
        return self._skeleton("Hm", value)

    def _skeleton(self, skeleton: str, value: datetime) -> str:
        return format_skeleton(skeleton, value, tzinfo=TIMEZONE, locale=self._locale)


@functools.cache
def translator(lang: str) -> Translator:
    return Translator(lang)
