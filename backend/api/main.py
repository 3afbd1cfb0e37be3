from fastapi import APIRouter

from backend.accounts import router as accounts
from backend.api.routes import health
from backend.claims import router as claims
from backend.events import router as events
from backend.governance import router as governance
from backend.missions import router as missions
from backend.organizations import router as organizations
from backend.perks import router as perks
from backend.reports import router as reports

API_PREFIX = "/api"

api_router = APIRouter()
for module in (health, accounts, organizations, events, claims, perks, missions,
               governance, reports):
    api_router.include_router(module.router)
