"""Settings from the environment (and an optional `.env`), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]

# Values that mean "nobody set this": accepted in development and tests, refused anywhere else.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "dev-insecure-change-me", "secret"})
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KYOSO_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default=f"sqlite:///{ROOT / '.kyoso' / 'kyoso.db'}",
        validation_alias=AliasChoices("DATABASE_URL", "KYOSO_DATABASE_URL"),
    )
    rpc_url: str = Field(
        default="http://127.0.0.1:8545", validation_alias=AliasChoices("RPC_URL", "KYOSO_RPC_URL")
    )
    # The chain the deployment registry and the database belong to; the app refuses to start on another one.
    chain_id: int | None = None
    deployments_dir: Path = ROOT / "deployments"
    rpc_timeout_s: float = 5.0
    secret_key: SecretStr = SecretStr("dev-insecure-change-me")

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "Settings":
        if self.environment in ("development", "test"):
            return self
        secret = self.secret_key.get_secret_value()
        if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"KYOSO_SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters when "
                f"KYOSO_ENVIRONMENT={self.environment} (generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
