"""The web app's pages, served by the backend itself: server-rendered (Jinja2), Japanese and English, mobile first.

Pages read the same data the JSON API returns (they call the API's route functions); actions (claim, vote,
delegate, propose, create) are small fetch calls from static/app.js to the JSON API, authenticated by the session
cookie plus the X-Kyoso-Request header (backend/deps.py). Log-in, sign-up, log-out and the QR sheet download are
plain form posts, which also work without JavaScript; they check that the form came from this site.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlparse

import segno
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select

from backend.api.routes import auth, claims, delegation, events, me, proposals, treasury
from backend.api.routes.organizations import membership_of
from backend.core.security import secret_hash
from backend.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    DbId,
    OptionalUser,
    SessionDep,
    SettingsDep,
    get_current_user,
)
from backend.models import AccessToken, Claim, ClaimStatus, Event, Membership, Organization, User
from backend.schemas import CodesCreate, LoginCreate, SignupCreate
from backend.web.i18n import LANG_COOKIE, LANGUAGES, Texts, language_of

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"
CHART_BUCKET = timedelta(minutes=10)
CHART_BUCKETS = 18  # three hours of claims on the organizer's chart

router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, user: User | None, status_code: int = 200, **context) -> HTMLResponse:
    lang = language_of(request)
    texts = Texts(lang)
    other = next(x for x in LANGUAGES if x != lang)
    response = TEMPLATES.TemplateResponse(request, template, {
        "t": texts, "lang": lang, "other_lang": other, "user": user, "path": request.url.path, **context,
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
    upcoming = events.list_events(session, upcoming=True, limit=50)
    organizations = {o.id: o for o in session.scalars(select(Organization)).all()}
    return render(request, "home.html", user, events=upcoming, organizations=organizations)


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    event = events.get_event(session, event_id)
    return render(request, "event.html", user, event=event, organization=event.organization)


@router.get("/claim/{event_id}", response_class=HTMLResponse)
def claim_page(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    """Reached from a QR code: the secret is in the URL fragment, which only the page's script reads."""
    event = events.get_event(session, event_id)
    return render(request, "claim.html", user, event=event, organization=event.organization)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalUser):
    return render(request, "login.html", user, next=_safe_next(request.query_params.get("next")), error=None)


@router.post("/login")
def login_form(request: Request, session: SessionDep, settings: SettingsDep, email: str = Form(max_length=320),
               password: str = Form(max_length=200), next: str = Form(default="/me")):
    _same_site_form(request)
    try:
        token = auth.login(LoginCreate(email=email, password=password), session, settings)
    except (HTTPException, ValueError):
        if _wants_json(request):
            raise HTTPException(401, {"error": "invalid_credentials",
                                      "message": "Wrong e-mail or password. / メールアドレスかパスワードが違います。"})
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
    token = auth.signup(body, request, session, settings)
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
    wallet = me.wallet(session, settings, user)
    history = claims.my_claims(session, settings, user)
    titles = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_({c.event_id for c in history})))}
    state = delegation.delegation_state(session, services, user)
    return render(request, "me.html", user, wallet=wallet, history=history, events=titles, delegation=state)


