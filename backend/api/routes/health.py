"""Service health: database, chain, deployed contracts, and how the relayer and the indexer keep up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from backend.platform.db import database_is_up
from backend.platform.http import SessionDep, SettingsDep, Web3Dep
from backend.platform.models import IndexerCursor, IndexerSkippedLog, OutboundTx, TxStatus

router = APIRouter(tags=["health"])

# The indexer may trail the head by a few blocks while it works; this far behind, pages show stale data.
INDEXER_LAG_LIMIT_S = 30
SKIPPED_LOGS_WINDOW = timedelta(hours=24)
# The relayer's key pays every fee and every top-up of the organizations' and members' keys; an operator needs this
# long to notice and fund it before claims and votes stop going out.
RUNWAY = timedelta(hours=1)


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
    indexer_lag_s: int | None
    skipped_logs_24h: int | None
    spent_last_hour_wei: int | None
    rpc_providers: list[dict] = Field(description="each RPC provider (host only): in use, standby, failing or "
                                                  "resting, with its last error")
    problems: list[str]


@router.get("/health", response_model=HealthPublic, responses={503: {"model": HealthPublic}})
def health(request: Request, response: Response, session: SessionDep, settings: SettingsDep,
           w3: Web3Dep) -> HealthPublic:
    problems: list[str] = []
    database_ok = database_is_up(session)
    if not database_ok:
        problems.append("database unavailable")
    chain_id = block_number = head_time = None
    try:
        chain_id = w3.eth.chain_id
        head = w3.eth.get_block("latest")
        block_number, head_time = head["number"], head["timestamp"]
        base_fee = head.get("baseFeePerGas", 0)
        cap = settings.max_fee_per_gas_wei
        if cap is not None and base_fee + settings.priority_fee_wei > cap:
            problems.append(f"base fee {base_fee} wei + tip {settings.priority_fee_wei} is above the sponsor's cap of "
                            f"{cap} wei per gas (KYOSO_MAX_FEE_PER_GAS_WEI): transactions wait until it falls; "
                            "claims and votes are still accepted")
    except Exception as exc:  # noqa: BLE001 - any RPC failure is reported, never raised as a 500
        problems.append(f"chain node unreachable: {type(exc).__name__}")
    providers = w3.provider.status() if hasattr(w3.provider, "status") else []
    for provider in providers:
        if provider["state"] in ("failing", "resting"):
            problems.append(f"RPC provider {provider['provider']} {provider['state']}: {provider['last_error']} "
                            f"({provider['failures_in_a_row']} in a row)")
    deployment = request.app.state.deployment
    if deployment is None:
        problems.append(request.app.state.deployment_problem)
    relayer = relayer_balance = None
    unconfirmed = oldest_age = indexed_to = lag = skipped = None
    services = request.app.state.services
    if services is not None:
        relayer = request.app.state.relayer_address
        try:
            relayer_balance = w3.eth.get_balance(relayer)
        except Exception:  # noqa: BLE001 - reported through the chain problem above
            relayer_balance = None
    spent = None
    if database_ok:
        spent = spent_since(session, datetime.now(timezone.utc) - RUNWAY)
        if relayer_balance is not None and spent and relayer_balance < spent:
            problems.append(f"relayer balance {relayer_balance} wei covers less than an hour of the last hour's "
                            f"spend ({spent} wei): fund {relayer}; claims are accepted and wait until then")
        live = session.execute(select(func.count(), func.min(OutboundTx.created_at))
                               .where(OutboundTx.status.in_((TxStatus.signed, TxStatus.broadcast)))).one()
        unconfirmed = live[0]
        if live[1] is not None:
            oldest = live[1] if live[1].tzinfo else live[1].replace(tzinfo=timezone.utc)
            oldest_age = round((datetime.now(timezone.utc) - oldest).total_seconds(), 1)
        cursor = session.get(IndexerCursor, "contracts")
        indexed_to = cursor.next_block - 1 if cursor else None
        if cursor is not None and cursor.block_timestamp is not None and head_time is not None:
            lag = max(0, head_time - cursor.block_timestamp)
            if lag > INDEXER_LAG_LIMIT_S:
                problems.append(f"indexer behind the chain by {lag} s (block {indexed_to} of {block_number})")
        since = datetime.now(timezone.utc) - SKIPPED_LOGS_WINDOW
        skipped = session.scalar(select(func.count()).select_from(IndexerSkippedLog)
                                 .where(IndexerSkippedLog.created_at >= since))
        if skipped:
            latest = session.scalars(select(IndexerSkippedLog).order_by(IndexerSkippedLog.id.desc()).limit(1)).one()
            problems.append(f"indexer skipped {skipped} log(s) in 24 h; latest: log {latest.log_index} of "
                            f"{latest.tx_hash} in block {latest.block_number}: {latest.reason[:200]}")
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
        indexer_lag_s=lag,
        skipped_logs_24h=skipped,
        spent_last_hour_wei=spent,
        rpc_providers=providers,
        problems=problems,
    )


def spent_since(session, since: datetime) -> int:
    """Fees paid by the backend's keys for transactions settled since `since`: the organizations' and members' keys
    are topped up from the relayer's, so their fees come out of its balance too (summed in Python: wei overflow
    64-bit sums)."""
    fees = session.scalars(select(OutboundTx.fee_paid).where(OutboundTx.gas_used.is_not(None),
                                                             OutboundTx.updated_at >= since))
    return sum(fee or 0 for fee in fees)
