"""What every router depends on: the app's settings, database sessions, group committer, node and contracts (FastAPI
dependencies as `Annotated` aliases), ids in paths, and the OpenAPI description of the error answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from web3 import Web3

from backend.platform.client_address import client_address, trusted_networks
from backend.platform.config import Settings
from backend.platform.errors import Unavailable
from backend.platform.group_commit import GroupCommitter
from backend.platform.paging import MAX_LIMIT, Paged

# A stalled node usually answers again within seconds; phones retry after this.
CHAIN_RETRY_AFTER_S = 10


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


def services_of(request: Request):
    """The bound contracts and background services, or 503 while the chain or the registry is not there. Pages call
    it rather than depend on it: a member page sends anyone not logged in to the log-in page first, chain or not."""
    services = request.app.state.services
    if services is None:
        raise Unavailable("chain_unavailable", retry_after=CHAIN_RETRY_AFTER_S)
    return services


async def get_services(request: Request):
    return services_of(request)


async def get_loop_db(request: Request) -> AsyncIterator[Session]:
    """A session for a route that runs on the event loop (`async def`): for a few short reads of the SQLite file,
    which in WAL mode never wait for a lock. Making a session touches no database; closing it returns a connection
    to the pool."""
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


def client_ip(request: Request) -> str:
    """The client's address as the throttles key it (backend/platform/client_address.py): behind a trusted proxy the
    address it forwarded for, an IPv6 client as its /64."""
    return client_address(request.client.host if request.client else None,
                          request.headers.getlist("x-forwarded-for"),
                          trusted_networks(request.app.state.settings.trusted_proxies))


# A database id in a path, bounded to what the database holds: a larger number is a clear 422, not a driver error.
DbId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Page = Annotated[int, Query(ge=0, le=10**9, description="rows to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page (at most {MAX_LIMIT})")]

TOTAL_HEADER = "X-Total-Count"
# The OpenAPI `responses` entry of a list route that answers with `paged`.
PAGED = {200: {"description": f"A page of the list; {TOTAL_HEADER}: how many there are in all",
               "headers": {TOTAL_HEADER: {"description": "rows in all, over every page",
                                          "schema": {"type": "integer", "minimum": 0}}}}}


def paged(response: Response, page: Paged) -> Paged:
    """A list route's answer: the page's rows as the body, the total in X-Total-Count."""
    response.headers[TOTAL_HEADER] = str(page.total)
    return page


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_db)]
WritesDep = Annotated[GroupCommitter, Depends(get_writes)]
Web3Dep = Annotated[Web3, Depends(get_web3)]
LoopSessionDep = Annotated[Session, Depends(get_loop_db)]
ServicesDep = Annotated[object, Depends(get_services)]


class ErrorPublic(BaseModel):
    """Every error answer. Some carry more fields for programs (`claim_id`, `retry_after`, `threshold`, ...)."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="a stable code, e.g. event_not_found")
    message: str = Field(description="for people, in the language the request asked for (Accept-Language, ?lang=)")


class ProblemPublic(BaseModel):
    field: str
    message: str


class ValidationErrorPublic(ErrorPublic):
    details: list[ProblemPublic] = Field(default_factory=list,
                                         description="for a request that does not match the schema")


WHY = {
    400: "Malformed request (a body that is not UTF-8 JSON, a bad header), or refused by the rule named in `error`",
    401: "Not logged in, or the token has expired",
    402: "The organizer's gas budget is used up",
    403: "Not allowed for this account",
    404: "No such thing",
    409: "Conflicts with the current state (already done, still in progress)",
    410: "Used up or expired",
    413: "The request body is larger than 1 MiB",
    422: "The request does not match the schema",
    429: "Too many attempts; see Retry-After",
    431: "The request headers are larger than 16 KiB",
    503: "The chain or the contracts are not reachable yet, or the database could not store the request (nothing was "
         "stored); see Retry-After",
}


def errors(*statuses: int) -> dict[int, dict]:
    """OpenAPI `responses` for the errors a route raises itself (those every route of its kind can give are added by
    document_errors)."""
    return {status: {"model": ValidationErrorPublic if status == 422 else ErrorPublic, "description": WHY[status]}
            for status in statuses}
