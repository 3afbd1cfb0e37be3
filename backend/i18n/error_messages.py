"""The text of an error code (a DomainError's, or one the API layer answers with) in one language."""

from __future__ import annotations

from datetime import datetime

from backend.i18n.translator import Translator, format_text, translator

GENERIC = "error_generic"


def error_message(code: str, lang: str, **params) -> str:
    """The catalog's text for `code` (the code is its msgid) with its `{name}` fields filled from `params`; the
    generic error text for a code the catalog does not know."""
    t = translator(lang)
    text = t.gettext(code) if code else code  # gettext("") would answer the catalog's header
    if not code or text == code:  # gettext answers the msgid itself when the catalog lacks it
        text = t.gettext(GENERIC)
    return format_text(text, {name: _shown(t, value) for name, value in params.items()})


def _shown(t: Translator, value: object) -> object:
    """A parameter as the language writes it: dates in Japan time, numbers with separators, lists (of ids) joined."""
    if isinstance(value, datetime):
        return t.datetime(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return t.number(value)
    if isinstance(value, (list, tuple)):
        return ("、" if t.lang == "ja" else ", ").join(map(str, value))
    return value
