from fastapi import APIRouter

from backend.api.routes import auth, claims, events, health, me, organizations, wallet

API_PREFIX = "/api"

api_router = APIRouter()
for module in (health, auth, me, wallet, organizations, events, claims):
    api_router.include_router(module.router)
