"""`fedledger demo --predict`: the trained model sold as encrypted predictions.

After the federated training (or for a finished task given with ``--task``), two participants
(Org1 and Org2) each start a ``fedledger provider serve`` process that offers the task's current
model; a consumer (Org3's User2) buys predictions of held-out test images from both, paying per
prediction on the ledger. The demo prints, per provider, the accuracy of the decrypted answers
against the labels, their agreement with the plaintext model, latency and bytes, then every
party's credits before and after, and checks the supply against balances and escrows.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from fedledger.cli import ledger_cmd
from fedledger.cli.output import progress, say, table
from fedledger.cli.paths import Paths
from fedledger.cli.predict_cmd import provider_client
from fedledger.contract import credits, parties, training
from fedledger.crypto.envelope import public_key_bytes
from fedledger.errors import FedLedgerError, RoleProcessError
from fedledger.inference.params import get_params
from fedledger.ledger.interface import Contract
from fedledger.roles.ledger_io import register_party
from fedledger.roles.prediction import market
from fedledger.roles.training.checkpoints import ModelStore
from fedledger.runner.events import PROVIDER_EVENTS, Serving
from fedledger.runner.processes import RoleProcess

PROVIDER_ORGS = ("Org1", "Org2")
CONSUMER_ORG, CONSUMER_USER = "Org3", "User2"
MINTER_ORG, MINTER_USER = "Org1", "Admin"  # the demo's coordinator; Org1MSP mints by default
PRICE, FEE_BP, TTL_SECONDS = 5, 2000, 120
PER_PROVIDER = 10
SERVE_TIMEOUT = 300.0
READ_WAIT_SECONDS = 15.0


@dataclass
class ProviderProcess:
    """A `fedledger provider serve` process and the line that said it serves."""

    org: str
    process: RoleProcess
    ready: Serving


def _start_provider(paths: Paths, org: str, task_id: str) -> ProviderProcess:
    argv = [
        "provider", "serve", "--json", "--org", org, "--task", task_id, "--price", str(PRICE),
        "--fee-bp", str(FEE_BP), "--state", str(paths.state),
    ]  # fmt: skip
    process = RoleProcess(f"provider-{org}", argv, paths.state / "logs", PROVIDER_EVENTS).start()
    try:
        return ProviderProcess(org, process, process.wait_for(Serving, SERVE_TIMEOUT))
    except RoleProcessError as exc:
        process.stop()
        raise FedLedgerError(f"the provider of {org} did not start: {exc}") from exc


def _stop(paths: Paths, providers: list[ProviderProcess]) -> None:
    """Stop the provider processes and withdraw their offers, whose endpoints are gone."""
    for provider in providers:
        provider.process.stop()
        who = argparse.Namespace(org=provider.org, user="User1")
        with ledger_cmd.contract_for(paths, who) as contract:
            for offer_id in provider.ready.offers:
                market.withdraw_offer(contract, offer_id)


def _wait_registered(reader: Contract, party: str) -> None:
    deadline = time.monotonic() + READ_WAIT_SECONDS
    while parties.find_party(reader, party) is None:
        if time.monotonic() > deadline:
            raise FedLedgerError(f"party {party} never appeared on the minter's peer")
        time.sleep(0.2)


def _balances(contract: Contract, accounts: dict[str, str]) -> dict[str, int]:
    return {name: credits.balance_of(contract, a) for name, a in accounts.items()}


def run_predict_phase(paths: Paths, args: argparse.Namespace, task_id: str) -> dict[str, Any]:
    """Serve ``task_id``'s model from two participants and buy predictions; return the figures."""
    from fedledger.roles.prediction.served_model import current_model, poly_mlp
    from fedledger.roles.training.dataplan import DataPlan, load_split

    (paths.state / "logs").mkdir(parents=True, exist_ok=True)
    plan = DataPlan(args.participants, args.partition, args.mnist, args.seed)
    test = load_split(plan).test
    count = PER_PROVIDER * len(PROVIDER_ORGS)
    images, labels = test.x[:count], test.y[:count]
    minter_args = argparse.Namespace(org=MINTER_ORG, user=MINTER_USER)
    consumer_args = argparse.Namespace(org=CONSUMER_ORG, user=CONSUMER_USER)
    progress(f"starting providers for {', '.join(PROVIDER_ORGS)} (loading the model and TenSEAL)")
    providers = [_start_provider(paths, org, task_id) for org in PROVIDER_ORGS]
    try:
        with (
            ledger_cmd.contract_for(paths, minter_args) as minter,
            ledger_cmd.contract_for(paths, consumer_args) as buyer,
        ):
            store = ModelStore(paths.models(PROVIDER_ORGS[0], "User1"))
            served = current_model(minter, store, task_id)
            plain = poly_mlp(served.model, served.weights).logits(images).argmax(axis=1)
            key = ledger_cmd.kx_private_key(paths, CONSUMER_ORG, CONSUMER_USER)
            me = register_party(
                buyer, ["consumer"], base64.b64encode(public_key_bytes(key)).decode()
            )["id"]
            _wait_registered(minter, me)
            minted = credits.mint(minter, me, PRICE * count)
            _wait_balance(buyer, me, minted.event.balances[me])  # the consumer's peer has it too
            task = training.get_task(minter, task_id)
            accounts = {
                "consumer": me,
                **{p.party[:12]: p.party for p in task.participants},
            }
            before = _balances(buyer, accounts)
            rows = [
                _buy_from(paths, buyer, provider, images, labels, plain, index)
                for index, provider in enumerate(providers)
            ]
            spent = PRICE * count
            _wait_balance(buyer, me, before["consumer"] - spent)
            after = _balances(buyer, accounts)
            audit = credits.token_audit(buyer)
    finally:
        _stop(paths, providers)
    held = sum(audit.balances.values()) + sum(audit.escrows.values())
    report = {
        "task_id": task_id,
        "round": served.round,
        "price": PRICE,
        "fee_bp": FEE_BP,
        "providers": rows,
        "balances_before": before,
        "balances_after": after,
        "supply_conserved": audit.total_supply == held,
    }
    _print(report)
    return report


