"""E-mail: an outbox in the database, and the mailer that hands it to an SMTP server.

A service that has something to say by mail calls `enqueue` in its own transaction: the message is stored (sealed,
`OutboundMail`) and committed with what it is about, and the request answers at once. The mailer, a background loop
in the process that holds its lease (the background worker under `make run`), sends what is waiting every
`POLL_S`: one SMTP connection per round, STARTTLS and log-in when configured. So:

- no request waits for an SMTP server, however slow or down it is (it waits for one INSERT);
- nothing is lost on a crash: a message is in the outbox from the moment its request succeeded, and it leaves the
  outbox only once the server has accepted it. A crash between the server's acceptance and the mailer's mark sends
  that one message twice (at least once, never lost);
- a server that refuses or cannot be reached is tried again after 10 s, 20 s, 40 s ... (at most an hour apart), and
  after MAX_ATTEMPTS (about a day) the message is given up, the reason kept in `last_error`.

A sent (or given-up) message keeps its row without its sealed content: the links it held are single use and short
lived anyway, and an outbox is no archive of them.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.platform.background import BackgroundLoop
from backend.platform.keys import KeyVault
from backend.platform.models import OutboundMail
from backend.platform.orm import utcnow

POLL_S = 0.5  # how long a stored message waits at most for the mailer's next look, when nothing else is going on
BATCH = 20  # messages per SMTP connection
MAX_ATTEMPTS = 30  # 10 s doubling up to an hour apart: ~26 hours of trying
FIRST_RETRY_S = 10
MAX_RETRY_S = 3600
SMTP_TIMEOUT_S = 15


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str  # plain text
    purpose: str  # why it is sent (verify_email, reset_password, ...), stored beside it in the clear


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = True
    ca_file: Path | None = None
    sender: str = "Kyoso <kyoso@localhost>"  # the From header; its address is the envelope's sender too


def _context(to: str) -> bytes:
    return f"mail:{to}".encode()


def enqueue(session: Session, vault: KeyVault, mail: Mail) -> None:
    """Stores `mail` in the outbox, in the caller's transaction (the caller commits)."""
    content = json.dumps({"subject": mail.subject, "body": mail.body}).encode()
    session.add(OutboundMail(to_address=mail.to, purpose=mail.purpose,
                             sealed=vault.seal_data(content, _context(mail.to))))


def message(server: SmtpServer, to: str, subject: str, body: str) -> EmailMessage:
    """The message as it goes out: plain text in UTF-8 (Japanese subjects are encoded by the email package)."""
    msg = EmailMessage()
    msg["From"] = server.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(server.sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to it, please
    msg.set_content(body, cte="base64")  # 7-bit safe whatever the server offers (no 8BITMIME needed)
    return msg


def connect(server: SmtpServer) -> smtplib.SMTP:
    """A connection, upgraded with STARTTLS (a server that does not offer it is refused: the credentials and the
    links must not cross the network in the clear) and logged in when the settings say so."""
    smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_S)
    try:
        smtp.ehlo()
        if server.starttls:
            context = ssl.create_default_context(cafile=str(server.ca_file) if server.ca_file else None)
            smtp.starttls(context=context)  # SMTPNotSupportedError when the server does not offer it
            smtp.ehlo()
        if server.user:
            smtp.login(server.user, server.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


class Mailer(BackgroundLoop):
    """Sends the outbox. Several processes may run one: the lease lets one of them send at a time."""

    thread_name = "kyoso-mailer"
    log = logging.getLogger("kyoso.mail")

    def __init__(self, sessions: sessionmaker[Session], vault: KeyVault, server: SmtpServer) -> None:
        super().__init__()
        self.sessions = sessions
        self.vault = vault
        self.server = server
        self._wake = threading.Event()

    def wake(self) -> None:
        """Something was just stored in this process: look now rather than at the next poll."""
        self._wake.set()

    def work(self) -> float:
        sent_all = self.send_due()
        if not sent_all:
            return 0.0  # a full batch: there may be more
        self._wake.wait(POLL_S)
        self._wake.clear()
        return 0.0

    def send_due(self) -> bool:
        """Sends what is due, one batch on one connection; True when nothing more was waiting."""
        with self.sessions() as session:
            due = session.scalars(
                select(OutboundMail).where(OutboundMail.next_attempt_at <= utcnow())
                .order_by(OutboundMail.next_attempt_at, OutboundMail.id).limit(BATCH)
            ).all()
            if not due:
                return True
            try:
                smtp = connect(self.server)
            except (OSError, smtplib.SMTPException) as exc:
                for mail in due:
                    self._failed(mail, exc)
                session.commit()
                return True
            try:
                for mail in due:
                    self._send(smtp, mail)
                    session.commit()  # each one as soon as the server took it
            finally:
                try:
                    smtp.quit()
                except (OSError, smtplib.SMTPException):
                    smtp.close()
            return len(due) < BATCH

    def _send(self, smtp: smtplib.SMTP, mail: OutboundMail) -> None:
        try:
            content = json.loads(self.vault.open_data(mail.sealed, _context(mail.to_address)))
        except Exception as exc:  # noqa: BLE001 - sealed under another key: it can never be sent
            mail.sealed, mail.next_attempt_at, mail.failed_at = None, None, utcnow()
            mail.last_error = f"cannot be opened: {type(exc).__name__}"
            self.log.error("outbound mail %s cannot be opened (another key-encryption key?)", mail.id)
            return
        try:
            smtp.send_message(message(self.server, mail.to_address, content["subject"], content["body"]))
        except smtplib.SMTPRecipientsRefused as exc:
            self._failed(mail, exc, permanent=all(code >= 500 for code, _ in exc.recipients.values()))
            return
        except (OSError, smtplib.SMTPException) as exc:
            self._failed(mail, exc)
            return
        mail.sealed, mail.next_attempt_at, mail.sent_at = None, None, utcnow()
        mail.attempts += 1

    def _failed(self, mail: OutboundMail, exc: Exception, permanent: bool = False) -> None:
        mail.attempts += 1
        mail.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if permanent or mail.attempts >= MAX_ATTEMPTS:
            mail.sealed, mail.next_attempt_at, mail.failed_at = None, None, utcnow()
            self.log.warning("outbound mail %s (%s) given up after %s attempts: %s", mail.id, mail.purpose,
                             mail.attempts, mail.last_error)
            return
        delay = min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** (mail.attempts - 1))
        mail.next_attempt_at = utcnow() + timedelta(seconds=delay)
        self.log.warning("outbound mail %s (%s) not sent, again in %s s: %s", mail.id, mail.purpose, delay,
                         mail.last_error)
