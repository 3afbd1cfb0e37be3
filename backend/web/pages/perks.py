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
from backend.web.forms import form_user
from backend.web.render import PageNumber, login_redirect, pages_of, render
from backend.web.rule_text import describe_rule

router = APIRouter(include_in_schema=False)


PERKS_PER_PAGE = 50


@router.get("/perks", response_class=HTMLResponse)
def perks_page(request: Request, session: SessionDep, user: OptionalUser, page: PageNumber = 1):
    """Perks that can be used now, a page at a time: for a member, the ones their badges qualify for first, then
    those they are close to (some of the badges already), then the rest."""
    texts = Translator(language_of(request))
    rows = perks.list_perks(session=session, limit=PERKS_PER_PAGE, offset=(page - 1) * PERKS_PER_PAGE)
    statuses = {p.id: perks.perk_status(session=session, perk=p, user=user) for p in rows} if user else {}
    titles = perks.rule_events(session=session, rules=(p.rule for p in rows))
    return render(request, "perks.html", user, groups=_grouped(rows, statuses), statuses=statuses,
                  rules={p.id: describe_rule(texts, p.rule, titles) for p in rows},
                  page=page, pages=pages_of(rows.total, PERKS_PER_PAGE),
                  organizations=organizations.organizations_by_id(session=session,
                                                                  ids={p.organization_id for p in rows}))


def _grouped(rows: list[Perk], statuses: dict[int, PerkStatusPublic]) -> dict[str, list[Perk]]:
    groups = {"available": [], "close": [], "other": []}
    for perk in rows:
        status = statuses.get(perk.id)
        usable = status is not None and status.progress.eligible and status.remaining != 0
        close = status is not None and not status.progress.eligible and status.progress.badges > 0
        groups["available" if usable else "close" if close else "other"].append(perk)
    return groups


@router.get("/perks/{perk_id}", response_class=HTMLResponse)
def perk_page(perk_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    """A perk; for a member who can use it, the button that makes the QR code to show at the counter. Opening the
    page writes nothing: a pass is a row, and a GET (a link preview, a crawler, a reload) must not make one."""
    return _perk_page(request, session, user, perk_id, current=None)


@router.post("/perks/{perk_id}", response_class=HTMLResponse)
def perk_page_with_pass(perk_id: DbId, request: Request, session: SessionDep, settings: SettingsDep):
    """The button without JavaScript (a plain form post from this site): the page again, with a new pass."""
    user = form_user(request, session)
    if user is None:
        return login_redirect(request)
    try:
        current = _create_pass(session, settings, user, perk_id)
    except DomainError:
        current = None  # the page says why (the same rules, read again)
    return _perk_page(request, session, user, perk_id, current=current)


def _perk_page(request: Request, session, user: User | None, perk_id: int, current: PerkPassPublic | None):
    texts = Translator(language_of(request))
    perk = perks.get_perk(session=session, perk_id=perk_id)
    status = refusal = None
    if user is not None:
        status = perks.perk_status(session=session, perk=perk, user=user)
        refusal = perks.pass_refusal(session=session, perk=perk, user=user)
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
