"""ERC-1155 metadata and generated badge images.

These URLs are baked into the badge contract's URI template, so they live at the site root, outside the versioned
`/api` namespace, and must never move."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.deps import SessionDep, SettingsDep
from backend.events.models import Event
from backend.organizations.models import Organization

router = APIRouter(tags=["metadata"])


@router.get("/metadata/{token_hex}.json")
def metadata(token_hex: str, request: Request, session: SessionDep, settings: SettingsDep) -> dict:
    """ERC-1155 metadata of a badge (the contract's URI template, `{id}` as 64 hex digits), in Japanese with an
    English localization."""
    event = _event_by_token(session, token_hex)
    org = session.get(Organization, event.organization_id)
    base = settings.public_base_url
    common = {"image": f"{base}/metadata/{token_hex}.svg", "external_url": f"{base}/events/{event.id}"}
    return {
        "name": event.title_ja, "description": event.description_ja, **common,
        "properties": {"organization": org.name_ja, "category": event.category, "points": event.points,
                       "venue": event.venue, "starts_at": event.starts_at.isoformat()},
        "localization": {"uri": f"{base}/metadata/{{locale}}/{token_hex}.json", "default": "ja", "locales": ["ja", "en"]},
    }


@router.get("/metadata/{locale}/{token_hex}.json")
def metadata_localized(locale: str, token_hex: str, session: SessionDep, settings: SettingsDep) -> dict:
    if locale not in ("ja", "en"):
        raise HTTPException(404, {"error": "locale_not_found", "message": "Locales: ja, en"})
    event = _event_by_token(session, token_hex)
    org = session.get(Organization, event.organization_id)
    title, description, org_name = ((event.title_ja, event.description_ja, org.name_ja) if locale == "ja"
                                    else (event.title_en, event.description_en, org.name_en))
    return {"name": title, "description": description,
            "properties": {"organization": org_name, "category": event.category, "points": event.points}}


@router.get("/metadata/{token_hex}.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def badge_image(token_hex: str, session: SessionDep):
    """A generated badge image: the event's title in both languages, its category and points."""
    event = _event_by_token(session, token_hex)
    # organizers write the titles: no script may run from an image served on the API's origin
    return Response(badge_svg(event), media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


CATEGORY_COLOURS = {"culture": "#7b2d26", "crafts": "#8a5a00", "food": "#a23b00", "art": "#5b2a86",
                    "sports": "#0b5d3b", "volunteering": "#1f4e79", "hackathon": "#222222", "festival": "#9c1c4a",
                    "workshop": "#4a4a00", "cleanup": "#1d5f5f", "other": "#3d3d3d"}


def badge_svg(event: Event) -> str:
    from xml.sax.saxutils import escape, quoteattr

    colour = CATEGORY_COLOURS.get(event.category, "#3d3d3d")
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" role="img" aria-label={quoteattr(event.title_en)}>
<rect width="400" height="400" rx="48" fill="{colour}"/>
<circle cx="200" cy="150" r="90" fill="#fff" opacity="0.15"/>
<text x="200" y="165" text-anchor="middle" font-size="64" fill="#fff" font-family="sans-serif">共創</text>
<text x="200" y="270" text-anchor="middle" font-size="24" fill="#fff" font-family="sans-serif">{escape(event.title_ja[:18])}</text>
<text x="200" y="305" text-anchor="middle" font-size="18" fill="#fff" font-family="sans-serif">{escape(event.title_en[:32])}</text>
<text x="200" y="350" text-anchor="middle" font-size="18" fill="#fff" font-family="sans-serif">{escape(event.category)} · {event.points} pt</text>
</svg>"""


def _event_by_token(session: Session, token_hex: str) -> Event:
    try:
        token_id = int(token_hex, 16) if len(token_hex) == 64 else int(token_hex)
    except ValueError:
        raise HTTPException(404, {"error": "badge_not_found", "message": "No such badge."}) from None
    if not 0 <= token_id < 2**63:  # token ids are stored as 64-bit integers: a larger one is no badge of ours
        raise HTTPException(404, {"error": "badge_not_found", "message": "No such badge."})
    event = session.scalar(select(Event).where(Event.token_id == token_id))
    if event is None:
        raise HTTPException(404, {"error": "badge_not_found", "message": "No such badge."})
    return event

