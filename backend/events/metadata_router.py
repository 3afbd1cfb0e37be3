"""ERC-1155 metadata and generated badge images.

These URLs are baked into the badge contract's URI template, so they live at the site root, outside the versioned
`/api` namespace, and must never move."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from backend.events import metadata as service
from backend.platform.http import SessionDep, SettingsDep

router = APIRouter(tags=["metadata"])


@router.get("/metadata/{token_hex}.json")
def metadata(token_hex: str, session: SessionDep, settings: SettingsDep) -> dict:
    """ERC-1155 metadata of a badge (the contract's URI template, `{id}` as 64 hex digits), in Japanese with an
    English localization."""
    return service.metadata(session=session, token_hex=token_hex, base_url=settings.public_base_url)


@router.get("/metadata/{locale}/{token_hex}.json")
def metadata_localized(locale: str, token_hex: str, session: SessionDep) -> dict:
    return service.metadata_localized(session=session, locale=locale, token_hex=token_hex)


@router.get("/metadata/{token_hex}.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def badge_image(token_hex: str, session: SessionDep):
    """A generated badge image: the event's title in both languages, its category and points."""
    # organizers write the titles: no script may run from an image served on the API's origin
    return Response(service.badge_image(session=session, token_hex=token_hex), media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
