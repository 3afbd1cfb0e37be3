"""Development only: /dev/mail shows what the local mail catcher caught (`make run` starts it and points the backend
at it: tools/devstack/mail_catcher.py), newest first, links clickable, so that a newcomer can follow a verification or
password-reset link without any mail account. 404 unless KYOSO_ENVIRONMENT=development and KYOSO_DEV_MAIL_DIR is set:
it shows every member's mail."""

from __future__ import annotations

import mailbox
import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.accounts.deps import OptionalUser
from backend.platform.errors import NotFound
from backend.platform.http import SettingsDep
from backend.web.render import render

router = APIRouter(include_in_schema=False)

SHOWN = 50  # the newest messages
LINK = re.compile(r"(https?://[^\s<>\"]+)")


@dataclass(frozen=True)
class CaughtMail:
    to: str
    subject: str
    date: object
    parts: list[tuple[str, bool]]  # the body as text and links, for the template to write out escaped


def _caught(folder) -> list[CaughtMail]:
    if not folder.is_dir():
        return []
    box = mailbox.Maildir(folder, factory=None, create=False)
    parser = BytesParser(policy=policy.default)
    mails = []
    for key in box.keys():
        with box.get_file(key) as raw:
            message = parser.parse(raw)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        try:
            date = parsedate_to_datetime(message["Date"])
        except (TypeError, ValueError):
            date = None
        mails.append(CaughtMail(to=str(message["To"] or ""), subject=str(message["Subject"] or ""), date=date,
                                parts=[(part, bool(LINK.fullmatch(part))) for part in LINK.split(text) if part]))
    mails.sort(key=lambda m: m.date.timestamp() if m.date else 0, reverse=True)
    return mails[:SHOWN]


@router.get("/dev/mail", response_class=HTMLResponse)
def dev_mail(request: Request, settings: SettingsDep, user: OptionalUser):
    if settings.environment != "development" or settings.dev_mail_dir is None:
        raise NotFound("not_found")
    return render(request, "dev_mail.html", user, mails=_caught(settings.dev_mail_dir),
                  folder=str(settings.dev_mail_dir))
