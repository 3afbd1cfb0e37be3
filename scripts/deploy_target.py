"""Where and as whom a deployment goes: the network's preset (tools/networks.yaml), the deployer's key, the registrar,
the governance settings (scripts/deploy-config.yaml) and the transaction fees.

Every problem a developer can fix is a `DeployError` with one sentence saying what to do; scripts/deploy.py turns it
into a message and exit code 1, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import yaml
from web3 import Web3

from scripts.suite import COUNTING_MODES, GovernanceSettings, TxPolicy

ROOT = Path(__file__).resolve().parent.parent
NETWORKS_FILE = ROOT / "tools" / "networks.yaml"
CONFIG_FILE = Path(os.environ.get("KYOSO_DEPLOY_CONFIG", ROOT / "scripts" / "deploy-config.yaml"))
DEVELOPMENT_CHAIN_ID = 31337
GWEI = 10**9
# setting -> bounds ParticipationBadges enforces (InvalidIssuingLimit), checked before anything is sent
ISSUING_LIMITS = (("max_event_points", 1, 2**32 - 1), ("points_allowance", 0, 2**64 - 1),
                  ("allowance_period_s", 3600, 366 * 24 * 3600))


class DeployError(RuntimeError):
    """A problem the developer can fix; its text says how."""


@dataclass(frozen=True)
class Target:
    network: str  # brownie network id
    name: str
    live: bool
    chain_id: int
    explorer: str | None
    priority_fee_wei: int
    confirmations: int

    def tx_policy(self) -> TxPolicy:
        return TxPolicy(priority_fee_wei=self.priority_fee_wei, confirmations=self.confirmations)


def presets() -> dict[str, dict]:
    return yaml.safe_load(NETWORKS_FILE.read_text())


def target(network: str) -> Target:
    nets = presets()
    if network in nets["live"]:
        preset = nets["live"][network]
        return Target(network=network, name=preset["name"], live=True, chain_id=int(preset["chainid"]),
                      explorer=preset.get("explorer"), priority_fee_wei=int(preset["priority_fee_gwei"] * GWEI),
                      confirmations=int(preset["confirmations"]))
    if network in nets["development"]:
        return Target(network=network, name=f"local Anvil ({network})", live=False, chain_id=DEVELOPMENT_CHAIN_ID,
                      explorer=None, priority_fee_wei=0, confirmations=1)
    raise DeployError(f"Unknown network {network!r}: use one of {', '.join([*nets['development'], *nets['live']])} "
                      "(tools/networks.yaml)")


def governance_settings(network: str, overrides: dict | None = None) -> GovernanceSettings:
    """scripts/deploy-config.yaml: `default`, then the network's own section, then command-line overrides."""
    config = yaml.safe_load(CONFIG_FILE.read_text()) or {}
    values = {**(config.get("default") or {}), **(config.get(network) or {}), **(overrides or {})}
    if "metadata_base_url" in values:
        values["default_uri"] = values.pop("metadata_base_url").rstrip("/") + "/metadata/{id}.json"
    known = {f.name for f in fields(GovernanceSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise DeployError(f"{CONFIG_FILE.name}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if isinstance(values.get("guardian"), int):
        raise DeployError(f"{CONFIG_FILE.name}: write the guardian's address in quotes (YAML reads an unquoted 0x... "
                          "as a number)")
    if not values.get("guardian"):
        values["guardian"] = None  # `guardian: ""` in the config: no guardian
    elif not isinstance(values["guardian"], str) or not Web3.is_address(values["guardian"]):
        raise DeployError(f"{CONFIG_FILE.name}: guardian must be an address (0x and 40 hex digits) or \"\" for none, "
                          f"not {values['guardian']!r}")
    else:
        values["guardian"] = Web3.to_checksum_address(values["guardian"])
    settings = GovernanceSettings(**values)
    if settings.counting not in COUNTING_MODES:
        raise DeployError(f"counting must be one of {', '.join(COUNTING_MODES)}, not {settings.counting!r}")
    for name, low, high in ISSUING_LIMITS:
        value = getattr(settings, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            raise DeployError(f"{CONFIG_FILE.name}: {name} must be a whole number from {low:,} to {high:,}, "
                              f"not {value!r}")
    return settings


def deployer_account(tgt: Target):
    """The deployer: on a live network from KYOSO_DEPLOYER_PRIVATE_KEY, or from brownie's encrypted account store
    (KYOSO_DEPLOYER_ACCOUNT, password from KYOSO_DEPLOYER_PASSWORD or asked for); locally Anvil's account 0."""
    from brownie import accounts

    key = os.environ.get("KYOSO_DEPLOYER_PRIVATE_KEY")
    account_id = os.environ.get("KYOSO_DEPLOYER_ACCOUNT")
    if key:
        try:
            return accounts.add(key)
        except Exception:  # noqa: BLE001 - the key's text must not be echoed
            raise DeployError("KYOSO_DEPLOYER_PRIVATE_KEY is not a valid private key (0x and 64 hex digits)") from None
    if account_id:
        try:
            return accounts.load(account_id, password=os.environ.get("KYOSO_DEPLOYER_PASSWORD"))
        except FileNotFoundError:
            raise DeployError(f"No brownie account {account_id!r}: create it with `brownie accounts new "
                              f"{account_id}` (KYOSO_DEPLOYER_ACCOUNT)") from None
        except ValueError:
            raise DeployError(f"Wrong password for brownie account {account_id!r} (KYOSO_DEPLOYER_PASSWORD)") from None
    if not tgt.live and len(accounts):
        return accounts[0]
    raise DeployError(f"No deployer key for {tgt.name}: set KYOSO_DEPLOYER_PRIVATE_KEY, or KYOSO_DEPLOYER_ACCOUNT "
                      "(an account in brownie's encrypted store: `brownie accounts new <id>`)")


def registrar_address(tgt: Target) -> str:
    """The account that registers organizations for the backend: the backend's relayer key's address."""
    from brownie import accounts, web3

    registrar = os.environ.get("KYOSO_REGISTRAR")
    if registrar:
        if not web3.is_address(registrar):
            raise DeployError(f"KYOSO_REGISTRAR is not an address: {registrar!r}")
        return web3.to_checksum_address(registrar)
    if not tgt.live and len(accounts) > 1:
        return accounts[1].address  # the backend's development relayer key (Anvil account 1)
    raise DeployError("Set KYOSO_REGISTRAR to the address of the backend's relayer key (KYOSO_RELAYER_PRIVATE_KEY): "
                      "it registers organizations on chain")
