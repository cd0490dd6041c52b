"""`fedledger demo --enrich`: after the training, a paid enrichment by an outside fourth org.

The consortium trained on label-skewed data (``skewed:7,8,9`` by default: few samples of those
digits). Then, on the same network:

1. the demo mints 200 credits for each participant (as Org1's Admin: Org1MSP is the minter) and
   registers the enricher, the org after the participants (Org4 with three participants);
2. Org1 proposes a plan (>= 100 bp -> 10, >= 300 bp -> 30, >= 1000 bp -> 100 credits), the
   others approve (the last approval funds the escrow pro rata to the declared samples), Org1
   seals its current model to the enricher;
3. ``fedledger enricher run`` (its own process) opens the model, trains it on its data (many
   samples of the skewed digits) and delivers it sealed to each participant;
4. ``fedledger enrich review --settle`` (one process per participant) opens, evaluates on its
   own validation data (all digits), reports, and settles once every report is in: they settle
   concurrently, one commits;
5. the demo prints base and enriched accuracy on the held-out test set, the median reported
   gain, the tier, and every balance before and after.

The demo process acts for the participants in steps 1-2 with their identities (in a real
deployment each org runs these commands itself).
"""

from __future__ import annotations

import argparse
import base64
from typing import Any

from fedledger.cli.ledger_cmd import contract_for, kx_private_key
from fedledger.cli.output import progress, say
from fedledger.cli.paths import Paths
from fedledger.contract import training
from fedledger.crypto.envelope import public_key_bytes
from fedledger.errors import FedLedgerError
from fedledger.protocol.assets import party_id
from fedledger.protocol.enrichment import PlanView
from fedledger.roles.enrichment.opening import (
    PlanProposer,
    PlanTerms,
    balances,
    base_model,
    fund_participants,
)
from fedledger.roles.enrichment.plan import approve_plan, get_plan
from fedledger.roles.ledger_io import register_party
from fedledger.roles.training.checkpoints import ModelStore
from fedledger.runner.processes import RoleProcess

TERMS = PlanTerms(tiers=((100, 10), (300, 30), (1000, 100)), delivery_seconds=900,
                  evaluation_seconds=1800)  # fmt: skip
CREDITS = 200
STEP_TIMEOUT = 900.0


def _identity(org: str, user: str = "User1") -> argparse.Namespace:
    return argparse.Namespace(org=org, user=user)


def _data_argv(args: argparse.Namespace) -> list[str]:
    return [
        "--participants", str(args.participants), "--partition", args.partition,
        "--seed", str(args.seed), *(["--data", args.mnist] if args.mnist else []),
    ]  # fmt: skip


def _start(paths: Paths, name: str, argv: list[str]) -> RoleProcess:
    """A one-shot role process whose JSON document :meth:`RoleProcess.result` reads."""
    return RoleProcess(name, [*argv, "--state", str(paths.state)], paths.state / "logs").start()


def _balances(paths: Paths, accounts: dict[str, str]) -> dict[str, int]:
    with contract_for(paths, _identity("Org1")) as contract:
        return balances(contract, accounts)


def _parties(paths: Paths, orgs: list[str], enricher_org: str) -> dict[str, str]:
    """Each participant's party id (User1 of its org) and the newly registered enricher's."""
    ids: dict[str, str] = {}
    for org in orgs:
        with contract_for(paths, _identity(org)) as contract:
            me = contract.identity
            ids[org] = party_id(me.msp_id, me.certificate_pem)
    key = kx_private_key(paths, enricher_org, "User1")
    with contract_for(paths, _identity(enricher_org)) as contract:
        public = base64.b64encode(public_key_bytes(key)).decode()
        ids[enricher_org] = str(register_party(contract, ["enricher"], public)["id"])
    return ids


def _open_plan(
    paths: Paths, args: argparse.Namespace, task_id: str, ids: dict[str, str], orgs: list[str]
) -> tuple[str, RoleProcess]:
    """Steps 2-3: propose, start the enricher, approve, seal; return the plan and the enricher."""
    enricher_org = f"Org{args.participants + 1}"
    store = ModelStore(paths.models("Org1", "User1"))
    with contract_for(paths, _identity("Org1")) as org1:
        plan = PlanProposer(org1, store).propose(task_id, ids[enricher_org], TERMS)
    progress(f"plan {plan} proposed by Org1; starting the enricher ({enricher_org})")
    enricher = _start(
        paths, f"enricher-{enricher_org}",
        ["enricher", "run", "--json", "--org", enricher_org, "--plan", plan, *_data_argv(args)],
    )  # fmt: skip
    for org in orgs[1:]:
        with contract_for(paths, _identity(org)) as contract:
            approve_plan(contract, plan)
    with contract_for(paths, _identity("Org1")) as org1:
        view = PlanProposer(org1, store).seal(plan)
    funded = dict(view.plan.funded)
    say(
        f"enrichment plan {plan}: approved by all {len(orgs)}, escrow {view.plan.max_payout} "
        f"credits funded {', '.join(f'{o} {funded[ids[o]]}' for o in orgs)}; model sealed to "
        f"{enricher_org}"
    )
    return plan, enricher


