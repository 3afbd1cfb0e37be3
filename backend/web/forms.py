"""Plain form posts (log-in, sign-up, log-out, the QR sheet): they work without JavaScript, so the API's header rule
(backend/accounts/deps.py) cannot apply to them; they must come from this site's own pages instead. Also where a
form leads afterwards, and the session cookie that logging in starts."""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlparse, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from backend.accounts.deps import CSRF_HEADER, SESSION_COOKIE, get_current_user
from backend.accounts.models import User
from backend.platform.errors import Forbidden, Unauthorized


def same_site_form(request: Request) -> None:
    """Another site's form would carry the session cookie along: only this site's pages may post forms."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None or urlparse(origin).netloc != request.url.netloc:
        raise Forbidden("form_not_from_this_site")


def form_user(request: Request, session: Session) -> User | None:
    """The member behind a form post from this site's pages, None for anyone not (or no longer) logged in."""
    same_site_form(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw is None:
        return None
    try:
        return get_current_user(request, session, HTTPAuthorizationCredentials(scheme="Bearer", credentials=raw))
    except Unauthorized:
        return None


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only, else /me.

    Browsers read a URL more loosely than Python does: they take `\\` for `/` and drop tabs and line breaks, so
    `/\\evil.example` and `/<TAB>/evil.example` are `//evil.example` to them, another site. A target passes only if no
    such character is in it at all (nor percent-encoded, should anything decode it once more), it starts with a single
    `/`, and resolved against this site it stays here."""
    return target if target and _stays_here(target) and _stays_here(unquote(target)) else "/me"


def _stays_here(target: str) -> bool:
    if not target.startswith("/") or target.startswith("//"):
        return False
    if any(c == "\\" or ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(urljoin("http://this.site/", target))
    return parts.scheme == "http" and parts.netloc == "this.site"


def wants_json(request: Request) -> bool:
    """The page's script posted the form (it follows no redirect, it wants a status)."""
    return request.headers.get(CSRF_HEADER) == "1"


def served_over_https(request: Request) -> bool:
    """The site's public address is https (behind a proxy that ends TLS, uvicorn itself sees http): its cookies are
    then `Secure`, never sent over plain http."""
    return request.url.scheme == "https" or request.app.state.settings.public_base_url.startswith("https://")


def start_session(request: Request, token: str, target: str) -> Response:
    """The access token as an HttpOnly session cookie, then on to `target` (a script gets 204 instead)."""
    secure = served_over_https(request)
    response = (Response(status_code=204) if wants_json(request)
                else RedirectResponse(safe_next(target), status_code=303))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure,
                        max_age=request.app.state.settings.access_token_ttl_s)
    return response
