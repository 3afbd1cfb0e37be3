"""The Kyoso API: `uvicorn backend.app:app`."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import SecretStr, ValidationError
from web3 import Web3

from backend import web
from backend.api.docs import install_docs
from backend.api.errors import document_errors, install_error_handlers
from backend.api.limits import RequestLimits
from backend.api.main import API_PREFIX, api_router
from backend.api.security_headers import SecurityHeaders
from backend.events import metadata_router
from backend.indexer.service import Indexer
from backend.platform.chain.contracts import AbiMissing, bind
from backend.platform.chain.node import make_web3
from backend.platform.chain.read_batch import ReadBatcher
from backend.platform.config import ANVIL_DEV_ADDRESS_1, ANVIL_DEV_KEY_1, Settings, get_settings
from backend.platform.db import make_engine, migrate, session_factory
from backend.platform.deployments import RegistryError, load_deployment
from backend.platform.group_commit import GroupCommitter
from backend.platform.keys import KeyVault
from backend.platform.lease import Lease
from backend.platform.mail import Mailer, SmtpServer
from backend.platform.redaction import protect_logs, redact_url
from backend.relayer.service import Relayer

log = logging.getLogger("kyoso")


LOCAL_CHAIN_ID = 31337


class WrongChainError(RuntimeError):
    pass


def relayer_identity(settings: Settings) -> tuple[LocalAccount | None, str]:
    """The relayer's signing key (only in a process that runs the relayer) and its address. A process with the relayer
    off (the API beside the background worker) never loads the key: it takes the address from KYOSO_RELAYER_ADDRESS,
    or knows it for Anvil's public development key."""
    key = settings.relayer_private_key.get_secret_value()
    if settings.relayer_enabled:
        signer = Account.from_key(key)
        if settings.relayer_address is not None and settings.relayer_address.lower() != signer.address.lower():
            raise SystemExit(f"Kyoso cannot start: KYOSO_RELAYER_ADDRESS ({settings.relayer_address}) is not the "
                             f"address of KYOSO_RELAYER_PRIVATE_KEY ({signer.address})")
        return signer, signer.address
    if settings.relayer_address is not None:
        if key != ANVIL_DEV_KEY_1:
            log.warning("KYOSO_RELAYER_PRIVATE_KEY is set for a process that does not run the relayer "
                        "(KYOSO_RELAYER_ENABLED=false): it is not used; remove it from this process's environment")
        return None, Web3.to_checksum_address(settings.relayer_address)
    if key == ANVIL_DEV_KEY_1:
        return None, ANVIL_DEV_ADDRESS_1
    raise SystemExit("Kyoso cannot start: set KYOSO_RELAYER_ADDRESS, the relayer's address. A process with "
                     "KYOSO_RELAYER_ENABLED=false does not sign and never loads KYOSO_RELAYER_PRIVATE_KEY: remove "
                     "the key from its environment")


def start_services(app: FastAPI, settings: Settings, relayer_class: type[Relayer] = Relayer,
                   signer: LocalAccount | None = None) -> None:
    """Binds the deployed contracts and starts the relayer (signing with `signer`, the relayer's key) and the indexer
    (when the settings, the chain and the registry allow)."""
    state = app.state
    if state.deployment is None:
        return
    try:
        contracts = bind(state.web3, state.deployment)
    except (AbiMissing, KeyError) as exc:
        state.deployment_problem = str(exc)
        return
    relayer = indexer = None
    confirmations = settings.confirmations or int(state.deployment.raw.get("confirmations", 1))
    if settings.relayer_enabled and signer is not None:
        relayer = relayer_class(state.session_factory, state.web3, contracts, state.vault, signer,
                                confirmations=confirmations, priority_fee_wei=settings.priority_fee_wei,
                                max_fee_per_gas_wei=settings.max_fee_per_gas_wei,
                                chain_id=state.chain_id, auto_execute=settings.governance_auto_execute)
        relayer.start(Lease(state.session_factory, "relayer"))
    if settings.indexer_enabled:
        indexer = Indexer(state.session_factory, state.web3, contracts, confirmations=confirmations)
        indexer.start(Lease(state.session_factory, "indexer"))
    state.services = SimpleNamespace(contracts=contracts, relayer=relayer, indexer=indexer)


def start_mailer(state, settings: Settings) -> Mailer | None:
    """The mailer (backend/platform/mail.py) where the settings allow it: an SMTP server is set and this process may
    send (the background worker under `make run`; one process at a time, by its lease)."""
    if not settings.smtp_host:
        if settings.environment == "production":
            log.warning("KYOSO_SMTP_HOST is not set: e-mails (address verification, password resets) wait in the "
                        "outbox until it is")
        return None
    if not settings.mailer_enabled:
        return None
    mailer = Mailer(state.session_factory, state.vault, SmtpServer(
        host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value(), starttls=settings.smtp_starttls,
        ca_file=settings.smtp_ca_file, sender=settings.mail_from))
    mailer.start(Lease(state.session_factory, "mailer"))
    return mailer


