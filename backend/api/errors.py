"""One JSON shape for every error: {"error": <code>, "message": <text in the request's language>, **params}.

Services raise DomainError (backend/platform/errors.py); the text of each code comes from the gettext catalogs."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from backend.accounts.deps import get_current_user, get_loop_user
from backend.i18n import error_message, language_of
from backend.platform.errors import DomainError, Unavailable, Unprocessable
from backend.platform.group_commit import StorageUnavailable
from backend.platform.http import (
    CHAIN_RETRY_AFTER_S,
    errors,
    get_services,
    get_writes,
)

STORAGE_RETRY_AFTER_S = 5  # a database busy past its lock timeout, or a full disk an operator is freeing


def _dependencies(dependant) -> set:
    calls = set()
    for sub in dependant.dependencies:
        calls.add(sub.call)
        calls |= _dependencies(sub)
    return calls


def _api_routes(router) -> list[APIRoute]:
    """Every route of the router and the routers included in it (FastAPI keeps included routers as branches)."""
    found = []
    for route in router.routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif getattr(route, "original_router", None) is not None:
            found += _api_routes(route.original_router)
    return found


def document_errors(app: FastAPI) -> None:
    """Declares in the OpenAPI schema the errors that follow from what a route depends on: 401 for a logged-in
    member, 503 for the contracts or a write through the group committer, 404 for an id in the path, 400/413/422
    for a body, 422 for any parameter; and 431 for every route. Route-specific ones come from `errors(...)` on the
    route."""
    for route in _api_routes(app.router):
        if not route.include_in_schema:
            continue
        calls = _dependencies(route.dependant)
        statuses = {431}
        if get_current_user in calls or get_loop_user in calls:
            statuses.add(401)
        if get_services in calls or get_writes in calls:
            statuses.add(503)
        if route.dependant.path_params:
            statuses.add(404)
        if route.body_field is not None:
            statuses |= {400, 413, 422}
        if route.dependant.path_params or route.dependant.query_params or route.body_field is not None:
            statuses.add(422)  # replaces FastAPI's own 422 schema, which is not the shape this app answers with
        for status, response in errors(*statuses).items():
            route.responses.setdefault(status, response)


def _code_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _is_page(request: Request) -> bool:
    """A person's browser asking for a page (not the JSON API, badge metadata, or the web app's own fetch calls)."""
    path = request.url.path
    return (not path.startswith(("/api/", "/metadata/", "/static/")) and "text/html" in request.headers.get("accept", "")
            and request.headers.get("x-kyoso-request") != "1")


# The errors FastAPI and Starlette raise themselves (English details), as the app's codes.
STARLETTE_CODES = {
    "There was an error parsing the body": "invalid_body",
    "Not Found": "not_found",
    "Method Not Allowed": "method_not_allowed",
}

PageRenderer = Callable[[Request, DomainError], Response]


def error_body(request: Request, error: DomainError) -> dict:
    """`{"error": code, "message": <in the request's language>, **params}`."""
    message = error_message(error.code, language_of(request), **error.params)
    return {"error": error.code, "message": message, **_jsonable(error.params)}


def _jsonable(params: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()}


def install_error_handlers(app: FastAPI, page: PageRenderer) -> None:
    """Every error as `error_body` JSON, or as `page` (the web app's error page) for a person's browser."""

    def answer(request: Request, error: DomainError) -> Response:
        if _is_page(request):
            return page(request, error)
        return JSONResponse(error_body(request, error), status_code=error.status, headers=error.headers or None)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        return answer(request, exc)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        code = STARLETTE_CODES.get(str(exc.detail)) or _code_for(exc.status_code)
        return answer(request, DomainError(code, exc.status_code, headers=exc.headers))

    @app.exception_handler(requests.exceptions.ConnectionError)
    @app.exception_handler(requests.exceptions.Timeout)
    @app.exception_handler(requests.exceptions.HTTPError)
    async def chain_unavailable(request: Request, exc: Exception):
        """A request that needs the chain node while it does not answer (web3's HTTP provider), or while the node's
        provider refuses it (an HTTP error status: rate limited, the API key refused): 503, try again. Nothing the
        request had stored is lost; claims and votes are accepted without the node anyway. The exception, which names
        the node's URL, is neither answered nor logged."""
        return answer(request, Unavailable("chain_unavailable", retry_after=CHAIN_RETRY_AFTER_S))

    @app.exception_handler(StorageUnavailable)
    async def storage_unavailable(request: Request, exc: StorageUnavailable):
        """A write whose group transaction failed (backend/platform/group_commit.py): nothing of it was stored, so the
        same request may simply be sent again."""
        return answer(request, Unavailable("storage_unavailable", retry_after=STORAGE_RETRY_AFTER_S))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        body = error_body(request, Unprocessable("invalid_request", summary=summary))
        body.pop("summary")
        return JSONResponse({**body, "details": problems}, status_code=422)
