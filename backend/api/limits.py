"""Limits on what a request may make the server hold before any route sees it: the body (checked against its
Content-Length before anything is read, and counted as it arrives, so a chunked body cannot go past it either) and
the request's headers. Over a limit the answer is the app's JSON error, in the request's language."""

from __future__ import annotations

import json

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.i18n import error_message, language_of
from backend.platform.errors import DomainError

# The largest body the API takes is a proposal (two 20,000-character bodies, at most ~240 KB as JSON escapes); the QR
# sheet and the web app's forms send a few hundred bytes, and nothing uploads files.
MAX_BODY_BYTES = 1024 * 1024
# Browsers send a few kilobytes (the session cookie is 43 characters); a token is 43 characters too.
MAX_HEADER_BYTES = 16 * 1024

BODY_TOO_LARGE = DomainError("body_too_large", 413, limit=f"{MAX_BODY_BYTES // 1024 // 1024} MiB")
HEADERS_TOO_LARGE = DomainError("headers_too_large", 431, limit=f"{MAX_HEADER_BYTES // 1024} KiB")
BAD_LENGTH = DomainError("invalid_content_length", 400)


async def _refuse(scope: Scope, send: Send, error: DomainError) -> None:
    """The app's JSON error in the request's language (the routes never see this request)."""
    body = {"error": error.code, "message": error_message(error.code, language_of(HTTPConnection(scope)),
                                                          **error.params), **error.params}
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": error.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


class RequestLimits:
    """Pure ASGI middleware: reads at most MAX_BODY_BYTES (+1) of a body, then hands the app exactly that body."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES, max_headers: int = MAX_HEADER_BYTES):
        self.app, self.max_body, self.max_headers = app, max_body, max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if sum(len(name) + len(value) for name, value in headers) > self.max_headers:
            await _refuse(scope, send, HEADERS_TOO_LARGE)
            return
        lengths = [value for name, value in headers if name == b"content-length"]
        if lengths:
            if not all(value.strip().isdigit() for value in lengths):
                await _refuse(scope, send, BAD_LENGTH)
                return
            if max(int(value) for value in lengths) > self.max_body:
                await _refuse(scope, send, BODY_TOO_LARGE)  # the body is never read
                return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:  # a chunked (or lying) body: stop reading here
                await _refuse(scope, send, BODY_TOO_LARGE)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}],
                                      receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed
