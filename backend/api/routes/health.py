"""Service health: is the database usable, which chain are we on, what is deployed there."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from backend.core.db import database_is_up
from backend.deps import SessionDep, Web3Dep

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    chain_id: int | None
    block_number: int | None
    contracts: dict[str, str]
    database: Literal["ok", "unavailable"]
    database_backend: str
    problems: list[str]


@router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
def health(request: Request, response: Response, session: SessionDep, w3: Web3Dep) -> HealthPublic:
    problems: list[str] = []
    database_ok = database_is_up(session)
    if not database_ok:
        problems.append("database unavailable")
    chain_id = block_number = None
    try:
        chain_id = w3.eth.chain_id
        block_number = w3.eth.block_number
    except Exception as exc:  # noqa: BLE001 - any RPC failure is reported, never raised as a 500
        problems.append(f"chain node unreachable: {type(exc).__name__}")
    deployment = request.app.state.deployment
    if deployment is None:
        problems.append(request.app.state.deployment_problem)
    if problems:
        response.status_code = 503
    return HealthPublic(
        status="degraded" if problems else "ok",
        chain_id=chain_id,
        block_number=block_number,
        contracts=deployment.contracts if deployment else {},
        database="ok" if database_ok else "unavailable",
        database_backend=session.get_bind().dialect.name,
        problems=problems,
    )
