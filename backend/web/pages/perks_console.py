"""The organizer's side of perks and missions: an organization's perks and missions with their use over the last
days, and the counter where staff redeem a member's pass."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from backend.accounts.deps import OptionalUser
from backend.events import service as events
from backend.i18n import Translator, language_of
from backend.organizations import service as organizations
from backend.perks import service as perks
from backend.platform.config import ROOT
from backend.platform.errors import NotFound
from backend.platform.http import DbId, SessionDep
from backend.reports import service as reports
from backend.web.render import login_redirect, render
from backend.web.rule_text import describe_rule

JSQR = ROOT / "node_modules" / "jsqr" / "dist" / "jsQR.js"
# The events a new perk's or mission's rule can name, the latest first: enough for a city's season of events.
RULE_EVENT_CHOICES = 300

router = APIRouter(include_in_schema=False)


@router.get("/console/organizations/{organization_id}/perks", response_class=HTMLResponse)
def console_perks(organization_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return login_redirect(request)
    texts = Translator(language_of(request))
    overview = perks.console_overview(session=session, user=user, organization_id=organization_id)
    titles = perks.rule_events(session=session, rules=[x.rule for x in [*overview.perks, *overview.missions]])
    rules = {("perk", p.id): describe_rule(texts, p.rule, titles) for p in overview.perks}
    rules.update({("mission", m.id): describe_rule(texts, m.rule, titles) for m in overview.missions})
    days, redeemed, completed = reports.activity(session=session, organization_id=organization_id)
    choices = events.list_events(session=session, upcoming=False, limit=RULE_EVENT_CHOICES, newest_first=True)
    return render(request, "console_perks.html", user, organization=overview.organization, perks=overview.perks,
                  missions=overview.missions, used=overview.redemptions, done=overview.completions, rules=rules,
                  redeemed=redeemed, completed=completed, chart_rows=[(texts.day(at), r, c) for (at, r), c in days],
                  all_events=choices, organizations=organizations.organizations_by_id(
                      session=session, ids={e.organization_id for e in choices}))


@router.get("/console/redeem", response_class=HTMLResponse)
def console_redeem(request: Request, user: OptionalUser):
    """Staff accept a member's perk: camera scan of the QR code, or its short code typed in."""
    if user is None:
        return login_redirect(request)
    return render(request, "console_redeem.html", user)


@router.get("/vendor/jsqr.js")
def jsqr():
    """QR decoding for browsers without BarcodeDetector (the npm package jsqr, from node_modules: `npm ci`)."""
    if not JSQR.is_file():
        raise NotFound("not_found")
    return FileResponse(JSQR, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
