"""The interactive API docs (/docs, Swagger UI; /redoc), as FastAPI serves them, with the request's CSP nonce on their
inline scripts: the pages' Content-Security-Policy (backend/api/security_headers.py) runs no inline script without
it."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from backend.api.security_headers import csp_nonce

OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def _with_nonce(page: HTMLResponse, request: Request) -> HTMLResponse:
    html = page.body.decode().replace("<script>", f'<script nonce="{csp_nonce(request.scope)}">')
    return HTMLResponse(html)


def install_docs(app: FastAPI) -> None:
    """For an app made with `docs_url=None, redoc_url=None`."""

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return _with_nonce(get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI",
                                               oauth2_redirect_url=OAUTH2_REDIRECT), request)

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return _with_nonce(get_swagger_ui_oauth2_redirect_html(), request)

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return _with_nonce(get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} - ReDoc"), request)