def run_enrichment(paths: Paths, args: argparse.Namespace, task_id: str) -> dict[str, Any]:
    """Steps 1-5 of the module docstring; returns the report's ``enrichment`` object."""
    from fedledger.learning.evaluation import evaluate_accuracy
    from fedledger.roles.training.dataplan import DataPlan, load_split

    orgs = [f"Org{i}" for i in range(1, args.participants + 1)]
    enricher_org = f"Org{args.participants + 1}"
    ids = _parties(paths, orgs, enricher_org)
    with contract_for(paths, _identity("Org1", "Admin")) as minter:
        fund_participants(minter, [ids[org] for org in orgs], CREDITS)
    before = _balances(paths, ids)
    plan, enricher = _open_plan(paths, args, task_id, ids, orgs)
    started = [enricher]
    try:
        for index, org in enumerate(orgs, start=1):
            started.append(_start(
                paths, f"review-{org}",
                ["enrich", "review", "--json", "--settle", "--org", org, "--plan", plan,
                 "--index", str(index), *_data_argv(args)],
            ))  # fmt: skip
        delivered = enricher.result(STEP_TIMEOUT)
        say(
            f"{enricher_org} trained on its {delivered['samples']} samples and delivered "
            f"{delivered['weights_hash'][:16]}… sealed to each participant"
        )
        reviews = zip(orgs, started[1:], strict=True)
        reported = {org: review.result(STEP_TIMEOUT) for org, review in reviews}
    finally:
        for process in started:
            process.stop()
    with contract_for(paths, _identity("Org1")) as org1:
        view = get_plan(org1, plan)
    after = _balances(paths, ids)
    test = load_split(DataPlan(args.participants, args.partition, args.mnist, args.seed)).test
    model = query_task_model(paths, task_id)
    store = ModelStore(paths.models("Org1", "User1"))
    base = base_model(store, view)
    enriched = store.enriched().load(plan, 0).weights
    return _summary(view, ids, orgs, enricher_org, reported, before, after,
                    evaluate_accuracy(model, base, test),
                    evaluate_accuracy(model, enriched, test))  # fmt: skip


def query_task_model(paths: Paths, task_id: str) -> str:
    """The model name of ``task_id``."""
    with contract_for(paths, _identity("Org1")) as contract:
        return training.get_task(contract, task_id).model


def _summary(
    view: PlanView,
    ids: dict[str, str],
    orgs: list[str],
    enricher_org: str,
    reported: dict[str, dict[str, Any]],
    before: dict[str, int],
    after: dict[str, int],
    base_accuracy: float,
    enriched_accuracy: float,
) -> dict[str, Any]:
    plan = view.plan
    settlement = plan.settlement
    if settlement is None:
        raise FedLedgerError(f"{plan.id} is {plan.status}, not settled")
    tier = next(
        (t for t in reversed(plan.tiers) if t.payment == settlement.payment and t.payment), None
    )
    by_party = {party: org for org, party in ids.items()}
    settler = by_party.get(settlement.settled_by, settlement.settled_by)
    return {
        "plan_id": plan.id,
        "enricher": ids[enricher_org],
        "enricher_org": enricher_org,
        "tiers": [t.to_dict() for t in plan.tiers],
        "base_median_bp": plan.base_median_bp,
        "reports_bp": {org: reported[org]["accuracy_bp"] for org in orgs},
        "median_bp": settlement.median_bp,
        "gain_bp": settlement.gain_bp,
        "tier": None if tier is None else tier.to_dict(),
        "outcome": settlement.outcome,
        "payment": settlement.payment,
        "refunds": {by_party[p]: n for p, n in settlement.refunds.items()},
        "adopted": settlement.adopted,
        "settled_by": settler,
        "base_test_accuracy": round(base_accuracy, 4),
        "enriched_test_accuracy": round(enriched_accuracy, 4),
        "balances_before": before,
        "balances_after": after,
    }


def print_enrichment(summary: dict[str, Any]) -> None:
    """The enrichment's lines of the demo output."""
    reports = ", ".join(f"{org} {bp} bp" for org, bp in summary["reports_bp"].items())
    say(f"reports on own validation data: {reports}")
    tier = summary["tier"]
    reached = "no tier" if tier is None else f"tier >= {tier['min_gain_bp']} bp"
    say(
        f"median {summary['median_bp']} bp vs base median {summary['base_median_bp']} bp: gain "
        f"{summary['gain_bp']} bp -> {reached}: paid {summary['payment']} credits to "
        f"{summary['enricher_org']}, refunded {sum(summary['refunds'].values())}; settled by "
        f"{summary['settled_by']}; model {'adopted' if summary['adopted'] else 'not adopted'}"
    )
    say(
        f"held-out test accuracy: base {summary['base_test_accuracy'] * 100:.2f}% -> enriched "
        f"{summary['enriched_test_accuracy'] * 100:.2f}%"
    )
    rows = ", ".join(
        f"{org} {summary['balances_before'][org]} -> {summary['balances_after'][org]}"
        for org in summary["balances_before"]
    )
    say(f"balances (credits, before -> after): {rows}")
    if "seconds" in summary:
        say(f"enrichment took {summary['seconds']:.0f}s (plan to settlement)")
