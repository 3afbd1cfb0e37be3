"""Log-in, sign-up and log-out: plain form posts from this site's pages, which start or end the session cookie.

Signing up here also logs in at once with the password just chosen (an attendee at a festival claims the badge right
away; the mailed link confirms the address later). When the address has an account already, the service mailed its
owner a note instead, the log-in does not succeed, and the page says to look at the mail (202)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import ValidationError

from backend.accounts import service as accounts
from backend.accounts.deps import SESSION_COOKIE, OptionalUser
from backend.accounts.models import TokenKind
from backend.accounts.schemas import LoginCreate, SignupCreate
from backend.i18n import Translator, language_of
from backend.platform.errors import Unauthorized, Unprocessable
from backend.platform.http import SessionDep, SettingsDep, client_ip
from backend.web.forms import safe_next, same_site_form, start_session, wants_json
from backend.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalUser):
    return render(request, "login.html", user, next=safe_next(request.query_params.get("next")), error=None)


@router.post("/login")
def login_form(request: Request, session: SessionDep, settings: SettingsDep, email: str = Form(max_length=320),
               password: str = Form(max_length=200), next: str = Form(default="/me")):
    same_site_form(request)
    try:
        token = accounts.login(session=session, body=LoginCreate(email=email, password=password),
                               token_ttl_s=settings.access_token_ttl_s, client_ip=client_ip(request),
                               kind=TokenKind.session, user_agent=request.headers.get("user-agent"))
    except (Unauthorized, ValueError):  # a malformed address cannot log in either: the same answer
        if wants_json(request):
            raise Unauthorized("invalid_credentials") from None
        return render(request, "login.html", None, status_code=401, next=safe_next(next), error="login_failed")
    return start_session(request, token.access_token, next)


@router.post("/signup")
def signup_form(request: Request, session: SessionDep, settings: SettingsDep, email: str = Form(max_length=320),
                password: str = Form(max_length=200), display_name: str = Form(default="", max_length=100),
                next: str = Form(default="/me")):
    same_site_form(request)
    try:
        body = SignupCreate(email=email, password=password, display_name=display_name or None,
                            locale=language_of(request))
    except ValidationError as exc:
        raise Unprocessable("invalid_request", summary=_summary(exc)) from None
    accounts.signup(session=session, vault=request.app.state.vault, body=body, client_ip=client_ip(request),
                    base_url=settings.public_base_url)
    try:
        token = accounts.login(session=session, body=LoginCreate(email=email, password=password),
                               token_ttl_s=settings.access_token_ttl_s, client_ip=client_ip(request),
                               kind=TokenKind.session, user_agent=request.headers.get("user-agent"))
    except Unauthorized:  # the address has an account, and this is not its password: its owner got a note
        if wants_json(request):
            texts = Translator(language_of(request))
            return JSONResponse({"message": texts("signup_check_email", email=body.email)}, status_code=202)
        return render(request, "mail_sent.html", None, status_code=202, email=body.email, title="signup_title_sent",
                      text="signup_check_email")
    return start_session(request, token.access_token, next)


def _summary(exc: ValidationError) -> str:
    """What was wrong with the form, as the API words a body that does not match its schema."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())


@router.post("/logout")
def logout(request: Request, session: SessionDep):
    same_site_form(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        accounts.revoke_token(session=session, token=raw)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
