"""The web app: pages served by the backend itself, server-rendered (Jinja2), Japanese and English, mobile first.

Pages are thin: FastAPI's dependencies, then the domains' services (the same rules the JSON API runs), then a
template (render.py); a refusal is a DomainError, shown as the error page in the request's language. Actions (claim,
vote, delegate, propose, create) are small fetch calls from static/app.js to the JSON API, authenticated by the
session cookie plus the X-Kyoso-Request header (backend/accounts/deps.py). Log-in, sign-up, log-out and the QR sheet
download are plain form posts, which also work without JavaScript (forms.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from backend.web.pages import account, auth, console, dev, governance, members, perks, perks_console, public, sponsor
from backend.web.render import STATIC_DIR, error_page

__all__ = ["STATIC_DIR", "error_page", "router"]

router = APIRouter(include_in_schema=False)
# In this order: where two paths overlap, the first route wins (pages/governance.py keeps /proposals/new before
# /proposals/{proposal_id} itself).
for pages in (public, auth, account, members, governance, console, perks, perks_console, sponsor, dev):
    router.include_router(pages.router)
