"""The node's URL is shown by its host only, and no log record shows the credentials a provider's URL carries or the
keys a process holds; a process that does not run the relayer never needs its key (no chain needed here: the
process-level test with a node that fails is tests/backend/test_log_secrets.py)."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
import requests

from backend.app import relayer_identity
from backend.platform.config import ANVIL_DEV_ADDRESS_1, ANVIL_DEV_KEY_1, Settings
from backend.platform.redaction import MASK, protect_logs, redact, redact_url, url_secrets

KEY = "Zq8LkP2vX9tRw3YbN7cD"


@pytest.mark.parametrize("url, shown", [
    (f"https://eth-sepolia.g.alchemy.com/v2/{KEY}", f"https://eth-sepolia.g.alchemy.com/{MASK}"),
    (f"https://rpc.example:8443/?apikey={KEY}", f"https://rpc.example:8443/{MASK}"),
    (f"https://kyoso:{KEY}@rpc.example", f"https://rpc.example/{MASK}"),
    (f"https://sepolia.infura.io/v3/{KEY}#x", f"https://sepolia.infura.io/{MASK}"),
    ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
    ("not a url", MASK),
])
def test_a_url_is_shown_by_scheme_host_and_port_only(url, shown):
    assert redact_url(url) == shown
    assert KEY not in redact_url(url)


def test_every_secret_part_of_a_url_is_known_also_percent_decoded():
    parts = url_secrets(f"https://user:{KEY}@rpc.example/v2/{KEY}x?apikey={KEY}%2Fy&network=sepolia")
    assert {KEY, f"/v2/{KEY}x", f"{KEY}x", f"apikey={KEY}%2Fy&network=sepolia", f"{KEY}/y"} <= parts
    assert "v2" not in parts and "sepolia" not in parts  # short words alone stay readable elsewhere in a log


def test_a_log_record_with_a_secret_is_redacted_in_its_message_arguments_and_traceback(caplog):
    url = f"https://eth-sepolia.g.alchemy.com/v2/{KEY}?apikey=Q{KEY}"
    protect_logs(rpc_url=url, secrets=("0x" + "ab" * 32,))
    log = logging.getLogger("kyoso.test_redaction")
    with caplog.at_level(logging.INFO):
        try:
            requests.post(url.replace("eth-sepolia.g.alchemy.com", "127.0.0.1:9"), timeout=1)
        except requests.exceptions.ConnectionError as exc:
            log.warning("chain node unavailable: %s", exc)
            log.exception("step failed")
        log.info("%s %s", "relayer key", "0x" + "ab" * 32)
        log.info("nothing secret here: %d", 7)
    text = caplog.text + "".join(logging.Formatter().format(r) for r in caplog.records)
    assert KEY not in text and "ab" * 32 not in text
    assert MASK in caplog.records[0].getMessage() and "Max retries exceeded" in caplog.records[0].getMessage()
    assert "Traceback" in text and "ConnectionError" in text  # the traceback is kept, only the secret goes
    assert caplog.records[-1].args == (7,)  # records without a secret are left as they are
    assert redact(f"x {KEY} y") == f"x {MASK} y"


def test_an_uncaught_exception_is_printed_without_the_secret():
    script = (
        "import threading\n"
        "from backend.platform.redaction import protect_logs\n"
        f"protect_logs(rpc_url='https://rpc.example/v3/{KEY}')\n"
        "def fail():\n"
        f"    raise RuntimeError('thread at /v3/{KEY}')\n"
        "t = threading.Thread(target=fail)\n"
        "t.start(); t.join()\n"
        f"raise RuntimeError('node at https://rpc.example/v3/{KEY} failed')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert KEY not in done.stderr
    assert f"thread at {MASK}" in done.stderr and f"node at https://rpc.example{MASK} failed" in done.stderr


def test_an_api_process_without_the_relayer_holds_the_address_only():
    relayer = "0x" + "12" * 20
    signer, address = relayer_identity(Settings(relayer_enabled=False, relayer_address=relayer))
    assert signer is None and address.lower() == relayer
    # Anvil's public development key: its address is known, nothing is loaded
    assert relayer_identity(Settings(relayer_enabled=False)) == (None, ANVIL_DEV_ADDRESS_1)
    with pytest.raises(SystemExit, match="set KYOSO_RELAYER_ADDRESS"):
        relayer_identity(Settings(relayer_enabled=False, relayer_private_key="0x" + "cd" * 32))
    signer, address = relayer_identity(Settings(relayer_private_key=ANVIL_DEV_KEY_1))
    assert signer is not None and address == ANVIL_DEV_ADDRESS_1
    with pytest.raises(SystemExit, match="is not the address of KYOSO_RELAYER_PRIVATE_KEY"):
        relayer_identity(Settings(relayer_private_key=ANVIL_DEV_KEY_1, relayer_address=relayer))


def test_production_api_process_needs_the_relayer_address_not_its_key():
    values = {"environment": "production", "secret_key": "x" * 48,
              "key_encryption_key": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", "relayer_enabled": False}
    with pytest.raises(ValueError, match="KYOSO_RELAYER_ADDRESS must be set"):
        Settings(**values)
    settings = Settings(**values, relayer_address="0x" + "12" * 20)
    assert not settings.uses_development_keys()
