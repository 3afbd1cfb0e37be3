"""Deploying to a public testnet, with Anvil standing in for Ethereum Sepolia: chain id 11155111, no unlocked
accounts, the deployer's key only in the environment, a block every second and a base fee, as on the real network.
The deploy script runs as a developer runs it (`tools/brownie_run.py`, brownie's live-network path, preset
`kyoso-sepolia` with its RPC URL from the environment)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from web3 import Web3

from backend.platform.chain.contracts import abi
from backend.platform.config import Settings
from backend.app import create_app
from tests.backend.conftest import API_BASE, Api, codes, organizer_with_event, wait_confirmed
from tools.devstack.processes import Anvil, free_port

SEPOLIA = 11155111
KEY_ENCRYPTION_KEY = base64.b64encode(os.urandom(32)).decode()  # a real one: dev keys are refused off chain 31337
ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="module")
def standin(project_root):
    chain = Anvil(project_root, "--chain-id", str(SEPOLIA), "--accounts", "0", "--block-time", "1")
    assert chain.w3.eth.accounts == []  # nothing unlocked: every key comes from the environment
    yield chain.url, chain.w3
    chain.stop()


def funded_key(w3: Web3, ether: int) -> Account:
    account = Account.create()
    if ether:
        w3.provider.make_request("anvil_setBalance", [account.address, hex(ether * 10**18)])
    return account


def run(project_root, env: dict, *args: str, network: str = "kyoso-sepolia") -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KYOSO_")}
    return subprocess.run(
        [sys.executable, "tools/brownie_run.py", "scripts/deploy.py", "--network", network, "--", *args],
        cwd=project_root, env={**clean, **env}, capture_output=True, text=True, timeout=300,
    )


def one_clear_error(result: subprocess.CompletedProcess, needle: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert needle in output, output
    assert "Traceback" not in output, output


def test_deploy_to_a_testnet_twice_then_serve_a_claim(project_root, standin, tmp_path):
    url, w3 = standin
    deployer, relayer = funded_key(w3, 10), funded_key(w3, 10)
    env = {"KYOSO_SEPOLIA_RPC_URL": url, "KYOSO_DEPLOYER_PRIVATE_KEY": deployer.key.hex(),
           "KYOSO_REGISTRAR": relayer.address, "KYOSO_DEPLOYMENTS_DIR": str(tmp_path / "deployments")}

    dry = run(project_root, env, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    estimated = int(re.search(r"Estimated gas of the whole deployment: ([\d,]+)", dry.stdout).group(1).replace(",", ""))
    assert "Dry run: nothing was sent." in dry.stdout
    assert w3.eth.get_transaction_count(deployer.address) == 0

    first = run(project_root, env)
    assert first.returncode == 0, first.stdout + first.stderr
    registry = json.loads((tmp_path / "deployments" / f"{SEPOLIA}.json").read_text())
    assert registry["chain_id"] == SEPOLIA and registry["network"] == "kyoso-sepolia"
    assert registry["compiler"]["solc"] == "0.8.30" and registry["compiler"]["remappings"]
    real = sum(w3.eth.get_transaction_receipt(tx)["gasUsed"] for tx in registry["transactions"].values())
    assert real == registry["gas_used"]
    assert abs(estimated - real) <= 0.1 * real, (estimated, real)
    nonce_after = w3.eth.get_transaction_count(deployer.address)
    for tx in registry["transactions"].values():
        assert w3.eth.get_transaction(tx)["type"] == 2  # EIP-1559
    assert sorted(p.name for p in (tmp_path / "deployments" / "verification" / str(SEPOLIA)).iterdir()) == sorted(
        f"{name}.json" for name in registry["contracts"])

    c = {name: w3.eth.contract(address=e["address"], abi=abi(e["contract"])) for name, e in registry["contracts"].items()}
    badges, points, timelock, governor = (c["ParticipationBadges"], c["ParticipationPoints"], c["KyosoTimelock"],
                                          c["KyosoGovernor"])
    admin = badges.functions.DEFAULT_ADMIN_ROLE().call()
    assert badges.functions.hasRole(admin, timelock.address).call()
    assert badges.functions.hasRole(badges.functions.REGISTRAR_ROLE().call(), relayer.address).call()
    assert points.functions.owner().call() == timelock.address
    assert points.functions.snapshotRegistrar().call() == governor.address
    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE"):
        assert timelock.functions.hasRole(getattr(timelock.functions, role)().call(), governor.address).call()
    assert timelock.functions.hasRole(timelock.functions.EXECUTOR_ROLE().call(), ZERO).call()
    for contract, roles in ((badges, ("DEFAULT_ADMIN_ROLE", "REGISTRAR_ROLE")),
                            (timelock, ("DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"))):
        for role in roles:
            assert not contract.functions.hasRole(getattr(contract.functions, role)().call(), deployer.address).call()
    assert points.functions.owner().call() != deployer.address
    # scripts/deploy-config.yaml's issuing limits (default section; no guardian on a public network) land on chain
    # and in the registry
    assert list(badges.functions.issuingLimits().call()) == [100, 2000, 2592000]
    assert {k: registry["governance"][k] for k in ("max_event_points", "points_allowance", "allowance_period_s",
                                                    "guardian")} == {
        "max_event_points": 100, "points_allowance": 2000, "allowance_period_s": 2592000, "guardian": None}

    # Source verification: the recorded standard-JSON input compiles to exactly the creation code sent on chain.
    record = json.loads((tmp_path / "deployments" / "verification" / str(SEPOLIA) / "KyosoGovernor.json").read_text())
    solc_input = {**record["standard_json_input"], "settings": {
        **record["standard_json_input"]["settings"], "outputSelection": {"*": {"*": ["evm.bytecode.object"]}}}}
    compiled = json.loads(subprocess.run(
        [str(project_root / ".solcx" / "solc-v0.8.30"), "--standard-json", "--allow-paths", str(project_root)],
        input=json.dumps(solc_input), cwd=project_root, capture_output=True, text=True, check=True).stdout)
    path, name = record["contract"].split(":")
    creation = compiled["contracts"][path][name]["evm"]["bytecode"]["object"] + record["constructor_arguments"]
    sent = w3.eth.get_transaction(registry["contracts"]["KyosoGovernor"]["transaction"])["input"]
    assert creation == bytes(sent).hex().removeprefix("0x") and record["compiler_version"] == "v0.8.30+commit.73712a01"

    second = run(project_root, env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already deployed on chain 11155111 with these settings" in second.stdout
    assert w3.eth.get_transaction_count(deployer.address) == nonce_after  # nothing deployed twice
    other_settings = run(project_root, env, "--counting", "quadratic")
    one_clear_error(other_settings, "with other settings (counting); run with --fresh")

    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'kyoso.db'}", rpc_url=url,
                        deployments_dir=tmp_path / "deployments", chain_id=SEPOLIA,
                        relayer_private_key=relayer.key.hex(),
                        key_encryption_key=KEY_ENCRYPTION_KEY,
                        public_base_url="http://testserver")
    with TestClient(create_app(settings), base_url=API_BASE) as client:
        assert client.get("/health").json()["contracts"]["KyosoGovernor"] == governor.address
        organizer, _org, event = organizer_with_event(client)
        (secret,) = codes(organizer, event["id"], 1)
        member = Api(client)
        claim = member.post(f"/events/{event['id']}/claims", {"method": "code", "secret": secret})
        assert claim.status_code == 202, claim.text
        wait_confirmed(member, claim.json()["id"], timeout=60)
        assert badges.functions.balanceOf(member.me()["wallet_address"], event["token_id"]).call() == 1


def test_deployment_problems_are_one_clear_message(project_root, standin, tmp_path):
    url, w3 = standin
    unfunded, registrar = funded_key(w3, 0), funded_key(w3, 0)
    env = {"KYOSO_SEPOLIA_RPC_URL": url, "KYOSO_DEPLOYER_PRIVATE_KEY": unfunded.key.hex(),
           "KYOSO_REGISTRAR": registrar.address, "KYOSO_DEPLOYMENTS_DIR": str(tmp_path / "deployments")}

    no_url = run(project_root, {k: v for k, v in env.items() if k != "KYOSO_SEPOLIA_RPC_URL"})
    one_clear_error(no_url, "KYOSO_SEPOLIA_RPC_URL is not set: it is the RPC URL of Ethereum Sepolia")
    wrong_chain = run(project_root, {**env, "KYOSO_BASE_SEPOLIA_RPC_URL": url}, network="kyoso-base-sepolia")
    one_clear_error(wrong_chain, "is chain 11155111, but kyoso-base-sepolia is chain 84532")
    no_key = run(project_root, {k: v for k, v in env.items() if k != "KYOSO_DEPLOYER_PRIVATE_KEY"})
    one_clear_error(no_key, "No deployer key for Ethereum Sepolia: set KYOSO_DEPLOYER_PRIVATE_KEY")
    poor = run(project_root, env)
    one_clear_error(poor, f"The deployer {unfunded.address} holds 0.000000 ETH on Ethereum Sepolia")
    assert "nothing was sent" in poor.stderr and w3.eth.get_transaction_count(unfunded.address) == 0

    secrets = {"KYOSO_ENVIRONMENT": "production", "KYOSO_SECRET_KEY": "s" * 48, "KYOSO_CHAIN_ID": str(SEPOLIA),
               "KYOSO_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY,
               "KYOSO_RELAYER_PRIVATE_KEY": registrar.key.hex(), "RPC_URL": url,
               "KYOSO_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
               "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"}

    def backend() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "uvicorn", "backend.app:app", "--port", str(free_port())],
                              cwd=project_root, env={**os.environ, **secrets}, capture_output=True, text=True,
                              timeout=60)

    one_clear_error(backend(), f"Kyoso cannot start: No deployment registry for chain {SEPOLIA}")
    (tmp_path / "deployments").mkdir(exist_ok=True)
    (tmp_path / "deployments" / f"{SEPOLIA}.json").write_text(json.dumps(
        {"chain_id": SEPOLIA, "contracts": {"ParticipationBadges": {"address": "0x" + "11" * 20}}}))
    one_clear_error(backend(), "has no entry for ParticipationPoints, KyosoGovernor, KyosoTimelock")
