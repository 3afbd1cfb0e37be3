from fastapi import APIRouter

from backend.api.routes import auth, claims, events, health, me, organizations

api_router = APIRouter()
for module in (health, auth, me, organizations, events, claims):
    api_router.include_router(module.router)
