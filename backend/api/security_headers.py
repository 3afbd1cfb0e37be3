"""The headers every answer carries that tell a browser what it may do with it: a Content-Security-Policy (for the
pages: scripts and styles from this site only, an inline script only with the request's nonce; for the API: nothing
at all), never in a frame, no MIME sniffing, no referrer to other sites, and HSTS once the site is served over https.

A pure ASGI middleware, outermost, so that every answer gets them: pages, the API, the static files, the error pages
and the request limits' refusals. A route that sets a policy of its own (the badge image) keeps it, framing refused.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.main import API_PREFIX

# FastAPI's interactive API docs: Swagger UI and ReDoc come from their CDN, with an inline script that gets the nonce
# (backend/app.py serves them so).
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
DOCS_CDN = "https://cdn.jsdelivr.net"

# The pages' scripts are app.js and, at the counter, jsQR (both from this site); their styles are app.css. No page
# needs anything from another origin, so nothing is allowed from one. Inline `style` attributes are refused too: the
# pages draw their bars with classes (static/app.css `.w0` .. `.w100`), and a script that sets a width goes through
# the CSSOM, which the policy allows.
PAGE_POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self'; "
               "connect-src 'self'; font-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")
# JSON and CSV: nothing in them is ever to be run or shown as a document.
API_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# For developers only, and the one place where styles are inline: Swagger UI and ReDoc set them (ReDoc also starts
# a worker from a blob). Scripts still only from the CDN and with the request's nonce.
DOCS_POLICY = (f"default-src 'none'; script-src {DOCS_CDN} 'nonce-{{nonce}}'; "
               f"style-src {DOCS_CDN} https://fonts.googleapis.com 'unsafe-inline'; "
               "font-src https://fonts.gstatic.com; "
               f"img-src 'self' data: {DOCS_CDN} https://fastapi.tiangolo.com; connect-src 'self'; worker-src blob:; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

COMMON = {
    "X-Content-Type-Options": "nosniff",
    # Same-site requests keep theirs (the forms' check in backend/web/forms.py may fall back on it); other sites learn
    # nothing of the page a link was followed from.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    # The counter's scanner uses the camera; nothing uses anything else of the device.
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
}
# Two years, the preload lists' minimum: once a site is https, a browser should never again try it over http.
HSTS = "max-age=63072000"


def policy_for(path: str, nonce: str) -> str:
    if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
        return API_POLICY
    if path in DOCS_PATHS:
        return DOCS_POLICY.format(nonce=nonce)
    return PAGE_POLICY.format(nonce=nonce)


def csp_nonce(scope: Scope) -> str:
    """The request's nonce: a page that needs an inline script writes it into the script's `nonce` attribute."""
    return scope.get("state", {}).get("csp_nonce", "")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, https: bool):
        """`https`: the site's public address is https (Settings.public_base_url), whatever uvicorn itself sees
        behind a proxy that ends TLS."""
        self.app, self.https = app, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        policy = policy_for(scope["path"], nonce)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                own = headers.get("content-security-policy")
                if own is None:
                    headers["Content-Security-Policy"] = policy
                elif "frame-ancestors" not in own:  # a route's own policy (the badge image): never framed either
                    headers["Content-Security-Policy"] = f"{own}; frame-ancestors 'none'"
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                if self.https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