def _buy_from(
    paths: Paths, buyer: Contract, provider: ProviderProcess, images: Any, labels: Any,
    plain: Any, index: int,
) -> dict[str, Any]:  # fmt: skip
    from fedledger.inference.keyholder import KeyHolder
    from fedledger.roles.prediction.consumer import PredictionConsumer
    from fedledger.roles.prediction.served_model import consumer_layout

    offer = market.get_offer(buyer, provider.ready.offers[0])
    params = get_params(offer.params)
    keyholder = KeyHolder(params, consumer_layout(offer.model, params))
    rows = range(index * PER_PROVIDER, (index + 1) * PER_PROVIDER)
    with provider_client(paths, offer) as client:
        consumer = PredictionConsumer(keyholder, client)
        session = consumer.open_session()
        bought = [
            market.buy_prediction(buyer, consumer, offer, images[i], ttl_seconds=TTL_SECONDS)
            for i in rows
        ]
    predicted = np.array([b.prediction.label for b in bought])
    return {
        "org": provider.org,
        "offer": offer.id,
        "endpoint": offer.endpoint,
        "predictions": len(bought),
        "accuracy": float(np.mean(predicted == labels[rows.start : rows.stop])),
        "agreement": float(np.mean(predicted == plain[rows.start : rows.stop])),
        "pay_median_s": statistics.median(b.pay_s for b in bought),
        "answer_median_s": statistics.median(b.prediction.round_trip_s for b in bought),
        "compute_median_s": statistics.median(b.prediction.provider_s for b in bought),
        "request_bytes": bought[0].prediction.request_bytes,
        "response_bytes": bought[0].prediction.response_bytes,
        "context_bytes": session.context_bytes,
    }


def _wait_balance(reader: Contract, account: str, expected: int) -> None:
    deadline = time.monotonic() + READ_WAIT_SECONDS
    while credits.balance_of(reader, account) != expected:
        if time.monotonic() > deadline:
            return  # the table shows what the peer has; the audit still checks conservation
        time.sleep(0.2)


def _print(report: dict[str, Any]) -> None:
    say(
        f"encrypted prediction of round {report['round']} of {report['task_id']}, "
        f"{report['price']} credits each, provider fee {report['fee_bp'] / 100:g}%:"
    )
    table(
        ["provider", "n", "accuracy", "= plaintext", "pay s", "answer s", "compute s",
         "KB up", "KB down", "context MB"],
        [
            (r["org"], r["predictions"], f"{100 * r['accuracy']:.0f}%",
             f"{100 * r['agreement']:.0f}%", f"{r['pay_median_s']:.2f}",
             f"{r['answer_median_s']:.2f}", f"{r['compute_median_s']:.3f}",
             f"{r['request_bytes'] / 1000:.1f}", f"{r['response_bytes'] / 1000:.1f}",
             f"{r['context_bytes'] / 1e6:.1f}")
            for r in report["providers"]
        ],
    )  # fmt: skip
    before, after = report["balances_before"], report["balances_after"]
    table(
        ["account", "credits before", "after", "change"],
        [(name, before[name], after[name], f"{after[name] - before[name]:+d}") for name in before],
    )
    say(f"supply = balances + escrows: {'yes' if report['supply_conserved'] else 'NO'}")
