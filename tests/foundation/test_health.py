"""GET /health against the real Anvil of the test network and a real SQLite database."""

from __future__ import annotations

import json

import pytest
from brownie import web3
from fastapi.testclient import TestClient

from backend.platform.config import Settings
from backend.platform.deployments import REQUIRED_CONTRACTS
from backend.app import WrongChainError, create_app


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'kyoso.db'}",
        rpc_url=web3.provider.endpoint_uri,
        deployments_dir=tmp_path / "deployments",
    )


def write_registry(settings: Settings, chain_id: int, contracts: dict[str, str]) -> None:
    settings.deployments_dir.mkdir(parents=True, exist_ok=True)
    entries = {name: {"address": address} for name, address in contracts.items()}
    (settings.deployments_dir / f"{chain_id}.json").write_text(json.dumps({"chain_id": chain_id, "contracts": entries}))


def test_health_reports_chain_block_contracts_and_database(settings):
    contracts = {name: "0x" + f"{i + 1:040x}" for i, name in enumerate(REQUIRED_CONTRACTS)}
    write_registry(settings, 31337, contracts)
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["chain_id"] == 31337
    assert body["block_number"] == web3.eth.block_number
    assert body["contracts"] == contracts
    assert body["database"] == "ok" and body["database_backend"] == "sqlite"


def test_health_without_a_registry_is_503_and_says_how_to_deploy(settings):
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["chain_id"] == 31337
    assert any("deploy first: make deploy NETWORK=" in problem for problem in body["problems"])


def test_health_with_the_chain_node_down_is_503_json_not_500(settings):
    down = settings.model_copy(update={"rpc_url": "http://127.0.0.1:9", "rpc_timeout_s": 1.0})
    with TestClient(create_app(down)) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["chain_id"] is None and body["block_number"] is None and body["database"] == "ok"
    assert any("chain node unreachable" in problem for problem in body["problems"])


def test_the_app_refuses_to_start_on_an_unexpected_chain(settings):
    wrong = settings.model_copy(update={"chain_id": 11155111})
    with pytest.raises(WrongChainError, match="chain 31337, but KYOSO_CHAIN_ID is 11155111"):
        with TestClient(create_app(wrong)):
            pass


def test_openapi_docs_are_served(settings):
    with TestClient(create_app(settings)) as client:
        assert client.get("/docs").status_code == 200
        assert "/api/health" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(("language", "message"), [("ja", "ページが見つかりません。"), ("en", "Page not found.")])
def test_unknown_path_gives_the_json_error_shape_in_the_asked_language(settings, language, message):
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/no-such-page", headers={"Accept-Language": language})
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": message}


@pytest.mark.parametrize("secret", ["", "change-me", "dev-insecure-change-me", "short"])
def test_placeholder_secrets_are_refused_outside_development(secret):
    with pytest.raises(ValueError, match="KYOSO_SECRET_KEY must be a random value"):
        Settings(environment="production", secret_key=secret)


def test_real_secrets_are_accepted_in_production():
    settings = Settings(environment="production", secret_key="x" * 48, key_encryption_key="QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
                        relayer_private_key="0x" + "ab" * 32)
    assert settings.environment == "production"


@pytest.mark.parametrize("missing", ["key_encryption_key", "relayer_private_key"])
def test_development_keys_are_refused_in_production(missing):
    values = {"secret_key": "x" * 48, "key_encryption_key": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", "relayer_private_key": "0x" + "ab" * 32}
    del values[missing]
    with pytest.raises(ValueError, match=f"KYOSO_{missing.upper()} must be set"):
        Settings(environment="production", **values)
