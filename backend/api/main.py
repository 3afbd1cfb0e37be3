from fastapi import APIRouter

from backend.api.routes import (
    auth,
    claims,
    delegation,
    events,
    health,
    me,
    missions,
    organizations,
    perks,
    proposals,
    treasury,
    wallet,
)

API_PREFIX = "/api"

api_router = APIRouter()
for module in (health, auth, me, wallet, delegation, organizations, events, claims, perks, missions,
               proposals, treasury):
    api_router.include_router(module.router)
