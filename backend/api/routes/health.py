"""Service health: database, chain, deployed contracts, and how the relayer and the indexer keep up."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, select

from backend.platform.db import database_is_up
from backend.platform.http import SessionDep, Web3Dep
from backend.platform.models import IndexerCursor, OutboundTx, TxStatus

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    chain_id: int | None
    block_number: int | None
    contracts: dict[str, str]
    database: Literal["ok", "unavailable"]
    database_backend: str
    relayer_address: str | None
    relayer_balance_wei: int | None
    unconfirmed_transactions: int | None
    oldest_unconfirmed_tx_age_s: float | None
    indexed_to_block: int | None
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
    relayer = relayer_balance = None
    unconfirmed = oldest_age = indexed_to = None
    services = request.app.state.services
    if services is not None:
        relayer = request.app.state.relayer_address
        try:
            relayer_balance = w3.eth.get_balance(relayer)
        except Exception:  # noqa: BLE001 - reported through the chain problem above
            relayer_balance = None
    if database_ok:
        live = session.execute(select(func.count(), func.min(OutboundTx.created_at))
                               .where(OutboundTx.status.in_((TxStatus.signed, TxStatus.broadcast)))).one()
        unconfirmed = live[0]
        if live[1] is not None:
            oldest = live[1] if live[1].tzinfo else live[1].replace(tzinfo=timezone.utc)
            oldest_age = round((datetime.now(timezone.utc) - oldest).total_seconds(), 1)
        cursor = session.get(IndexerCursor, "contracts")
        indexed_to = cursor.next_block - 1 if cursor else None
    if problems:
        response.status_code = 503
    return HealthPublic(
        status="degraded" if problems else "ok",
        chain_id=chain_id,
        block_number=block_number,
        contracts=deployment.contracts if deployment else {},
        database="ok" if database_ok else "unavailable",
        database_backend=session.get_bind().dialect.name,
        relayer_address=relayer,
        relayer_balance_wei=relayer_balance,
        unconfirmed_transactions=unconfirmed,
        oldest_unconfirmed_tx_age_s=oldest_age,
        indexed_to_block=indexed_to,
        problems=problems,
    )