@router.get("/wallet", response_class=HTMLResponse)
def wallet_link(request: Request, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    return render(request, "wallet.html", user, chain_id=request.app.state.chain_id)


@router.get("/proposals", response_class=HTMLResponse)
def proposals_page(request: Request, session: SessionDep, user: OptionalUser):
    services = _services(request)
    rows = proposals.list_proposals(request, session, services, state=None, limit=100, offset=0)
    return render(request, "proposals.html", user, proposals=rows)


@router.get("/proposals/new", response_class=HTMLResponse)
def new_proposal_page(request: Request, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    settings = proposals.governance(_services(request), user)
    return render(request, "proposal_new.html", user, governance=settings)


@router.get("/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(proposal_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    services = _services(request)
    proposal = proposals.read_proposal(proposal_id, request, session, services, user)
    votes = proposals.list_votes(proposal_id, session, limit=500, offset=0)
    return render(request, "proposal.html", user, proposal=proposal, votes=votes)


@router.get("/treasury", response_class=HTMLResponse)
def treasury_page(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalUser):
    data = treasury.treasury(request, session, settings, _services(request))
    return render(request, "treasury.html", user, treasury=data)


# ---------------------------------------------------------------------------------------------------- organizers


def _organizer_event(session, user: User, event_id: int) -> Event:
    event = events.get_event(session, event_id)
    membership_of(session, user, event.organization_id)
    return event


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    orgs = session.scalars(select(Organization).join(Membership).where(Membership.user_id == user.id)
                           .order_by(Organization.id)).all()
    org_events = {o.id: session.scalars(select(Event).where(Event.organization_id == o.id)
                                        .order_by(Event.starts_at.desc())).all() for o in orgs}
    return render(request, "console.html", user, organizations=orgs, org_events=org_events)


def claim_buckets(session, event_id: int, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """Claims per CHART_BUCKET over the last CHART_BUCKETS buckets (the organizer's chart)."""
    now = now or datetime.now(timezone.utc)
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=10 - now.minute % 10)
    start = end - CHART_BUCKET * CHART_BUCKETS
    times = session.scalars(select(Claim.created_at).where(Claim.event_id == event_id,
                                                           Claim.created_at >= start)).all()
    counts = [0] * CHART_BUCKETS
    for moment in times:
        counts[min(CHART_BUCKETS - 1, int((moment - start) / CHART_BUCKET))] += 1
    return [(start + CHART_BUCKET * i, n) for i, n in enumerate(counts)]


def claim_counts(session, event_id: int) -> dict[str, int]:
    rows = dict(session.execute(select(Claim.status, func.count()).where(Claim.event_id == event_id)
                                .group_by(Claim.status)).all())
    return {"total": sum(rows.values()), "confirmed": rows.get(ClaimStatus.confirmed, 0)}


@router.get("/console/events/{event_id}", response_class=HTMLResponse)
def console_event(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return _login_redirect(request)
    event = _organizer_event(session, user, event_id)
    return render(request, "console_event.html", user, event=event, counts=claim_counts(session, event_id),
                  buckets=claim_buckets(session, event_id))


@router.get("/console/events/{event_id}/live")
def console_event_live(event_id: DbId, request: Request, session: SessionDep, user: OptionalUser) -> dict:
    """The live count and chart data for the console page's script."""
    if user is None:
        raise HTTPException(401, "Log in first.")
    _organizer_event(session, user, event_id)
    texts, counts = Texts(language_of(request)), claim_counts(session, event_id)
    return {**counts, "buckets": [{"label": texts.time(at), "count": n} for at, n in claim_buckets(session, event_id)],
            "label": texts("claims_count", n=texts.number(counts["total"]), c=texts.number(counts["confirmed"]))}


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
    return events.code_sheet(event_id, CodesCreate(count=count), session, settings, user)


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
    current = events.kiosk(event_id, session, settings, user)
    svg = segno.make(current.claim_url, error="m").svg_inline(scale=10, border=4, dark="#000", light="#fff")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store",
                                                              "X-Kiosk-Code": current.code,
                                                              "X-Valid-For": str(current.valid_for_s)})


def error_page(request: Request, exc: HTTPException) -> HTMLResponse:
    texts = Texts(language_of(request))
    detail = exc.detail.get("message") if isinstance(exc.detail, dict) else str(exc.detail)
    if exc.status_code == 404:
        message = texts("not_found")
    elif " / " in (detail or ""):
        english, japanese = detail.split(" / ", 1)
        message = japanese if texts.lang == "ja" else english
    else:
        message = detail or texts("error_generic")
    return render(request, "error.html", None, status_code=exc.status_code, message=message)