def create_app(settings: Settings | None = None, relayer_class: type[Relayer] = Relayer) -> FastAPI:
    """`relayer_class` exists for the benchmarks' baseline (bench/naive_relayer.py); the backend always runs
    `Relayer`."""
    if settings is None:
        try:
            settings = get_settings()
        except ValidationError as exc:
            # A clear message instead of a traceback for the most common start-up mistake.
            raise SystemExit(f"Kyoso cannot start, the configuration is invalid:\n{exc}") from None

    if settings.environment == "production" and settings.chain_id is not None:
        # Outside development a backend without its contracts is a configuration error: one clear line at start,
        # instead of a service that answers 503 to everything (development reports it on /api/health instead).
        try:
            load_deployment(settings.deployments_dir, settings.chain_id)
        except RegistryError as exc:
            raise SystemExit(f"Kyoso cannot start: {exc}") from None

    if os.environ.get("KYOSO_SPONSOR_EMAILS"):
        log.warning("KYOSO_SPONSOR_EMAILS is no longer read: the sponsor's accounts are in the database now (`kyoso "
                    "sponsor set EMAIL` for each, with a verified address)")

    # No log line of this process shows the node's URL beyond its host (a provider's API key rides in its path, query
    # or userinfo), nor the keys it holds.
    protect_logs(rpc_url=settings.rpc_url, secrets=(
        settings.key_encryption_key.get_secret_value(), settings.secret_key.get_secret_value(),
        settings.relayer_private_key.get_secret_value().removeprefix("0x") if settings.relayer_enabled else None,
        settings.smtp_password.get_secret_value() or None))
    signer, relayer_address = relayer_identity(settings)
    if not settings.relayer_enabled:  # not even the settings the routes see hold the key of a relayer that is not here
        settings = settings.model_copy(update={"relayer_private_key": SecretStr("")})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        migrate(engine)
        state = app.state
        state.settings = settings
        state.session_factory = session_factory(engine)
        state.writes = GroupCommitter(engine)
        state.chain_reads = ReadBatcher()
        state.vault = KeyVault(settings.key_encryption_key.get_secret_value())
        # the sponsor's address, shown by /health also where the relayer runs in the background worker
        state.relayer_address = relayer_address
        state.web3 = make_web3(settings.rpc_url, settings.rpc_timeout_s, settings.rpc_fallbacks())
        state.services = None
        state.deployment = None
        state.deployment_problem = "chain node unreachable at start-up; deployment registry not loaded"
        try:
            actual = state.web3.eth.chain_id
        except Exception:  # noqa: BLE001 - a node that is down at start is reported by /health, not fatal
            actual = None
        if settings.chain_id is not None and actual is not None and actual != settings.chain_id:
            # A backend pointed at the wrong node would sign and index on the wrong chain: refuse to start.
            raise WrongChainError(
                f"The node at {redact_url(settings.rpc_url)} is chain {actual}, but KYOSO_CHAIN_ID is "
                f"{settings.chain_id}"
            )
        state.chain_id = settings.chain_id if settings.chain_id is not None else actual
        if state.chain_id not in (None, LOCAL_CHAIN_ID) and settings.uses_development_keys():
            raise SystemExit(f"Kyoso refuses to run on chain {state.chain_id} with the public development keys: set "
                             "KYOSO_RELAYER_PRIVATE_KEY and KYOSO_KEY_ENCRYPTION_KEY")
        if state.chain_id is not None:
            try:
                state.deployment = load_deployment(settings.deployments_dir, state.chain_id)
            except RegistryError as exc:
                state.deployment_problem = str(exc)
        start_services(app, settings, relayer_class, signer)
        state.mailer = start_mailer(state, settings)
        # Everything loaded so far (contract ABIs, templates, the ORM's mappers) lives as long as the app: kept out of
        # the garbage collector's full passes, which otherwise stalled requests (p99 of the proposal page, docs/
        # benchmarks.md).
        gc.freeze()
        yield
        if state.services is not None:
            for service in (state.services.relayer, state.services.indexer):
                if service is not None:
                    service.stop()
        if state.mailer is not None:
            state.mailer.stop()
        state.writes.stop()
        state.chain_reads.stop()
        engine.dispose()

    app = FastAPI(
        title="Kyoso API",
        description="共創 Kyoso: community DAO kit for cultural and co-creation activities",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, with the CSP nonce on their inline scripts
        redoc_url=None,
    )
    install_error_handlers(app, page=web.error_page)
    app.add_middleware(RequestLimits)  # body and header limits, before any route reads anything
    # added last, so outermost: the limits' refusals get the headers too
    app.add_middleware(SecurityHeaders, https=settings.public_base_url.startswith("https://"))
    install_docs(app)
    # The JSON API lives under /api so that the web app owns the site's paths (/events/7 is a page);
    # badge metadata stays at the root because its URLs are baked into the contract.
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(metadata_router.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    app.include_router(web.router)
    document_errors(app)
    return app


app = create_app()
