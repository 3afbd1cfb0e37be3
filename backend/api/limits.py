"""Limits on what a request may make the server hold before any route sees it: the body (checked against its
Content-Length before anything is read, and counted as it arrives, so a chunked body cannot go past it either) and
the request's headers. Over a limit the answer is the app's JSON error, in both languages."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest body the API takes is a proposal (two 20,000-character bodies, at most ~240 KB as JSON escapes); the QR
# sheet and the web app's forms send a few hundred bytes, and nothing uploads files.
MAX_BODY_BYTES = 1024 * 1024
# Browsers send a few kilobytes (the session cookie is 43 characters); a token is 43 characters too.
MAX_HEADER_BYTES = 16 * 1024

BODY_TOO_LARGE = {"error": "body_too_large",
                  "message": f"The request body is larger than {MAX_BODY_BYTES // 1024 // 1024} MiB. / "
                             f"リクエストの本文が大きすぎます（上限 {MAX_BODY_BYTES // 1024 // 1024} MiB）。"}
HEADERS_TOO_LARGE = {"error": "headers_too_large",
                     "message": f"The request headers are larger than {MAX_HEADER_BYTES // 1024} KiB. / "
                                f"リクエストヘッダーが大きすぎます（上限 {MAX_HEADER_BYTES // 1024} KiB）。"}
BAD_LENGTH = {"error": "invalid_content_length",
              "message": "The Content-Length header is not a number. / Content-Length ヘッダーが正しくありません。"}


async def _refuse(send: Send, status: int, body: dict) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
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
            await _refuse(send, 431, HEADERS_TOO_LARGE)
            return
        lengths = [value for name, value in headers if name == b"content-length"]
        if lengths:
            if not all(value.strip().isdigit() for value in lengths):
                await _refuse(send, 400, BAD_LENGTH)
                return
            if max(int(value) for value in lengths) > self.max_body:
                await _refuse(send, 413, BODY_TOO_LARGE)  # the body is never read
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
                await _refuse(send, 413, BODY_TOO_LARGE)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}],
                                      receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed
