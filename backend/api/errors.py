"""One JSON shape for every error: {"error": <code>, "message": <text for people>}."""

from __future__ import annotations

from http import HTTPStatus

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from backend.platform.group_commit import StorageUnavailable


CHAIN_RETRY_AFTER_S = 10  # a stalled node usually answers again within seconds; phones retry after this
STORAGE_RETRY_AFTER_S = 5  # a database busy past its lock timeout, or a full disk an operator is freeing


class ErrorPublic(BaseModel):
    """Every error answer. Some carry more fields for programs (`claim_id`, `retry_after`, `threshold`, ...)."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="a stable code, e.g. event_not_found")
    message: str = Field(description="for people, in English and Japanese")


class ProblemPublic(BaseModel):
    field: str
    message: str


class ValidationErrorPublic(ErrorPublic):
    details: list[ProblemPublic] = Field(default_factory=list, description="for a request that does not match the schema")


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
    from backend.api.deps import get_current_user, get_loop_user, get_services, get_writes

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


# The English-only details FastAPI and Starlette raise themselves, in the app's words.
STARLETTE_ERRORS = {
    "There was an error parsing the body": {
        "error": "invalid_body",
        "message": "The request body could not be read: send UTF-8 JSON (nested at most a few hundred levels, "
                   "numbers of at most 4300 digits). / リクエストの本文を読み取れませんでした。UTF-8 の JSON で送ってください。"},
    "Not Found": {"error": "not_found", "message": "No such page or API route. / ページが見つかりません。"},
    "Method Not Allowed": {"error": "method_not_allowed",
                           "message": "This route does not take this HTTP method. / このメソッドは使えません。"},
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if _is_page(request):
            from backend.web.routes import error_page  # the web app's own page for people, in their language

            return error_page(request, exc)
        if isinstance(exc.detail, dict) and "error" in exc.detail:
            body = exc.detail
        else:
            body = STARLETTE_ERRORS.get(str(exc.detail)) or {"error": _code_for(exc.status_code),
                                                             "message": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    def unavailable(request: Request, body: dict, retry_after_s: int):
        """503: the web app's own page for people, else the JSON error with Retry-After."""
        if _is_page(request):
            from backend.web.routes import error_page

            return error_page(request, HTTPException(503, body["message"]))
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(retry_after_s)})

    @app.exception_handler(requests.exceptions.ConnectionError)
    @app.exception_handler(requests.exceptions.Timeout)
    async def chain_unavailable(request: Request, exc: Exception):
        """A request that needs the chain node while it does not answer (web3's HTTP provider): 503, try again.
        Nothing the request had stored is lost; claims and votes are accepted without the node anyway."""
        return unavailable(request, {"error": "chain_unavailable",
                                     "message": "The blockchain node is not answering; please try again shortly. / "
                                                "ブロックチェーンに接続できません。しばらくしてからお試しください。"},
                           CHAIN_RETRY_AFTER_S)

    @app.exception_handler(StorageUnavailable)
    async def storage_unavailable(request: Request, exc: StorageUnavailable):
        """A write whose group transaction failed (backend/platform/group_commit.py): nothing of it was stored, so the same
        request may simply be sent again."""
        return unavailable(request, {"error": "storage_unavailable",
                                     "message": "Nothing was saved: the database is busy. Please try again in a few "
                                                "seconds. / 保存できませんでした（データベースが混み合っています）。"
                                                "数秒後にもう一度お試しください。"},
                           STORAGE_RETRY_AFTER_S)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return JSONResponse(
            {"error": "invalid_request", "message": f"Invalid request: {summary}", "details": problems},
            status_code=422,
        )
