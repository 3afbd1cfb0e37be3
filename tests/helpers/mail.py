"""A real SMTP server for the tests (tools/devstack/mail_catcher.py, aiosmtpd, in a process of its own, as `make run`
starts it), and reading what it caught: the backend sends to it over SMTP, a test reads its Maildir folder."""

from __future__ import annotations

import mailbox
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"https?://\S+#t=[A-Za-z0-9_-]+")


@contextmanager
def mail_catcher(folder: Path) -> Iterator[SimpleNamespace]:
    """The catcher on a free port, keeping messages in `folder`, until the block ends."""
    proc = subprocess.Popen([sys.executable, "-m", "tools.devstack.mail_catcher", "--port", "0", "--maildir",
                             str(folder)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        assert match, f"the mail catcher did not start: {line}{proc.stdout.read() if proc.poll() is not None else ''}"
        yield SimpleNamespace(port=int(match.group(1)), folder=folder, proc=proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def caught(folder: Path) -> list[EmailMessage]:
    """Every message the catcher kept, in the order they arrived."""
    if not (folder / "new").is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    box = mailbox.Maildir(folder, create=False)
    return [parser.parsebytes(box.get_bytes(key)) for key in sorted(box.keys(), key=_arrival)]


def _arrival(key: str) -> tuple[int, int, str]:
    """A Maildir name starts with the time it was delivered: seconds, then `M` and the microseconds."""
    seconds, _, rest = key.partition(".")
    micro = re.match(r"M(\d+)", rest)
    return int(seconds), int(micro.group(1)) if micro else 0, key


def body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def wait_for_mail(folder: Path, to: str, subject: str | None = None, after: int = 0,
                  timeout: float = 30) -> EmailMessage:
    """The first message to `to` (with `subject`, if given) beyond the first `after` of them, once it has arrived."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in caught(folder) if m["To"] == to and (subject is None or m["Subject"] == subject)]
        if len(found) > after:
            return found[after]
        assert time.monotonic() < deadline, f"no mail to {to} ({subject}) within {timeout} s: " \
                                            f"{[(m['To'], m['Subject']) for m in caught(folder)]}"
        time.sleep(0.2)


def link_of(message: EmailMessage) -> str:
    """The single-use link in a verification or reset mail."""
    return LINK.search(body(message)).group(0)


def token_of(message: EmailMessage) -> str:
    return link_of(message).rsplit("#t=", 1)[1]
