"""Perks for members: those they can use now (or are close to), and a perk's page with the QR pass to show at the
counter."""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from backend.accounts.deps import OptionalUser, get_current_user
from backend.accounts.models import User
from backend.i18n import Translator, language_of
from backend.organizations import service as organizations
from backend.perks import service as perks
from backend.perks.models import Perk
from backend.perks.schemas import PerkPassPublic, PerkStatusPublic
from backend.platform.config import Settings
from backend.platform.errors import DomainError
from backend.platform.http import DbId, SessionDep, SettingsDep
from backend.web.render import render
from backend.web.rule_text import describe_rule

router = APIRouter(include_in_schema=False)


@router.get("/perks", response_class=HTMLResponse)
def perks_page(request: Request, session: SessionDep, user: OptionalUser):
    """Perks that can be used now: for a member, the ones their badges qualify for first, then those they are close
    to (some of the badges already), then the rest."""
    texts = Translator(language_of(request))
    rows = perks.list_perks(session=session)
    statuses = {p.id: perks.perk_status(session=session, perk=p, user=user) for p in rows} if user else {}
    titles = perks.rule_events(session=session, rules=(p.rule for p in rows))
    return render(request, "perks.html", user, groups=_grouped(rows, statuses), statuses=statuses,
                  rules={p.id: describe_rule(texts, p.rule, titles) for p in rows},
                  organizations=organizations.organizations_by_id(session=session))


def _grouped(rows: list[Perk], statuses: dict[int, PerkStatusPublic]) -> dict[str, list[Perk]]:
    groups = {"available": [], "close": [], "other": []}
    for perk in rows:
        status = statuses.get(perk.id)
        usable = status is not None and status.progress.eligible and status.remaining != 0
        close = status is not None and not status.progress.eligible and status.progress.badges > 0
        groups["available" if usable else "close" if close else "other"].append(perk)
    return groups


@router.get("/perks/{perk_id}", response_class=HTMLResponse)
def perk_page(perk_id: DbId, request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser):
    """A perk; for a member who can use it, the QR code to show at the counter (renewed by the page's script before
    its 60 s are over)."""
    texts = Translator(language_of(request))
    perk = perks.get_perk(session=session, perk_id=perk_id)
    status = current = refusal = None
    if user is not None:
        status = perks.perk_status(session=session, perk=perk, user=user)
        try:  # viewing the page writes a pass: kept as it was for now (another issue changes it)
            current = _create_pass(session, settings, user, perk_id)
        except DomainError as exc:
            refusal = exc.code
    titles = perks.rule_events(session=session, rules=[perk.rule])
    return render(request, "perk.html", user, perk=perk, organization=perk.organization, status=status,
                  current=current, qr=_pass_svg(current) if current else None, refusal=refusal,
                  rule=describe_rule(texts, perk.rule, titles))


@router.post("/perks/{perk_id}/pass.svg")
def perk_pass_qr(perk_id: DbId, request: Request, session: SessionDep, settings: SettingsDep):
    """A new pass as a QR image, for the perk page's script (the session cookie and the API's header rule; not a
    dependency, which would take a bearer token too)."""
    user = get_current_user(request, session, None)
    current = _create_pass(session, settings, user, perk_id)
    return Response(_pass_svg(current), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store", "X-Short-Code": current.short_code,
                             "X-Valid-For": str(current.valid_for_s)})


def _create_pass(session, settings: Settings, user: User, perk_id: int) -> PerkPassPublic:
    return perks.create_pass(session=session, user=user, perk_id=perk_id,
                             secret_key=settings.secret_key.get_secret_value(), base_url=settings.public_base_url)


def _pass_svg(current: PerkPassPublic) -> str:
    return segno.make(current.redeem_url, error="m").svg_inline(scale=6, border=4, dark="#000", light="#fff")
