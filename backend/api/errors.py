"""One JSON shape for every error: {"error": <code>, "message": <text for people>}."""

from __future__ import annotations

from http import HTTPStatus

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


CHAIN_RETRY_AFTER_S = 10  # a stalled node usually answers again within seconds; phones retry after this


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if _is_page(request):
            from backend.web.routes import error_page  # the web app's own page for people, in their language

            return error_page(request, exc)
        if isinstance(exc.detail, dict) and "error" in exc.detail:
            body = exc.detail
        else:
            body = {"error": _code_for(exc.status_code), "message": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(requests.exceptions.ConnectionError)
    @app.exception_handler(requests.exceptions.Timeout)
    async def chain_unavailable(request: Request, exc: Exception):
        """A request that needs the chain node while it does not answer (web3's HTTP provider): 503, try again.
        Nothing the request had stored is lost; claims and votes are accepted without the node anyway."""
        status = 503
        body = {"error": "chain_unavailable",
                "message": "The blockchain node is not answering; please try again shortly. / "
                           "ブロックチェーンに接続できません。しばらくしてからお試しください。"}
        if _is_page(request):
            from backend.web.routes import error_page

            return error_page(request, HTTPException(status, body["message"]))
        return JSONResponse(body, status_code=status, headers={"Retry-After": str(CHAIN_RETRY_AFTER_S)})

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
