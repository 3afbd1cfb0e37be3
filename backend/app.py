"""The Kyoso API: `uvicorn backend.app:app`."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

from eth_account import Account
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from backend import web
from backend.api.errors import document_errors, install_error_handlers
from backend.api.limits import RequestLimits
from backend.api.main import API_PREFIX, api_router
from backend.events import metadata_router
from backend.indexer.service import Indexer
from backend.platform.chain.contracts import AbiMissing, bind
from backend.platform.chain.node import make_web3
from backend.platform.chain.read_batch import ReadBatcher
from backend.platform.config import Settings, get_settings
from backend.platform.db import make_engine, migrate, session_factory
from backend.platform.deployments import RegistryError, load_deployment
from backend.platform.group_commit import GroupCommitter
from backend.platform.keys import KeyVault
from backend.platform.lease import Lease
from backend.relayer.service import Relayer

log = logging.getLogger("kyoso")


LOCAL_CHAIN_ID = 31337


class WrongChainError(RuntimeError):
    pass


def start_services(app: FastAPI, settings: Settings, relayer_class: type[Relayer] = Relayer) -> None:
    """Binds the deployed contracts and starts the relayer and the indexer (when the chain and registry allow)."""
    state = app.state
    if state.deployment is None:
        return
    try:
        contracts = bind(state.web3, state.deployment)
    except (AbiMissing, KeyError) as exc:
        state.deployment_problem = str(exc)
        return
    relayer = indexer = None
    if settings.relayer_enabled:
        relayer = relayer_class(state.session_factory, state.web3, contracts, state.vault,
                                Account.from_key(settings.relayer_private_key.get_secret_value()),
                                confirmations=settings.confirmations, priority_fee_wei=settings.priority_fee_wei,
                                chain_id=state.chain_id, auto_execute=settings.governance_auto_execute)
        relayer.start(Lease(state.session_factory, "relayer"))
    if settings.indexer_enabled:
        indexer = Indexer(state.session_factory, state.web3, contracts, confirmations=settings.confirmations)
        indexer.start(Lease(state.session_factory, "indexer"))
    state.services = SimpleNamespace(contracts=contracts, relayer=relayer, indexer=indexer)


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
        state.relayer_address = Account.from_key(settings.relayer_private_key.get_secret_value()).address
        state.web3 = make_web3(settings.rpc_url, settings.rpc_timeout_s)
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
                f"The node at {settings.rpc_url} is chain {actual}, but KYOSO_CHAIN_ID is {settings.chain_id}"
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
        start_services(app, settings, relayer_class)
        # Everything loaded so far (contract ABIs, templates, the ORM's mappers) lives as long as the app: kept out of
        # the garbage collector's full passes, which otherwise stalled requests (p99 of the proposal page, docs/
        # benchmarks.md).
        gc.freeze()
        yield
        if state.services is not None:
            for service in (state.services.relayer, state.services.indexer):
                if service is not None:
                    service.stop()
        state.writes.stop()
        state.chain_reads.stop()
        engine.dispose()

    app = FastAPI(
        title="Kyoso API",
        description="共創 Kyoso: community DAO kit for cultural and co-creation activities",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app, page=web.error_page)
    app.add_middleware(RequestLimits)  # body and header limits, before any route reads anything
    # The JSON API lives under /api so that the web app owns the site's paths (/events/7 is a page);
    # badge metadata stays at the root because its URLs are baked into the contract.
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(metadata_router.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    app.include_router(web.router)
    document_errors(app)
    return app


app = create_app()
