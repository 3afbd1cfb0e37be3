"""A local SMTP server that catches every message and keeps it in a Maildir folder, for development and the tests
(like Mailpit or Rails' letter_opener): `make run` starts one and points the backend at it, and the backend shows what
it caught on /dev/mail (KYOSO_ENVIRONMENT=development only), so that a newcomer can open the link of a verification
or password-reset mail without any mail account.

    python -m tools.devstack.mail_catcher --port 1025 --maildir .kyoso/mail
    python -m tools.devstack.mail_catcher --port 0 --maildir /tmp/m --tls-cert c.pem --tls-key k.pem --auth u:p

`--port 0` takes a free port; the line "mail catcher listening on 127.0.0.1:<port>" says which, once it accepts
connections. With a certificate it offers STARTTLS and requires it; with `--auth` it requires that log-in (the tests
check the backend's STARTTLS and credentials against it). Nothing is relayed anywhere: every recipient is accepted and
every message stays in the folder. SIGTERM or Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import mailbox
import signal
import socket
import ssl
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Catcher:
    """aiosmtpd's handler: each message into the Maildir, as the server received it."""

    def __init__(self, maildir: Path):
        for sub in ("tmp", "new", "cur"):  # what mailbox.Maildir needs, also in a folder that exists already
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        self.box = mailbox.Maildir(maildir, create=False)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.box.add(mailbox.MaildirMessage(envelope.original_content or envelope.content))
        return "250 Message caught"


def authenticator(user: str, password: str):
    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
            and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers the refusal itself (535)
    return check


def controller(maildir: Path, host: str = "127.0.0.1", port: int = 0, tls_cert: Path | None = None,
               tls_key: Path | None = None, auth: str | None = None) -> Controller:
    """A started catcher (the tests use it in-process too); `.port` is where it listens."""
    kwargs: dict = {}
    if tls_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_cert, tls_key)
        kwargs.update(tls_context=context, require_starttls=True)
    if auth is not None:
        user, _, password = auth.partition(":")
        kwargs.update(authenticator=authenticator(user, password), auth_required=True)
    else:
        kwargs.update(auth_require_tls=False)
    if port == 0:  # aiosmtpd checks that it answers by connecting to its port: it must know it beforehand
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    running = Controller(Catcher(maildir), hostname=host, port=port, **kwargs)
    running.start()
    return running


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument("--auth", help="USER:PASSWORD the client must log in with")
    args = parser.parse_args()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    running = controller(args.maildir, args.host, args.port, args.tls_cert, args.tls_key, args.auth)
    print(f"mail catcher listening on {args.host}:{running.port}, keeping messages in {args.maildir}", flush=True)
    try:
        stop.wait()
    finally:
        running.stop()


if __name__ == "__main__":
    main()
