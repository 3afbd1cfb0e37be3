"""The treasury (the timelock's balances), the grants it paid, amounts in whole units as people read them, and the
tables of the reports for municipal accounting (proposals, votes, payouts)."""

from __future__ import annotations

from decimal import Context, Decimal
from functools import lru_cache
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.governance.models import Proposal, ProposalKind, Vote
from backend.governance.schemas import GrantPublic, PayoutPublic, TokenBalancePublic, TreasuryPublic
from backend.governance.state import chain_now, proposal_state
from backend.platform.config import Settings

ETH_DECIMALS = 18
ERC20_ABI = [
    {"type": "function", "name": name, "stateMutability": "view", "inputs": inputs, "outputs": [{"type": out}]}
    for name, inputs, out in (
        ("symbol", [], "string"),
        ("decimals", [], "uint8"),
        ("balanceOf", [{"name": "account", "type": "address"}], "uint256"),
    )
]


class NotAToken(ValueError):
    pass


def erc20(w3: Web3, address: str):
    return w3.eth.contract(address=address, abi=ERC20_ABI)


@lru_cache(maxsize=256)
def _token_info(w3: Web3, address: str) -> tuple[str, int]:
    contract = erc20(w3, address)
    try:
        return contract.functions.symbol().call(), contract.functions.decimals().call()
    except Exception as exc:  # noqa: BLE001 - no code, or not an ERC-20: the caller says so clearly
        raise NotAToken(f"{address} is not an ERC-20 token on this chain") from exc


def token_info(w3: Web3, token: str | None) -> tuple[str, int]:
    """(symbol, decimals) of an ERC-20 token, or of ETH for None; NotAToken if the address does not answer as one."""
    return ("ETH", ETH_DECIMALS) if token is None else _token_info(w3, token)


def shown_token_info(w3: Web3, token: str | None) -> tuple[str, int]:
    """For display: a token that stopped answering (a member's own contract may) is shown, not allowed to break the
    page."""
    try:
        return token_info(w3, token)
    except NotAToken:
        return "?", ETH_DECIMALS


def balance_of(w3: Web3, token: str | None, holder: str) -> int:
    if token is None:
        return w3.eth.get_balance(holder)
    return erc20(w3, token).functions.balanceOf(holder).call()


# Decimal's default 28 significant digits would round large token amounts (uint256 has 78).
EXACT = Context(prec=100)


def to_base_units(amount: str, decimals: int) -> int:
    value = EXACT.multiply(Decimal(amount), EXACT.power(Decimal(10), decimals))
    if value != value.to_integral_value():
        raise ValueError(f"has more than {decimals} decimal places")
    return int(value)


def to_whole_units(amount: int, decimals: int) -> str:
    text = format(EXACT.divide(Decimal(amount), EXACT.power(Decimal(10), decimals)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------------------------------------------- grants paid


def grant_public(w3: Web3, proposal: Proposal) -> GrantPublic | None:
    """A grant's recipient and amount (the token's symbol and decimals read from the chain); None for other kinds."""
    if proposal.kind != ProposalKind.grant:
        return None
    symbol, decimals = shown_token_info(w3, proposal.grant_token)
    amount = int(proposal.grant_amount)
    return GrantPublic(recipient=proposal.grant_recipient, token=proposal.grant_token, symbol=symbol,
                       amount=to_whole_units(amount, decimals), amount_base_units=str(amount))


def executed_grants(session: Session) -> list[Proposal]:
    """Grants paid: executed through the governor (its event), or directly in the timelock (the relayer saw the
    state)."""
    return session.scalars(select(Proposal).where(
        Proposal.kind == ProposalKind.grant,
        or_(Proposal.executed_tx.is_not(None), Proposal.closed_state == "executed")).order_by(Proposal.id)).all()


def payouts(*, session: Session, w3: Web3) -> list[PayoutPublic]:
    rows = []
    for proposal in executed_grants(session):
        grant = grant_public(w3, proposal)
        rows.append(PayoutPublic(proposal_id=proposal.id, title_ja=proposal.title_ja, title_en=proposal.title_en,
                                 recipient=grant.recipient, token=grant.token, symbol=grant.symbol,
                                 amount=grant.amount, amount_base_units=grant.amount_base_units,
                                 executed_tx=proposal.executed_tx, executed_at=proposal.executed_at))
    return rows


def treasury_public(*, session: Session, settings: Settings, w3: Web3, contracts) -> TreasuryPublic:
    """What the community treasury holds (ETH and known tokens) and every grant it paid."""
    holder = contracts.timelock.address
    tokens: list[str | None] = [None]
    configured = [w3.to_checksum_address(t.strip()) for t in settings.treasury_tokens.split(",") if t.strip()]
    # configured tokens and those the treasury actually paid out: a token named only in a proposal could be anyone's
    granted = [p.grant_token for p in executed_grants(session) if p.grant_token is not None]
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
    return TreasuryPublic(address=holder, balances=balances, payouts=payouts(session=session, w3=w3))


# ---------------------------------------------------------------------------------------------------- reports

SUPPORT_NAMES = {0: "against", 1: "for", 2: "abstain"}
ReportTable = Literal["proposals", "votes", "payouts"]


def report(*, session: Session, w3: Web3, table: ReportTable) -> tuple[list[str], list[list]]:
    """(header, rows) of a report for municipal accounting: every proposal, vote or payout."""
    if table == "payouts":
        return (["proposal", "title_ja", "title_en", "recipient", "asset", "token", "amount", "amount_base_units",
                 "executed_at", "tx_hash"],
                [[p.proposal_id, p.title_ja, p.title_en, p.recipient, p.symbol, p.token or "", p.amount,
                  p.amount_base_units, p.executed_at.isoformat() if p.executed_at else "", p.executed_tx or ""]
                 for p in payouts(session=session, w3=w3)])
    if table == "proposals":
        proposals = session.scalars(select(Proposal).order_by(Proposal.id)).all()
        now = chain_now(session)
        return (["proposal", "onchain_id", "kind", "state", "title_ja", "title_en", "proposer", "votes_for",
                 "votes_against", "votes_abstain", "quorum", "text_sha256", "created_tx", "executed_tx"],
                [[p.id, p.proposal_id, p.kind.value, proposal_state(p, now), p.title_ja, p.title_en,
                  p.proposer_address, p.votes_for, p.votes_against, p.votes_abstain,
                  "" if p.quorum is None else p.quorum, p.text_sha256 or "", p.created_tx or "", p.executed_tx or ""]
                 for p in proposals])
    votes = session.scalars(select(Vote).order_by(Vote.proposal_id, Vote.id)).all()
    return (["proposal", "voter", "support", "weight", "points", "reason", "status", "tx_hash", "block"],
            [[v.proposal_id, v.voter, SUPPORT_NAMES[v.support], "" if v.weight is None else v.weight,
              "" if v.points is None else v.points, v.reason, v.status.value, v.tx_hash or "",
              "" if v.block_number is None else v.block_number] for v in votes])
