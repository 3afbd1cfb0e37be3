"""Who is asking: the member behind a bearer token or the web app's session cookie (FastAPI dependencies)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from backend.accounts.models import AccessToken, User
from backend.platform.errors import Unauthorized
from backend.platform.http import get_db, get_loop_db
from backend.platform.security import secret_hash

_bearer = HTTPBearer(auto_error=False)


# The web app's session: the same access token, in an HttpOnly cookie (backend/web/forms.py).
SESSION_COOKIE = "kyoso_session"
# A state-changing request authenticated by that cookie must carry this header. Other sites cannot add a custom
# header to a cross-site request without a CORS preflight, which the API never grants: this (with SameSite=Lax)
# is the CSRF defence for the web app's fetch calls.
CSRF_HEADER = "x-kyoso-request"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _token_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials is not None:
        return credentials.credentials
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and (request.method in SAFE_METHODS or request.headers.get(CSRF_HEADER) == "1"):
        return cookie
    return None


# The token's member in one query, built once: every authenticated request runs it.
_MEMBER_OF_TOKEN = (select(User).join(AccessToken, AccessToken.user_id == User.id)
                    .where(AccessToken.token_hash == bindparam("token_hash"),
                           AccessToken.expires_at >= bindparam("now"), User.deleted_at.is_(None)))


def get_current_user(
    request: Request,
    session: Annotated[Session, Depends(get_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    return _member(request, session, credentials)


async def get_loop_user(
    request: Request,
    session: Annotated[Session, Depends(get_loop_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """get_current_user for a route on the event loop: the same one-row read, without two hops to the thread pool.
    The member comes detached, with its columns loaded (no lazy relationships): the session gives its connection
    back at once, since a route on the loop must hold none across an await."""
    try:
        return _member(request, session, credentials)
    finally:
        session.close()


def _member(request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None) -> User:
    unauthorized = Unauthorized("not_authenticated", headers={"WWW-Authenticate": "Bearer"})
    raw = _token_of(request, credentials)
    if raw is None:
        raise unauthorized
    user = session.scalar(_MEMBER_OF_TOKEN, {"token_hash": secret_hash(raw), "now": datetime.now(timezone.utc)})
    if user is None:
        raise unauthorized
    return user


def get_optional_user(
    request: Request,
    session: Annotated[Session, Depends(get_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The logged-in member for pages anyone may read, which show a little more to members (their own vote). An
    expired or unknown token reads the page as anyone would, instead of refusing it."""
    try:
        return get_current_user(request, session, credentials)
    except Unauthorized:
        return None


def get_current_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    """The raw token the request was authenticated with (beside CurrentUser, which checks it): the log-in that a
    password change keeps, and that the list of log-ins marks as this one."""
    return _token_of(request, credentials)


CurrentUser = Annotated[User, Depends(get_current_user)]
CurrentToken = Annotated[str | None, Depends(get_current_token)]
LoopUser = Annotated[User, Depends(get_loop_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]
