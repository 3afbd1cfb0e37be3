"""The account: its address (confirmed or not, a new link), its password (changed with the current one, or set anew
by a mailed link when forgotten) and its log-ins (listed, ended one by one or all at once). Plain form posts from this
site's pages, which work without JavaScript, except that the mailed links' pages read their token from the fragment
(static/app.js puts it into the form: a fragment never reaches a server, its logs or a Referer)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from backend.accounts import service as accounts
from backend.accounts.deps import SESSION_COOKIE, OptionalUser
from backend.accounts.models import TokenKind
from backend.i18n import language_of
from backend.organizations import service as organizations
from backend.platform.errors import NotFound, Unauthorized, Unprocessable
from backend.platform.http import SessionDep, SettingsDep, client_ip
from backend.web.forms import form_user, same_site_form, start_session
from backend.web.render import login_redirect, render

router = APIRouter(include_in_schema=False)

# what the account page says after a form post (?done=...), each a key of the catalogs
NOTICES = ("verification_sent", "password_changed", "password_reset_done", "session_ended")
MIN_PASSWORD = 8  # as the API's schemas (backend/accounts/schemas.py)


def _account_page(request: Request, session, user, status_code: int = 200, error: str | None = None,
                  notice: str | None = None):
    raw = request.cookies.get(SESSION_COOKIE)
    return render(request, "account.html", user, status_code=status_code, error=error,
                  notice=notice if notice in NOTICES else None,
                  sessions=accounts.sessions_of(session=session, user=user, current_token=raw),
                  steward=organizations.is_steward(user), sponsor=organizations.is_sponsor(user))


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: SessionDep, user: OptionalUser):
    if user is None:
        return login_redirect(request)
    return _account_page(request, session, user, notice=request.query_params.get("done"))


def _member(request: Request, session):
    user = form_user(request, session)
    if user is None:
        raise Unauthorized("not_authenticated")
    return user


@router.post("/account/verification")
def send_verification(request: Request, session: SessionDep, settings: SettingsDep):
    user = _member(request, session)
    accounts.send_verification(session=session, vault=request.app.state.vault, user=user,
                               base_url=settings.public_base_url)
    return RedirectResponse("/account?done=verification_sent", status_code=303)


@router.post("/account/password")
def change_password(request: Request, session: SessionDep, settings: SettingsDep,
                    current_password: str = Form(max_length=200), new_password: str = Form(max_length=200)):
    user = _member(request, session)
    if len(new_password) < MIN_PASSWORD:
        return _account_page(request, session, user, status_code=422, error="password_too_short")
    try:
        accounts.change_password(session=session, vault=request.app.state.vault, user=user,
                                 current_password=current_password, new_password=new_password,
                                 current_token=request.cookies.get(SESSION_COOKIE), client_ip=client_ip(request),
                                 base_url=settings.public_base_url)
    except Unauthorized:
        return _account_page(request, session, user, status_code=401, error="current_password_wrong")
    return RedirectResponse("/account?done=password_changed", status_code=303)


@router.post("/account/sessions/{session_id}/end")
def end_session(session_id: str, request: Request, session: SessionDep):
    user = _member(request, session)
    if len(session_id) > 32:
        raise NotFound("session_not_found")
    accounts.revoke_session(session=session, user=user, session_id=session_id)
    return RedirectResponse("/account?done=session_ended", status_code=303)


@router.post("/account/logout-everywhere")
def log_out_everywhere(request: Request, session: SessionDep):
    user = _member(request, session)
    accounts.log_out_everywhere(session=session, user=user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---------------------------------------------------------------------------------------------- mailed links


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request, user: OptionalUser):
    return render(request, "forgot_password.html", user)


@router.post("/forgot-password")
def forgot_password(request: Request, session: SessionDep, settings: SettingsDep,
                    email: str = Form(max_length=320)):
    same_site_form(request)
    email = email.strip()
    if "@" not in email:
        raise Unprocessable("invalid_request", summary="email")
    sent = accounts.request_password_reset(session=session, vault=request.app.state.vault, email=email,
                                           client_ip=client_ip(request), base_url=settings.public_base_url,
                                           lang=language_of(request))
    return render(request, "mail_sent.html", None, kind="reset", email=sent.email)


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(request: Request, user: OptionalUser):
    return render(request, "reset_password.html", user)


@router.post("/reset-password")
def reset_password(request: Request, session: SessionDep, settings: SettingsDep,
                   token: str = Form(default="", max_length=100), password: str = Form(max_length=200)):
    same_site_form(request)
    if len(password) < MIN_PASSWORD:
        return render(request, "reset_password.html", None, status_code=422, error="password_too_short")
    user = accounts.reset_password(session=session, vault=request.app.state.vault, token=token or "-",
                                   password=password, base_url=settings.public_base_url)
    # every log-in of the account has ended: this browser, which holds the link, starts a new one
    token_public = accounts.issue_token(session=session, user=user, ttl_s=settings.access_token_ttl_s,
                                        kind=TokenKind.session, user_agent=request.headers.get("user-agent"))
    return start_session(request, token_public.access_token, "/account?done=password_reset_done")


@router.get("/verify-email", response_class=HTMLResponse)
def verify_email_page(request: Request, user: OptionalUser):
    return render(request, "verify_email.html", user, verified=None)


@router.post("/verify-email")
def verify_email(request: Request, session: SessionDep, token: str = Form(default="", max_length=100)):
    user = form_user(request, session)  # checks that the form is this site's
    verified = accounts.verify_email(session=session, token=token or "-")
    return render(request, "verify_email.html", user, verified=verified.email)
