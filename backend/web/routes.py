"""The web app's pages, served by the backend itself: server-rendered (Jinja2), Japanese and English, mobile first.

Pages read the same data the JSON API returns (they call the API's route functions); actions (claim, vote,
delegate, propose, create) are small fetch calls from static/app.js to the JSON API, authenticated by the session
cookie plus the X-Kyoso-Request header (backend/api/deps.py). Log-in, sign-up, log-out and the QR sheet download are
plain form posts, which also work without JavaScript; they check that the form came from this site.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import segno
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from backend.platform.security import secret_hash
from backend.api.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    DbId,
    OptionalUser,
    SessionDep,
    SettingsDep,
    get_current_user,
)
from backend.platform.config import ROOT
from backend.accounts import service as accounts
from backend.accounts.models import AccessToken, User
from backend.claims import service as claims
from backend.claims.models import Claim
from backend.events import service as events
from backend.events.models import Event
from backend.governance import delegation, proposals, treasury
from backend.governance.models import Vote
from backend.governance.votes import list_votes
from backend.missions import service as missions
from backend.missions.models import Mission
from backend.organizations.models import Membership, Organization
from backend.organizations.service import membership_of
from backend.perks import service as perks
from backend.perks.models import Perk, PerkRedemption
from backend.accounts.schemas import LoginCreate, SignupCreate
from backend.perks.schemas import RuleSpec
from backend.platform.errors import DomainError, Unauthorized
from backend.reports import service as reports
from backend.i18n import LANG_COOKIE, LANGUAGES, Translator, error_message, language_of

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"
# Voters on the proposal page, a page at a time: a phone shows a few screens of them, not a whole festival's (the
# page's p99 at 500 voters was ~50 ms, docs/benchmarks.md); the API's /proposals/{id}/votes pages through all of them.
VOTERS_PER_PAGE = 50

router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, user: User | None, status_code: int = 200, **context) -> HTMLResponse:
    lang = language_of(request)
    texts = Translator(lang)
    other = next(x for x in LANGUAGES if x != lang)
    response = TEMPLATES.TemplateResponse(request, template, {
        "t": texts, "tn": texts.plural, "lang": lang, "other_lang": other, "user": user, "path": request.url.path,
        **context,
    }, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:  # the visible switch: remembered for a year
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


def _services(request: Request):
    services = request.app.state.services
    if services is None:
        raise HTTPException(503, "The blockchain is not reachable yet; please try again shortly.")
    return services


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def _same_site_form(request: Request) -> None:
    """Form posts must come from this site's own pages (the session cookie would otherwise ride along)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None or urlparse(origin).netloc != request.url.netloc:
        raise HTTPException(403, "This form must be sent from Kyoso's own pages.")


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/me"


def _wants_json(request: Request) -> bool:
    return request.headers.get(CSRF_HEADER) == "1"


def _start_session(request: Request, token: str, target: str) -> Response:
    secure = request.url.scheme == "https"
    response = (Response(status_code=204) if _wants_json(request)
                else RedirectResponse(_safe_next(target), status_code=303))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure,
                        max_age=request.app.state.settings.access_token_ttl_s)
    return response


# ---------------------------------------------------------------------------------------------------- public pages


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: OptionalUser):
    upcoming = events.list_events(session=session, upcoming=True, limit=50)
    organizations = {o.id: o for o in session.scalars(select(Organization)).all()}
    return render(request, "home.html", user, events=upcoming, organizations=organizations)


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    event = events.get_event(session=session, event_id=event_id)
    return render(request, "event.html", user, event=event, organization=event.organization)


@router.get("/claim/{event_id}", response_class=HTMLResponse)
def claim_page(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    """Reached from a QR code: the secret is in the URL fragment, which only the page's script reads."""
    event = events.get_event(session=session, event_id=event_id)
    return render(request, "claim.html", user, event=event, organization=event.organization)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalUser):
    return render(request, "login.html", user, next=_safe_next(request.query_params.get("next")), error=None)


@router.post("/login")
def login_form(request: Request, session: SessionDep, settings: SettingsDep, email: str = Form(max_length=320),
               password: str = Form(max_length=200), next: str = Form(default="/me")):
    _same_site_form(request)
    try:
        token = accounts.login(session=session, body=LoginCreate(email=email, password=password),
                               token_ttl_s=settings.access_token_ttl_s)
    except (Unauthorized, ValueError):
        if _wants_json(request):
            raise Unauthorized("invalid_credentials") from None
        return render(request, "login.html", None, status_code=401, next=_safe_next(next), error="login_failed")
    return _start_session(request, token.access_token, next)


