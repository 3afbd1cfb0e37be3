"""Deploys the Kyoso suite and records it in deployments/<chain-id>.json, which the backend reads.

    make deploy NETWORK=kyoso-sepolia [DRY_RUN=1] [FRESH=1]                  (docs/deploy.md)
    python tools/brownie_run.py scripts/deploy.py --network kyoso-sepolia -- [--dry-run] [--fresh] [--counting quadratic]
    brownie run scripts/deploy.py --network kyoso-sepolia                   (options from KYOSO_DRY_RUN, KYOSO_FRESH)

On a live network the deployment is first rehearsed on a local fork (scripts/simulation.py): the dry run stops there
and prints the gas of every step and the cost; a real run checks that the deployer can pay, then sends. A second run
finds the registry and the code on chain and deploys nothing; `--fresh` deploys anew (the old registry is archived).
Every role ends with the timelock and the governor; the deployer keeps none (scripts/suite.py).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from brownie import chain, network, web3

from scripts.deploy_target import (
    DeployError,
    Target,
    deployer_account,
    governance_settings,
    registrar_address,
    target,
)
from scripts.kyoso_suite import Suite, deploy_suite
from scripts.suite import GovernanceSettings

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS_DIR = Path(os.environ.get("KYOSO_DEPLOYMENTS_DIR", ROOT / "deployments"))


def _options(args: tuple[str, ...]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/deploy.py", description="Deploy the Kyoso contract suite.")
    parser.add_argument("--dry-run", action="store_true", default=os.environ.get("KYOSO_DRY_RUN") == "1",
                        help="rehearse on a local fork and print gas and cost; send nothing")
    parser.add_argument("--fresh", action="store_true", default=os.environ.get("KYOSO_FRESH") == "1",
                        help="deploy anew even if the registry names a live deployment")
    parser.add_argument("--counting", choices=["simple", "quadratic"])
    parser.add_argument("--quorum-percent", type=int)
    parser.add_argument("--proposal-threshold", type=int)
    parser.add_argument("--metadata-base-url", default=os.environ.get("KYOSO_PUBLIC_BASE_URL"))
    return parser.parse_args(list(args))


def _registry_is_live(registry: dict) -> bool:
    """True when every contract in the registry still has code on this chain (a fresh chain has none)."""
    contracts = registry.get("contracts", {})
    return bool(contracts) and all(len(web3.eth.get_code(entry["address"])) > 0 for entry in contracts.values())


def _abi_hash(contract) -> str:
    import hashlib

    return "0x" + hashlib.sha256(json.dumps(contract.abi, sort_keys=True).encode()).hexdigest()


def _eth(wei: int) -> str:
    return f"{wei / 10**18:.6f} ETH"


def _existing(path: Path, settings: GovernanceSettings, fresh: bool) -> dict | None:
    """The live deployment the registry names, if this run should leave it alone."""
    if not path.exists():
        return None
    registry = json.loads(path.read_text())
    if registry.get("chain_id") != chain.id or not _registry_is_live(registry):
        return None
    if fresh:
        archive = path.parent / "archive" / f"{chain.id}-{registry.get('deployed_at', 'unknown').replace(':', '')}.json"
        archive.parent.mkdir(parents=True, exist_ok=True)
        path.rename(archive)
        print(f"--fresh: the previous registry was moved to {archive.relative_to(ROOT)}")
        return None
    if registry.get("governance") != settings.__dict__:
        changed = sorted(k for k, v in settings.__dict__.items() if registry.get("governance", {}).get(k) != v)
        raise DeployError(f"Kyoso is already deployed on chain {chain.id} ({path.name}) with other settings "
                          f"({', '.join(changed)}); run with --fresh to deploy a new suite")
    return registry


def _summary(registry: dict) -> None:
    width = max(map(len, registry["contracts"]))
    print(f"\nKyoso on {registry.get('network_name', registry['network'])} (chain {registry['chain_id']}):")
    print(f"  {'contract':<{width}}  {'address':<42}  block")
    for name, entry in registry["contracts"].items():
        print(f"  {name:<{width}}  {entry['address']}  {entry['block']}")
    explorer = registry.get("explorer")
    if explorer:
        print(f"  explorer: {explorer}/address/{registry['contracts']['KyosoGovernor']['address']}")


def _print_estimate(tgt: Target, estimate, balance: int) -> None:
    width = max(len(step) for step, _gas in estimate.steps)
    print(f"\nDeployment rehearsed on a local fork of {tgt.name} (chain {tgt.chain_id}):")
    for step, gas in estimate.steps:
        print(f"  {step:<{width}}  {gas:>12,} gas")
    print(f"Estimated gas of the whole deployment: {estimate.gas:,}")
    print(f"Estimated cost: {_eth(estimate.expected_cost)} at a base fee of {estimate.base_fee / 10**9:.3f} gwei and a "
          f"tip of {estimate.priority_fee / 10**9:.3f} gwei; the deployer must hold at least "
          f"{_eth(estimate.required_balance)} (fee cap and gas margin); it holds {_eth(balance)}.")


def _write_registry(path: Path, tgt: Target, suite: Suite, deployer, registrar: str,
                    settings: GovernanceSettings) -> dict:
    from scripts.verification import compiler_settings, verification_record

    contracts, deployed = suite.contracts(), suite.deployment.contracts
    receipts = {step: web3.eth.get_transaction_receipt(tx) for step, tx in suite.transactions.items()}
    registry = {
        "chain_id": chain.id,
        "network": tgt.network,
        "network_name": tgt.name,
        "explorer": tgt.explorer,
        # blocks a transaction needs before the backend says `confirmed` (its KYOSO_CONFIRMATIONS overrides it)
        "confirmations": tgt.confirmations,
        "deployer": deployer.address,
        "registrar": registrar,
        "deployed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "governance": settings.__dict__,
        "compiler": compiler_settings(),
        "contracts": {
            name: {
                "address": contract.address,
                "contract": contract._name,
                "block": deployed[name].block,
                "transaction": deployed[name].transaction,
                "constructor_arguments": deployed[name].constructor_arguments,
                "abi_sha256": _abi_hash(contract),
            }
            for name, contract in contracts.items()
        },
        "transactions": suite.transactions,
        "gas_used": sum(r["gasUsed"] for r in receipts.values()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(registry, indent=2, ensure_ascii=False) + "\n")
    verification_dir = path.parent / "verification" / str(chain.id)
    verification_dir.mkdir(parents=True, exist_ok=True)
    for name, contract in contracts.items():
        record = verification_record(contract, registry["contracts"][name]["constructor_arguments"])
        (verification_dir / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    return registry


def deploy(*args: str) -> None:
    options = _options(args)
    tgt = target(network.show_active())
    overrides = {key: value for key, value in (("counting", options.counting),
                                                ("quorum_percent", options.quorum_percent),
                                                ("proposal_threshold", options.proposal_threshold),
                                                ("metadata_base_url", options.metadata_base_url)) if value is not None}
    settings = governance_settings(tgt.network, overrides)
    path = DEPLOYMENTS_DIR / f"{chain.id}.json"
    existing = _existing(path, settings, options.fresh)
    if existing is not None:
        print(f"Kyoso is already deployed on chain {chain.id} with these settings ({path}); nothing to do.")
        _summary(existing)
        return
    deployer = deployer_account(tgt)
    registrar = registrar_address(tgt)
    if tgt.live or options.dry_run:
        from scripts.simulation import simulate

        estimate = simulate(tgt, deployer, registrar, settings)
        deployer = deployer_account(tgt)  # reconnected after the rehearsal: the account anew
        balance = web3.eth.get_balance(deployer.address)
        _print_estimate(tgt, estimate, balance)
        if options.dry_run:
            print("Dry run: nothing was sent.")
            return
        if balance < estimate.required_balance:
            raise DeployError(f"The deployer {deployer.address} holds {_eth(balance)} on {tgt.name}; the deployment "
                              f"needs about {_eth(estimate.expected_cost)} (keep at least "
                              f"{_eth(estimate.required_balance)}). Fund it and run again; nothing was sent.")
    suite = deploy_suite(deployer, registrar, settings, tgt.tx_policy())
    registry = _write_registry(path, tgt, suite, deployer, registrar, settings)
    print(f"\nKyoso deployed on chain {chain.id}.")
    _summary(registry)
    print(f"Gas used: {registry['gas_used']:,}")
    print(f"Deployment registry written: {path}")
    print(f"Source verification inputs: {path.parent / 'verification' / str(chain.id)} (docs/deploy.md)")


def main(*args: str) -> None:
    try:
        deploy(*args)
    except DeployError as exc:
        raise SystemExit(f"Error: {exc}") from None
