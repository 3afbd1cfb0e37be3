"""The treasury and reports for municipal accounting: balances held by the timelock, grants paid by executed
proposals, and CSV files of proposals, votes and payouts (UTF-8 with a byte-order mark, so that spreadsheet programs
show Japanese text correctly)."""

from __future__ import annotations

import csv
import io
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import or_, select

from backend.api.routes.proposals import chain_now, grant_public
from backend.api.deps import ServicesDep, SessionDep, SettingsDep
from backend.governance.state import proposal_state
from backend.governance.treasury import balance_of, shown_token_info, to_whole_units
from backend.governance.models import Proposal, ProposalKind, Vote
from backend.governance.schemas import PayoutPublic, TokenBalancePublic, TreasuryPublic

router = APIRouter(tags=["treasury"])

SUPPORT_NAMES = {0: "against", 1: "for", 2: "abstain"}


def _executed_grants(session) -> list[Proposal]:
    """Grants paid: executed through the governor (its event), or directly in the timelock (the relayer saw the state)."""
    return session.scalars(select(Proposal).where(
        Proposal.kind == ProposalKind.grant,
        or_(Proposal.executed_tx.is_not(None), Proposal.closed_state == "executed")).order_by(Proposal.id)).all()


def _payouts(session, w3) -> list[PayoutPublic]:
    rows = _executed_grants(session)
    payouts = []
    for proposal in rows:
        grant = grant_public(w3, proposal)
        payouts.append(PayoutPublic(proposal_id=proposal.id, title_ja=proposal.title_ja, title_en=proposal.title_en,
                                    recipient=grant.recipient, token=grant.token, symbol=grant.symbol,
                                    amount=grant.amount, amount_base_units=grant.amount_base_units,
                                    executed_tx=proposal.executed_tx, executed_at=proposal.executed_at))
    return payouts


@router.get("/treasury", response_model=TreasuryPublic)
def treasury(request: Request, session: SessionDep, settings: SettingsDep, services: ServicesDep):
    """What the community treasury holds (ETH and known tokens) and every grant it paid."""
    w3, holder = request.app.state.web3, services.contracts.timelock.address
    tokens: list[str | None] = [None]
    configured = [w3.to_checksum_address(t.strip()) for t in settings.treasury_tokens.split(",") if t.strip()]
    # configured tokens and those the treasury actually paid out: a token named only in a proposal could be anyone's
    granted = [p.grant_token for p in _executed_grants(session) if p.grant_token is not None]
    for token in [*configured, *granted]:
        if token not in tokens:
            tokens.append(token)
    balances = []
    for token in tokens:
        symbol, decimals = shown_token_info(w3, token)
        try:
            amount = balance_of(w3, token, holder)
        except Exception:  # noqa: BLE001 - a token contract that stopped answering is left out, not a 500
            continue
        balances.append(TokenBalancePublic(token=token, symbol=symbol, decimals=decimals,
                                           balance=to_whole_units(amount, decimals), balance_base_units=str(amount)))
    return TreasuryPublic(address=holder, balances=balances, payouts=_payouts(session, w3))


def _cell(value):
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is kept as text: titles and reasons come
    from members."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(name: str, header: list[str], rows: list[list]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="kyoso-{name}.csv"'})


@router.get("/reports/{table}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with BOM"}})
def report(table: Literal["proposals", "votes", "payouts"], request: Request, session: SessionDep,
           services: ServicesDep):
    """Proposals, votes or payouts as CSV, for municipal reporting."""
    w3 = request.app.state.web3
    if table == "payouts":
        return _csv(table, ["proposal", "title_ja", "title_en", "recipient", "asset", "token", "amount",
                            "amount_base_units", "executed_at", "tx_hash"],
                    [[p.proposal_id, p.title_ja, p.title_en, p.recipient, p.symbol, p.token or "", p.amount,
                      p.amount_base_units, p.executed_at.isoformat() if p.executed_at else "", p.executed_tx or ""]
                     for p in _payouts(session, w3)])
    proposals = session.scalars(select(Proposal).order_by(Proposal.id)).all()
    if table == "proposals":
        now = chain_now(session)
        return _csv(table, ["proposal", "onchain_id", "kind", "state", "title_ja", "title_en", "proposer",
                            "votes_for", "votes_against", "votes_abstain", "quorum", "text_sha256", "created_tx",
                            "executed_tx"],
                    [[p.id, p.proposal_id, p.kind.value, proposal_state(p, now), p.title_ja, p.title_en,
                      p.proposer_address, p.votes_for, p.votes_against, p.votes_abstain,
                      "" if p.quorum is None else p.quorum, p.text_sha256 or "", p.created_tx or "",
                      p.executed_tx or ""] for p in proposals])
    votes = session.scalars(select(Vote).order_by(Vote.proposal_id, Vote.id)).all()
    return _csv(table, ["proposal", "voter", "support", "weight", "points", "reason", "status", "tx_hash", "block"],
                [[v.proposal_id, v.voter, SUPPORT_NAMES[v.support], "" if v.weight is None else v.weight,
                  "" if v.points is None else v.points, v.reason, v.status.value, v.tx_hash or "",
                  "" if v.block_number is None else v.block_number] for v in votes])