@router.post("/signup")
def signup_form(request: Request, session: SessionDep, settings: SettingsDep, email: str = Form(max_length=320),
                password: str = Form(max_length=200), display_name: str = Form(default="", max_length=100),
                next: str = Form(default="/me")):
    _same_site_form(request)
    lang = language_of(request)
    try:
        body = SignupCreate(email=email, password=password, display_name=display_name or None, locale=lang)
    except ValueError as exc:
        raise HTTPException(422, {"error": "invalid_request", "message": str(exc).splitlines()[-1]}) from None
    token = accounts.signup(session=session, vault=request.app.state.vault, body=body,
                            token_ttl_s=settings.access_token_ttl_s)
    return _start_session(request, token.access_token, next)


@router.post("/logout")
def logout(request: Request, session: SessionDep):
    _same_site_form(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        row = session.get(AccessToken, secret_hash(raw))
        if row is not None:
            session.delete(row)
            session.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---------------------------------------------------------------------------------------------------- members


@router.get("/me", response_class=HTMLResponse)
def my_page(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    services = _services(request)
    wallet = accounts.wallet_view(session=session, user=user, base_url=settings.public_base_url)
    history = claims.claims_of(session=session, user=user, explorer_tx_url=settings.explorer_tx_url)
    titles = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_({c.event_id for c in history})))}
    state = delegation.delegation_state(session=session, points=services.contracts.points, user=user)
    return render(request, "me.html", user, wallet=wallet, history=history, events=titles, delegation=state,
                  missions=missions.mission_statuses(session=session, user=user))


