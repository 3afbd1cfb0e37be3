"""The e-mails of accounts, in the member's language (the catalogs: `mail_*` keys), stored in the outbox with the rest
of the request's writes (backend/platform/mail.py sends them).

A link's token rides in the fragment (`#t=`), as claim codes do: browsers never send a fragment, so it is in no
request line, access log or Referer; the page's script puts it into the form it posts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from backend.i18n import translator
from backend.platform.keys import KeyVault
from backend.platform.mail import Mail, enqueue


def verify_link(base_url: str, token: str) -> str:
    return f"{base_url}/verify-email#t={token}"


def reset_link(base_url: str, token: str) -> str:
    return f"{base_url}/reset-password#t={token}"


def _send(session: Session, vault: KeyVault, to: str, purpose: str, subject: str, body: str) -> None:
    enqueue(session, vault, Mail(to=to, subject=subject, body=body, purpose=purpose))


def verification(session: Session, vault: KeyVault, *, to: str, lang: str, name: str | None, link: str,
                 days: int) -> None:
    texts = translator(lang)
    _send(session, vault, to, "verify_email", texts("mail_verify_subject"),
          texts("mail_verify_body", name=name or to, link=link, days=days))


def already_registered(session: Session, vault: KeyVault, *, to: str, lang: str, base_url: str) -> None:
    """To the owner of an address someone signed up with again: no new account, and the ways back into theirs."""
    texts = translator(lang)
    _send(session, vault, to, "already_registered", texts("mail_already_registered_subject"),
          texts("mail_already_registered_body", login_link=f"{base_url}/login",
                reset_link=f"{base_url}/forgot-password"))


def password_reset(session: Session, vault: KeyVault, *, to: str, lang: str, link: str, minutes: int) -> None:
    texts = translator(lang)
    _send(session, vault, to, "reset_password", texts("mail_reset_subject"),
          texts("mail_reset_body", link=link, minutes=minutes))


def no_account(session: Session, vault: KeyVault, *, to: str, lang: str, base_url: str) -> None:
    """To an address with no account that someone asked a password reset for."""
    texts = translator(lang)
    _send(session, vault, to, "reset_unknown", texts("mail_reset_unknown_subject"),
          texts("mail_reset_unknown_body", signup_link=f"{base_url}/login"))


def password_changed(session: Session, vault: KeyVault, *, to: str, lang: str, base_url: str, when: datetime) -> None:
    texts = translator(lang)
    _send(session, vault, to, "password_changed", texts("mail_password_changed_subject"),
          texts("mail_password_changed_body", when=texts.datetime(when), reset_link=f"{base_url}/forgot-password"))
