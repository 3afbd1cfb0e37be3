"""The language of a request: ?lang= (the visible switch), the cookie that remembers it, then Accept-Language."""

from __future__ import annotations

from babel.core import negotiate_locale

from backend.i18n.languages import DEFAULT_LANGUAGE, LANG_COOKIE, LANGUAGES


def accepted_languages(header: str) -> list[str]:
    """The language tags of an Accept-Language header in lower case, most preferred first (by q, then by position).
    q=0 means "not acceptable", so such tags are left out, as are tags with a q that is not a number from 0 to 1."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and 0 < q <= 1:
            weighted.append((-q, position, tag.lower()))
    return [tag for _, _, tag in sorted(weighted)]


def language_of(request) -> str:
    """Any request-like object with `query_params`, `cookies` and `headers` (Starlette's, or a test double)."""
    for asked in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if asked in LANGUAGES:
            return asked
    # aliases=None: Babel's aliases map bare tags to regional locales ("ja" -> "ja_JP"), which LANGUAGES does not use
    accepted = accepted_languages(request.headers.get("accept-language") or "")
    return negotiate_locale(accepted, LANGUAGES, sep="-", aliases=None) or DEFAULT_LANGUAGE
