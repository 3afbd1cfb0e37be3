"""FastAPI dependencies, as `Annotated` aliases for route signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.platform.config import Settings
from backend.platform.group_commit import GroupCommitter
from backend.platform.security import secret_hash
from backend.accounts.models import AccessToken, User

_bearer = HTTPBearer(auto_error=False)


# The dependencies that only hand out what the app holds are `async`: FastAPI calls them on the event loop, where a
# plain `def` costs a hop to the thread pool and back, and the routes on the loop (claims, votes) would take that hop
# for each of them. What reads the database is `def` (in the thread pool), or the `get_loop_*` pair below.
async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


async def get_writes(request: Request) -> GroupCommitter:
    return request.app.state.writes


def get_web3(request: Request) -> Web3:
    return request.app.state.web3


async def get_services(request: Request):
    services = request.app.state.services
    if services is None:
        raise HTTPException(
            503,
            {"error": "chain_unavailable", "message": "The contracts are not reachable yet; try again shortly. / "
                                                      "ブロックチェーンに接続できません。しばらくしてからお試しください。"},
            headers={"Retry-After": "10"},
        )
    return services


# The web app's session: the same access token, in an HttpOnly cookie (backend/web/session.py).
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


async def get_loop_db(request: Request) -> AsyncIterator[Session]:
    """A session for a route that runs on the event loop (`async def`): for a few short reads of the SQLite file,
    which in WAL mode never wait for a lock. Making a session touches no database; closing it returns a connection
    to the pool."""
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


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
    unauthorized = HTTPException(
        401, {"error": "not_authenticated", "message": "Log in first. / ログインしてください。"},
        headers={"WWW-Authenticate": "Bearer"},
    )
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
    except HTTPException:
        return None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# A database id in a path, bounded to what the database holds: a larger number is a clear 422, not a driver error.
DbId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Page = Annotated[int, Query(ge=0, le=10**9, description="rows to skip")]

SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_db)]
WritesDep = Annotated[GroupCommitter, Depends(get_writes)]
Web3Dep = Annotated[Web3, Depends(get_web3)]
CurrentUser = Annotated[User, Depends(get_current_user)]
LoopSessionDep = Annotated[Session, Depends(get_loop_db)]
LoopUser = Annotated[User, Depends(get_loop_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]
ServicesDep = Annotated[object, Depends(get_services)]
