"""Settings from the environment (and an optional `.env`), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.platform.client_address import trusted_networks

ROOT = Path(__file__).resolve().parents[2]

# Values that mean "nobody set this": accepted in development and tests, refused anywhere else.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "dev-insecure-change-me", "secret"})
MIN_SECRET_LENGTH = 32
# Anvil's well-known development key #1 (mnemonic "test test ... junk"): the local chain's relayer and registrar.
# Only ever used on chain 31337; outside development the relayer key must come from the environment.
ANVIL_DEV_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ANVIL_DEV_ADDRESS_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # its address: public, as the key is
DEV_KEY_ENCRYPTION_KEY = "a3lvc28tZGV2LW9ubHkta2V5LWVuY3J5cHRpb24tMzI="  # base64("kyoso-dev-only-key-encryption-32")


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
    # Other RPC providers of the same chain, comma-separated, tried in order when the one above fails or rate-limits
    # (a public network's providers fail, time out and answer 429; each may carry an API key: never logged).
    rpc_fallback_urls: str = ""
    rpc_timeout_s: float = 5.0
    secret_key: SecretStr = SecretStr("dev-insecure-change-me")
    # Key-encryption key for custodial and organization keys at rest (AES-256-GCM), base64 of 32 bytes.
    key_encryption_key: SecretStr = SecretStr(DEV_KEY_ENCRYPTION_KEY)
    # The relayer's own key: registers organizations on chain (it holds the badge contract's registrar role). Only a
    # process that runs the relayer reads it (the background worker); an API process beside it needs only the address.
    relayer_private_key: SecretStr = SecretStr(ANVIL_DEV_KEY_1)
    # The relayer's address, for a process with KYOSO_RELAYER_ENABLED=false (health shows it and its balance): such a
    # process never loads the key. Where the relayer runs, it must match the key if set.
    relayer_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    access_token_ttl_s: int = 30 * 24 * 3600
    public_base_url: str = "http://127.0.0.1:8000"
    # The reverse proxies in front of the API (comma-separated addresses or networks, e.g. "10.0.0.5, fd00::/8"):
    # only a request from one of them has its X-Forwarded-For believed (backend/platform/client_address.py). Empty: the
    # API is reached directly, and the header is ignored.
    trusted_proxies: str = ""
    explorer_tx_url: str = ""  # e.g. https://sepolia.etherscan.io/tx/{hash}; empty on the local chain
    relayer_enabled: bool = True
    indexer_enabled: bool = True
    # Tip per gas the relayer offers (EIP-1559). 0 is fine on the local chain; public networks want ~1-2 gwei.
    priority_fee_wei: int = 0
    # The most the sponsor pays per gas (EIP-1559 maxFeePerGas, base fee + tip), e.g. 50 gwei; none: no limit. While the
    # base fee and the tip pass it, transactions wait (claims and votes are still accepted) and health says why.
    max_fee_per_gas_wei: int | None = Field(default=None, ge=1)
    # Blocks a transaction needs (1: the block that includes it) before the API says "confirmed"; unset: what the
    # network's preset names (the deployment registry's `confirmations`, written by `make deploy`), 1 on Anvil.
    confirmations: int | None = Field(default=None, ge=1)
    # Anyone may queue and execute a passed proposal through the API; with this on, the relayer also does it by itself
    # as soon as the proposal has succeeded and again once the timelock delay has passed.
    governance_auto_execute: bool = True
    # ERC-20 tokens whose treasury balance is shown (comma-separated addresses); tokens granted by proposals are
    # always shown.
    treasury_tokens: str = ""
    # E-mail (backend/platform/mail.py): the SMTP server the mailer hands every message to, with STARTTLS unless turned
    # off, and credentials if it wants them. Empty host: nothing is sent, messages wait in the outbox (`make run` runs
    # a local catcher and shows what it caught on /dev/mail, with KYOSO_DEV_MAIL_DIR its folder).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    smtp_ca_file: Path | None = None  # a private CA that signed the SMTP server's certificate (else the system's)
    mail_from: str = "Kyoso <kyoso@localhost>"
    mailer_enabled: bool = True  # this process may send the outbox (one process at a time holds the mailer's lease)
    dev_mail_dir: Path | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        trusted_networks(value)  # a typo refused at start, not a proxy silently untrusted
        return value

    def rpc_fallbacks(self) -> tuple[str, ...]:
        return tuple(url.strip() for url in self.rpc_fallback_urls.split(",") if url.strip())

    def uses_development_keys(self) -> bool:
        return (self.key_encryption_key.get_secret_value() == DEV_KEY_ENCRYPTION_KEY
                or (self.relayer_enabled and self.relayer_private_key.get_secret_value() == ANVIL_DEV_KEY_1))

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "Settings":
        if self.environment in ("development", "test"):
            return self
        problems = []
        secret = self.secret_key.get_secret_value()
        if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"KYOSO_SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters when "
                f"KYOSO_ENVIRONMENT={self.environment} (generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.key_encryption_key.get_secret_value() == DEV_KEY_ENCRYPTION_KEY:
            problems.append(
                "KYOSO_KEY_ENCRYPTION_KEY must be set (base64 of 32 random bytes: "
                "python -c 'import os,base64; print(base64.b64encode(os.urandom(32)).decode())')"
            )
        if not self.relayer_enabled:
            if self.relayer_address is None:
                problems.append("KYOSO_RELAYER_ADDRESS must be set: a process with KYOSO_RELAYER_ENABLED=false shows "
                                "the relayer's address and balance, and never loads its key")
        elif self.relayer_private_key.get_secret_value() == ANVIL_DEV_KEY_1:
            problems.append("KYOSO_RELAYER_PRIVATE_KEY must be set; Anvil's public development key is for chain 31337")
        if self.smtp_user and not self.smtp_starttls and self.smtp_host not in ("127.0.0.1", "::1", "localhost"):
            problems.append("KYOSO_SMTP_STARTTLS=false would send KYOSO_SMTP_USER's password in the clear to "
                            f"{self.smtp_host}: keep STARTTLS on for a server that is not on this machine")
        if problems:
            raise ValueError("; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
