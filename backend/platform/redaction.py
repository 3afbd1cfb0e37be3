"""Secrets out of every log line and error text: the RPC URL's credentials (a provider's API key rides in its path,
its query or its userinfo: https://eth-sepolia.g.alchemy.com/v2/KEY, https://rpc.example/?apikey=KEY) and the
process's own keys.

`redact_url` is how the backend names its node anywhere a person may read it: scheme and host only. What a library
writes by itself cannot be shaped that way (requests' "Max retries exceeded with url: /v2/KEY", web3's provider
repr, a traceback holding either), so `protect_logs` also installs a log record factory that replaces every registered
secret in every record of every logger (uvicorn's, web3's, urllib3's and the backend's) before any handler formats it,
and hooks for uncaught exceptions that print without logging. Records without a secret are left as they are.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
# A path segment or query value this long or longer is masked wherever it appears on its own; shorter ones ("v2",
# "rpc") are masked only as part of the whole path or query, so that ordinary words in log lines stay readable.
MIN_PART_LENGTH = 8

_secrets: set[str] = set()
_longest_first: tuple[str, ...] = ()  # _secrets in the order `redact` replaces them
_lock = threading.Lock()
_installed = False


def redact_url(url: str) -> str:
    """The URL as it may be shown: scheme, host and port; userinfo, path, query and fragment hidden behind MASK."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:  # not a URL we can read: show nothing of it
        return MASK
    if not parts.scheme or not host:
        return MASK
    if ":" in host:  # IPv6
        host = f"[{host}]"
    hidden = bool(parts.username or parts.password or parts.path.strip("/") or parts.query or parts.fragment)
    return f"{parts.scheme}://{host}{port}" + (f"/{MASK}" if hidden else "")


def url_secrets(url: str) -> set[str]:
    """The parts of `url` that must never be shown (as written and percent-decoded): the userinfo and its password,
    the path, the query and the fragment, and each long path segment and query value on its own."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return {url}
    found: set[str] = set()
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        found.add(userinfo)
        if parts.password:
            found.add(parts.password)
        if parts.username and len(parts.username) >= MIN_PART_LENGTH:
            found.add(parts.username)
    if parts.path.strip("/"):
        found.add(parts.path)
        found.update(s for s in parts.path.split("/") if len(s) >= MIN_PART_LENGTH)
    for piece in (parts.query, parts.fragment):
        if piece:
            found.add(piece)
            found.update(v for _, v in parse_qsl(piece, keep_blank_values=True) if len(v) >= MIN_PART_LENGTH)
            found.update(v for v in piece.split("&") if len(v) >= MIN_PART_LENGTH)
    found |= {unquote(s) for s in found}
    return {s for s in found if s and s != "/"}


def register(*secrets: str | None) -> None:
    """Adds texts that no log line may show from now on (empty ones are ignored)."""
    global _longest_first
    with _lock:
        _secrets.update(s for s in secrets if s)
        _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """`text` with every registered secret replaced by MASK (longest first, so a key inside a path goes too)."""
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def protect_logs(*, rpc_url: str, secrets: tuple[str | None, ...] = ()) -> None:
    """From now on no log record, and no uncaught exception's printout, of this process shows the RPC URL's
    credentials or any of `secrets`. Safe to call more than once (each app registers its own)."""
    register(*url_secrets(rpc_url), *secrets)
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous_factory = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous_factory(*args, **kwargs)
        if _secrets:
            _scrub(record)
        return record

    logging.setLogRecordFactory(factory)
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def excepthook(kind, value, tb) -> None:
        if value is None or not _secrets:
            return previous_hook(kind, value, tb)
        sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))

    def thread_excepthook(args) -> None:
        if args.exc_value is None or not _secrets:
            return previous_thread_hook(args)
        name = args.thread.name if args.thread is not None else threading.get_ident()
        sys.stderr.write(redact(f"Exception in thread {name}:\n" + "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))))

    sys.excepthook, threading.excepthook = excepthook, thread_excepthook


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record: logging reports it as it always does
        return
    clean = redact(message)
    if clean != message:
        if isinstance(record.args, tuple) and isinstance(record.msg, str):
            # keep the record's shape where the secret sits in a text argument (uvicorn's access formatter reads its
            # arguments one by one)
            record.msg = redact(record.msg)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
            try:
                if record.getMessage() == clean:
                    clean = None
            except Exception:  # noqa: BLE001 - then the whole message is replaced below
                pass
        if clean is not None:
            record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # what the formatter would print (logging.Formatter.formatException), computed once here and redacted
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact(text)
        if clean != text:
            record.exc_text = clean
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
