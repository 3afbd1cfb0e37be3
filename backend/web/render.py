"""How a page answers: its template in the request's language, the error page, the way to the log-in page, and the
chain's contracts for the pages that read them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from backend.accounts.models import User
from backend.api.security_headers import csp_nonce
from backend.i18n import LANG_COOKIE, LANGUAGES, Translator, error_message, language_of
from backend.platform.errors import DomainError
from backend.web.forms import served_over_https

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"


def render(request: Request, template: str, user: User | None, status_code: int = 200, **context) -> HTMLResponse:
    lang = language_of(request)
    texts = Translator(lang)
    other = next(x for x in LANGUAGES if x != lang)
    response = TEMPLATES.TemplateResponse(request, template, {
        "t": texts, "tn": texts.plural, "lang": lang, "other_lang": other, "user": user, "path": request.url.path,
        "csp_nonce": csp_nonce(request.scope),  # an inline <script> runs only with nonce="{{ csp_nonce }}"
        **context,
    }, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:  # the visible switch: remembered for a year
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax",
                            secure=served_over_https(request))
    return response


# `?page=` of a page with a long list; past the last page the list is simply empty.
PageNumber = Annotated[int, Query(ge=1, le=10**7, description="page of the list")]


def pages_of(total: int, per_page: int) -> int:
    """How many pages a list of `total` rows takes (at least one, the page that says the list is empty)."""
    return max(1, -(-total // per_page))


def error_page(request: Request, error: DomainError) -> HTMLResponse:
    """The error page in the request's language, with the code's text and parameters (backend/api/errors.py turns
    Starlette's own errors into codes before they get here)."""
    message = error_message(error.code, language_of(request), **error.params)
    response = render(request, "error.html", None, status_code=error.status, message=message)
    response.headers.update(error.headers)  # Retry-After of a 503 or a 429
    return response


def login_redirect(request: Request) -> RedirectResponse:
    """A page for members, asked for by someone not logged in: the log-in page, which comes back here."""
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
