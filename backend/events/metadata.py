"""ERC-1155 metadata of a badge and its generated image, read by wallets and marketplaces."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.events.models import Event
from backend.organizations.models import Organization
from backend.platform.errors import NotFound

LOCALES = ("ja", "en")

CATEGORY_COLOURS = {"culture": "#7b2d26", "crafts": "#8a5a00", "food": "#a23b00", "art": "#5b2a86",
                    "sports": "#0b5d3b", "volunteering": "#1f4e79", "hackathon": "#222222", "festival": "#9c1c4a",
                    "workshop": "#4a4a00", "cleanup": "#1d5f5f", "other": "#3d3d3d"}


def event_by_token(*, session: Session, token_hex: str) -> Event:
    """The event of a badge, by its token id as the contract's URI template writes it (64 hex digits) or in
    decimal."""
    try:
        token_id = int(token_hex, 16) if len(token_hex) == 64 else int(token_hex)
    except ValueError:
        raise NotFound("badge_not_found") from None
    if not 0 <= token_id < 2**63:  # token ids are stored as 64-bit integers: a larger one is no badge of ours
        raise NotFound("badge_not_found")
    event = session.scalar(select(Event).where(Event.token_id == token_id))
    if event is None:
        raise NotFound("badge_not_found")
    return event


def metadata(*, session: Session, token_hex: str, base_url: str) -> dict:
    """The badge's metadata in Japanese, with an English localization."""
    event = event_by_token(session=session, token_hex=token_hex)
    org = session.get(Organization, event.organization_id)
    common = {"image": f"{base_url}/metadata/{token_hex}.svg", "external_url": f"{base_url}/events/{event.id}"}
    return {
        "name": event.title_ja, "description": event.description_ja, **common,
        "properties": {"organization": org.name_ja, "category": event.category, "points": event.points,
                       "venue": event.venue, "starts_at": event.starts_at.isoformat()},
        "localization": {"uri": f"{base_url}/metadata/{{locale}}/{token_hex}.json", "default": "ja",
                         "locales": list(LOCALES)},
    }


def metadata_localized(*, session: Session, locale: str, token_hex: str) -> dict:
    if locale not in LOCALES:
        raise NotFound("locale_not_found")
    event = event_by_token(session=session, token_hex=token_hex)
    org = session.get(Organization, event.organization_id)
    title, description, org_name = ((event.title_ja, event.description_ja, org.name_ja) if locale == "ja"
                                    else (event.title_en, event.description_en, org.name_en))
    return {"name": title, "description": description,
            "properties": {"organization": org_name, "category": event.category, "points": event.points}}


def badge_image(*, session: Session, token_hex: str) -> str:
    return badge_svg(event_by_token(session=session, token_hex=token_hex))


def _text(y: int, size: int, content: str) -> str:
    return (f'<text x="200" y="{y}" text-anchor="middle" font-size="{size}" fill="#fff" font-family="sans-serif">'
            f"{content}</text>")


def badge_svg(event: Event) -> str:
    """The event's title in both languages, its category and points, on the category's colour."""
    colour = CATEGORY_COLOURS.get(event.category, "#3d3d3d")
    return "\n".join([
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" role="img" '
        f"aria-label={quoteattr(event.title_en)}>",
        f'<rect width="400" height="400" rx="48" fill="{colour}"/>',
        '<circle cx="200" cy="150" r="90" fill="#fff" opacity="0.15"/>',
        _text(165, 64, "共創"),
        _text(270, 24, escape(event.title_ja[:18])),
        _text(305, 18, escape(event.title_en[:32])),
        _text(350, 18, f"{escape(event.category)} · {event.points} pt"),
        "</svg>",
    ])
