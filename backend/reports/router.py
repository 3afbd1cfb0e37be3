"""Reports over HTTP: the sponsor's spend, as JSON and as CSV. The rules are in spend.py."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from backend.accounts.deps import CurrentUser
from backend.platform.http import SessionDep, errors
from backend.reports import spend
from backend.reports.csv import CSV_DOC, csv_response
from backend.reports.schemas import SpendPublic

router = APIRouter(tags=["sponsor"])


@router.get("/sponsor/spend", response_model=SpendPublic, responses=errors(403))
def sponsor_spend(session: SessionDep, user: CurrentUser):
    """What the sponsor paid, per organization (and the community's governance) and per kind of transaction: the
    settled transactions, their gas and the fees in wei; with every budget and what is used and reserved of it (the
    sponsor's accounts only)."""
    return spend.sponsor_spend(session=session, user=user)


@router.get("/sponsor/spend.csv", response_class=Response, responses={**CSV_DOC, **errors(403)})
def sponsor_spend_csv(session: SessionDep, user: CurrentUser):
    """The same per organization and kind of transaction, as CSV for municipal reporting."""
    report = spend.sponsor_spend(session=session, user=user)
    return csv_response(spend.SPEND_HEADER, spend.spend_rows(report), "sponsor-spend")