@router.get("/wallet", response_class=HTMLResponse)
def wallet_link(request: Request, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    return render(request, "wallet.html", user, chain_id=request.app.state.chain_id)


@router.get("/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, session: SessionDep, user: OptionalUser):
    services = _services(request)
    rows = proposals.list_proposals(session=session, w3=request.app.state.web3, contracts=services.contracts,
                                    limit=100, offset=0)
    return render(request, "proposals.html", user, proposals=rows)


@router.get("/proposals/new", response_class=HTMLResponse)
def new_proposal_page(request: Request, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    settings = proposals.governance_settings(contracts=_services(request).contracts, user=user)
    return render(request, "proposal_new.html", user, governance=settings)


@router.get("/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(proposal_id: DbId, request: Request, session: SessionDep, user: OptionalUser,
                  page: int = Query(default=1, ge=1, le=10**7, description="page of the voters' list")):
    services = _services(request)
    proposal = proposals.read_proposal(session=session, w3=request.app.state.web3, contracts=services.contracts,
                                       proposal_id=proposal_id, user=user, chain_id=request.app.state.chain_id)
    voter_count = session.scalar(select(func.count()).select_from(Vote).where(Vote.proposal_id == proposal_id))
    pages = max(1, -(-voter_count // VOTERS_PER_PAGE))
    page = min(page, pages)  # past the end (an old link, fewer voters since): the last page
    votes = list_votes(session=session, proposal_id=proposal_id, limit=VOTERS_PER_PAGE,
                       offset=(page - 1) * VOTERS_PER_PAGE)
    return render(request, "proposal.html", user, proposal=proposal, votes=votes, voter_count=voter_count,
                  page=page, pages=pages, first_listed=(page - 1) * VOTERS_PER_PAGE + 1)


@router.get("/treasury", response_class=HTMLResponse)
def treasury_page(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser):
    data = treasury.treasury_public(session=session, settings=settings, w3=request.app.state.web3,
                                    contracts=_services(request).contracts)
    return render(request, "treasury.html", user, treasury=data)


# ---------------------------------------------------------------------------------------------------- organizers


def _organizer_event(session, user: User, event_id: int) -> Event:
    return events.organizer_event(session=session, user=user, event_id=event_id)


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    orgs = session.scalars(select(Organization).join(Membership).where(Membership.user_id == user.id)
                           .order_by(Organization.id)).all()
    org_events = {o.id: session.scalars(select(Event).where(Event.organization_id == o.id)
                                        .order_by(Event.starts_at.desc())).all() for o in orgs}
    return render(request, "console.html", user, organizations=orgs, org_events=org_events)


@router.get("/console/events/{event_id}", response_class=HTMLResponse)
def console_event(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    event = _organizer_event(session, user, event_id)
    texts = Translator(language_of(request))
    counts = reports.claim_counts(session=session, event_id=event_id)
    buckets = reports.claim_buckets(session=session, event_id=event_id)
    return render(request, "console_event.html", user, event=event, counts=counts,
                  chart=[(texts.time(at), n) for at, n in buckets])


@router.get("/console/events/{event_id}/live")
def console_event_live(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser) -> dict:
    """The live count and chart data for the console page's script."""
    if user is None:
        raise HTTPException(401, "Log in first.")
    _organizer_event(session, user, event_id)
    texts, counts = Translator(language_of(request)), reports.claim_counts(session=session, event_id=event_id)
    buckets = reports.claim_buckets(session=session, event_id=event_id)
    return {**counts, "buckets": [{"label": texts.time(at), "count": n} for at, n in buckets],
            "label": texts.plural("claims_count", counts["total"], c=texts.number(counts["confirmed"]))}


def _form_user(request: Request, session) -> User | None:
    """The member behind a plain form post, once `_same_site_form` has checked where the form came from (the API's
    header rule cannot apply to a form without JavaScript)."""
    _same_site_form(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw is None:
        return None
    try:
        return get_current_user(request, session, HTTPAuthorizationCredentials(scheme="Bearer", credentials=raw))
    except HTTPException:
        return None


@router.post("/console/events/{event_id}/sheet")
def console_sheet(event_id: DbId, request: Request, session: SessionDep, settings: SettingsDep,
                  count: int = Form(ge=1, le=1000)):
    """The printable QR sheet as a download (a plain form post: works without JavaScript)."""
    user = _form_user(request, session)
    if user is None:
        return _login_redirect(request)
    png = events.code_sheet(session=session, user=user, event_id=event_id, count=count,
                            base_url=settings.public_base_url)
    return Response(png, media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="{events.code_sheet_filename(event_id)}"'})


@router.get("/console/events/{event_id}/kiosk", response_class=HTMLResponse)
def kiosk_page(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    event = _organizer_event(session, user, event_id)
    return render(request, "kiosk.html", user, event=event)


@router.get("/console/events/{event_id}/kiosk.svg")
def kiosk_qr(event_id: DbId, session: SessionDep, settings: SettingsDep, user: OptionalUser):
    """The current rotating code as a QR image (the kiosk page refreshes it)."""
    if user is None:
        raise HTTPException(401, "Log in first.")
    current = events.kiosk(session=session, user=user, event_id=event_id, base_url=settings.public_base_url)
    svg = segno.make(current.claim_url, error="m").svg_inline(scale=10, border=4, dark="#000", light="#fff")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store",
                                                              "X-Kiosk-Code": current.code,
                                                              "X-Valid-For": str(current.valid_for_s)})


# ---------------------------------------------------------------------------------------------------- perks and missions

JSQR = ROOT / "node_modules" / "jsqr" / "dist" / "jsQR.js"


def describe_rule(texts: Translator, rule: dict, titles: dict[int, Event]) -> str:
    """The eligibility rule as a sentence in the page's language."""
    spec = RuleSpec.model_validate(rule)
    if spec.kind == "category":
        text = texts("rule_category", n=spec.min_badges, category=texts.category(spec.category))
    else:
        names = "、".join if texts.lang == "ja" else ", ".join
        events_named = names(texts.pick(titles[i].title_ja, titles[i].title_en) for i in spec.event_ids if i in titles)
        text = (texts("rule_all", events=events_named) if spec.kind == "all_events"
                else texts("rule_any", n=spec.min_badges, events=events_named))
    return text + (texts("rule_orgs", m=spec.min_organizations) if spec.min_organizations > 1 else "")


def _rule_titles(session, *rules: dict) -> dict[int, Event]:
    ids = {i for rule in rules for i in rule.get("event_ids", [])}
    return {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(ids)))} if ids else {}


def _organizations(session) -> dict[int, Organization]:
    return {o.id: o for o in session.scalars(select(Organization)).all()}


@router.get("/perks", response_class=HTMLResponse)
def perks_page(request: Request, session: SessionDep, user: OptionalUser):
    """Perks that can be used now: for a member, the ones their badges qualify for first, then those they are close
    to (some of the badges already), then the rest."""
    texts = Translator(language_of(request))
    rows = perks.list_perks(session=session)
    statuses = {p.id: perks.perk_status(session=session, perk=p, user=user) for p in rows} if user else {}
    groups = {"available": [], "close": [], "other": []}
    for perk in rows:
        status = statuses.get(perk.id)
        usable = status is not None and status.progress.eligible and status.remaining != 0
        close = status is not None and not status.progress.eligible and status.progress.badges > 0
        groups["available" if usable else "close" if close else "other"].append(perk)
    titles = _rule_titles(session, *(p.rule for p in rows))
    rules = {p.id: describe_rule(texts, p.rule, titles) for p in rows}
    return render(request, "perks.html", user, groups=groups, statuses=statuses, rules=rules,
                  organizations=_organizations(session))


def _create_pass(session, settings, user: User, perk_id: int):
    return perks.create_pass(session=session, user=user, perk_id=perk_id,
                             secret_key=settings.secret_key.get_secret_value(), base_url=settings.public_base_url)


def _pass_svg(current) -> str:
    return segno.make(current.redeem_url, error="m").svg_inline(scale=6, border=4, dark="#000", light="#fff")


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
    return render(request, "perk.html", user, perk=perk, organization=perk.organization, status=status,
                  current=current, qr=_pass_svg(current) if current else None, refusal=refusal,
                  rule=describe_rule(texts, perk.rule, _rule_titles(session, perk.rule)))


@router.post("/perks/{perk_id}/pass.svg")
def perk_pass_qr(perk_id: DbId, request: Request, session: SessionDep, settings: SettingsDep):
    """A new pass as a QR image, for the perk page's script (the session cookie and the API's header rule)."""
    user = get_current_user(request, session, None)
    current = _create_pass(session, settings, user, perk_id)
    return Response(_pass_svg(current), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store", "X-Short-Code": current.short_code,
                             "X-Valid-For": str(current.valid_for_s)})


def _organizer_of(session, user: User, organization_id: int) -> Organization:
    membership_of(session=session, user=user, organization_id=organization_id)
    return session.get(Organization, organization_id)


@router.get("/console/organizations/{organization_id}/perks", response_class=HTMLResponse)
def console_perks(organization_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    texts = Translator(language_of(request))
    org = _organizer_of(session, user, organization_id)
    org_perks = session.scalars(select(Perk).where(Perk.organization_id == org.id).order_by(Perk.id.desc())).all()
    org_missions = session.scalars(select(Mission).where(Mission.organization_id == org.id)
                                   .order_by(Mission.id.desc())).all()
    used = dict(session.execute(select(PerkRedemption.perk_id, func.count()).group_by(PerkRedemption.perk_id)
                                .where(PerkRedemption.perk_id.in_([p.id for p in org_perks]))).all())
    done = dict(session.execute(select(Claim.event_id, func.count()).where(
        Claim.event_id.in_([m.event_id for m in org_missions])).group_by(Claim.event_id)).all())
    titles = _rule_titles(session, *(x.rule for x in [*org_perks, *org_missions]))
    rules = {("perk", p.id): describe_rule(texts, p.rule, titles) for p in org_perks}
    rules.update({("mission", m.id): describe_rule(texts, m.rule, titles) for m in org_missions})
    days, redeemed, completed = reports.activity(session=session, organization_id=org.id)
    all_events = session.scalars(select(Event).where(Event.id.not_in(select(Mission.event_id)))
                                 .order_by(Event.starts_at.desc()).limit(300)).all()
    return render(request, "console_perks.html", user, organization=org, perks=org_perks, missions=org_missions,
                  used=used, done=done, rules=rules, redeemed=redeemed, completed=completed,
                  chart_rows=[(texts.day(at), r, c) for (at, r), c in days],
                  all_events=all_events, organizations=_organizations(session))


@router.get("/console/redeem", response_class=HTMLResponse)
def console_redeem(request: Request, user: OptionalUser):
    """Staff accept a member's perk: camera scan of the QR code, or its short code typed in."""
    if user is None:
        return _login_redirect(request)
    return render(request, "console_redeem.html", user)


@router.get("/vendor/jsqr.js")
def jsqr():
    """QR decoding for browsers without BarcodeDetector (the npm package jsqr, from node_modules)."""
    if not JSQR.is_file():
        raise HTTPException(404, "jsqr is not installed (npm ci)")
    return FileResponse(JSQR, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


def error_page(request: Request, exc: Exception) -> HTMLResponse:
    """The error page in the request's language: a DomainError's own text (its code's, with its params), else the
    text for a page not found or the generic one (a Starlette HTTPException)."""
    lang = language_of(request)
    if hasattr(exc, "code") and hasattr(exc, "params"):
        status, message = exc.status, error_message(exc.code, lang, **exc.params)
    else:
        status = exc.status_code
        message = error_message("not_found" if status == 404 else "error_generic", lang)
    response = render(request, "error.html", None, status_code=status, message=message)
    response.headers.update(getattr(exc, "headers", None) or {})  # Retry-After of a 503 or a 429
    return response
