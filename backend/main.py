"""The Kyoso API: `uvicorn backend.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import ValidationError

from backend.api.errors import install_error_handlers
from backend.api.main import api_router
from backend.chain.node import make_web3
from backend.core.config import Settings, get_settings
from backend.core.db import make_engine, session_factory
from backend.core.deployments import RegistryError, load_deployment


class WrongChainError(RuntimeError):
    pass


def create_app(settings: Settings | None = None) -> FastAPI:
    if settings is None:
        try:
            settings = get_settings()
        except ValidationError as exc:
            # A clear message instead of a traceback for the most common start-up mistake.
            raise SystemExit(f"Kyoso cannot start, the configuration is invalid:\n{exc}") from None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.settings = settings
        app.state.session_factory = session_factory(engine)
        app.state.web3 = make_web3(settings.rpc_url, settings.rpc_timeout_s)
        app.state.deployment = None
        app.state.deployment_problem = "chain node unreachable at start-up; deployment registry not loaded"
        try:
            actual = app.state.web3.eth.chain_id
        except Exception:  # noqa: BLE001 - a node that is down at start is reported by /health, not fatal
            actual = None
        if settings.chain_id is not None and actual is not None and actual != settings.chain_id:
            # A backend pointed at the wrong node would sign and index on the wrong chain: refuse to start.
            raise WrongChainError(
                f"The node at {settings.rpc_url} is chain {actual}, but KYOSO_CHAIN_ID is {settings.chain_id}"
            )
        chain_id = settings.chain_id if settings.chain_id is not None else actual
        if chain_id is not None:
            try:
                app.state.deployment = load_deployment(settings.deployments_dir, chain_id)
            except RegistryError as exc:
                app.state.deployment_problem = str(exc)
        yield
        engine.dispose()

    app = FastAPI(
        title="Kyoso API",
        description="共創 Kyoso: community DAO kit for cultural and co-creation activities",
        version="0.1.0",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(api_router)
    return app


app = create_app()
