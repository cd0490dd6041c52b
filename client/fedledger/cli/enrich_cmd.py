"""`fedledger enrich propose|approve|seal|review|settle|status`, `fedledger enricher run` and
`fedledger query enrichment`: paid enrichment, as one identity."""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Callable
from typing import Any

from fedledger.cli import ledger_cmd
from fedledger.cli.ledger_cmd import kx_private_key
from fedledger.cli.output import answer, emit_json, log_steps_to, say, table
from fedledger.cli.paths import Paths
from fedledger.contract.enrichment import approve_plan, get_plan, settle_plan
from fedledger.crypto.envelope import public_key_bytes
from fedledger.errors import EnrichmentError
from fedledger.learning.training import TrainingConfig
from fedledger.ledger.interface import Contract
from fedledger.protocol.assets import party_id
from fedledger.protocol.enrichment import PlanView
from fedledger.roles.enrichment.enricher import Enricher, train_on
from fedledger.roles.enrichment.opening import base_model
from fedledger.roles.enrichment.plan import propose_plan, seal_model_to_enricher
from fedledger.roles.enrichment.review import EnrichmentReviewer
from fedledger.roles.ledger_io import register_party
from fedledger.roles.training.checkpoints import ModelStore
from fedledger.roles.training.dataplan import DataPlan, enricher_data, load_split, participant_data


def add_parsers(
    sub: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    qsub: argparse._SubParsersAction,
) -> None:
    """Add ``enrich``, ``enricher`` and ``query enrichment``."""
    enrich = sub.add_parser("enrich", help="paid enrichment plans (participants' side)")
    esub = enrich.add_subparsers(dest="enrich_command", required=True)
    pr = esub.add_parser("propose", parents=[common], help="propose a plan for a task")
    pr.add_argument("--task", required=True)
    pr.add_argument("--enricher", required=True, metavar="PARTY_ID", help="the enricher to pay")
    pr.add_argument(
        "--tier",
        action="append",
        required=True,
        metavar="GAIN_BP:CREDITS",
        help="a payment tier, e.g. 100:10 (repeat, in increasing order)",
    )
    pr.add_argument("--delivery-in", type=int, default=900, metavar="S", help="default 900 s")
    pr.add_argument("--evaluation-in", type=int, default=1800, metavar="S", help="default 1800 s")
    pr.set_defaults(func=cmd_propose)
    for name, func, text in (
        ("approve", cmd_approve, "approve a plan (the last approval funds its escrow)"),
        ("seal", cmd_seal, "seal the plan's model to its enricher (the proposer)"),
        ("settle", cmd_settle, "settle a plan that is due (anyone)"),
        ("status", cmd_status, "a plan, its delivery, reports and settlement"),
    ):
        parser = esub.add_parser(name, parents=[common], help=text)
        parser.add_argument("--plan", required=True)
        parser.set_defaults(func=func)
    rv = esub.add_parser("review", parents=[common], help="evaluate the delivery and report")
    rv.add_argument("--plan", required=True)
    rv.add_argument("--index", type=int, required=True, help="this org's part of the data (1..N)")
    rv.add_argument("--settle", action="store_true", help="then settle once it is due")
    rv.add_argument("--timeout", type=float, default=900.0)
    _data_args(rv)
    rv.set_defaults(func=cmd_review)

    er = sub.add_parser("enricher", help="improve a consortium's model for pay")
    ersub = er.add_subparsers(dest="enricher_command", required=True)
    run = ersub.add_parser("run", parents=[common], help="receive, improve and deliver a model")
    run.add_argument("--plan", required=True)
    run.add_argument("--epochs", type=int, default=2, help="local epochs on its data (default 2)")
    run.add_argument("--timeout", type=float, default=900.0)
    _data_args(run)
    run.set_defaults(func=cmd_enricher_run)

    qe = qsub.add_parser("enrichment", parents=[common], help="an enrichment plan")
    qe.add_argument("--plan", required=True)
    qe.set_defaults(func=cmd_status)


def _data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default=None,
        help="full MNIST (mnist.npz or IDX folder); an enricher then trains on all of it",
    )
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--partition", default="skewed:7,8,9", help="default skewed:7,8,9")
    parser.add_argument("--seed", type=int, default=0)


def _tiers(texts: list[str]) -> list[tuple[int, int]]:
    tiers = []
    for text in texts:
        gain, sep, payment = text.partition(":")
        if not sep or not gain.strip().isdigit() or not payment.strip().isdigit():
            raise EnrichmentError(f"a tier is GAIN_BP:CREDITS, e.g. 100:10; got {text!r}")
        tiers.append((int(gain), int(payment)))
    return tiers


def _show_plan(args: argparse.Namespace, view: PlanView) -> None:
    if args.json:
        emit_json(view.to_dict())
        return
    plan = view.plan
    say(f"plan {plan.id} for {plan.task_id}: {plan.status}")
    say(f"  enricher {plan.enricher}; escrow {plan.escrow} (up to {plan.max_payout} credits)")
    tiers = ", ".join(f">= {t.min_gain_bp} bp -> {t.payment}" for t in plan.tiers)
    say(f"  tiers: {tiers}; statistic: {plan.statistic} of the participants' reports")
    say(
        f"  base model {plan.base_weights_hash[:16]}… ({plan.base_source} {plan.base_round}), "
        f"median accuracy {plan.base_median_bp} bp"
    )
    say(f"  deadlines: delivery {plan.delivery_deadline}, evaluation {plan.evaluation_deadline}")
    say(f"  approvals {len(plan.approvals)}/{len(plan.participants)}; funded {plan.funded}")
    say(f"  model sealed to the enricher: {'yes' if view.model_sealed else 'no'}")
    if view.enrichment is not None:
        say(f"  delivered weights {view.enrichment.weights_hash}")
    if view.reports:
        table(["party", "accuracy bp"], [(r.party, r.accuracy_bp) for r in view.reports])
    settled = plan.settlement
    if settled is not None:
        say(
            f"  settled: {settled.outcome}; median {settled.median_bp} bp, gain "
            f"{settled.gain_bp} bp, paid {settled.payment}, refunds {settled.refunds}, "
            f"adopted: {'yes' if settled.adopted else 'no'}"
        )


def cmd_propose(paths: Paths, args: argparse.Namespace) -> int:
    tiers = _tiers(args.tier)
    now = int(time.time())
    with ledger_cmd.contract_for(paths, args) as contract:
        plan = propose_plan(
            contract,
            args.task,
            args.enricher,
            tiers,
            delivery_deadline=now + args.delivery_in,
            evaluation_deadline=now + args.evaluation_in,
        )
        view = get_plan(contract, plan.id)
    _show_plan(args, view)
    return 0


def cmd_approve(paths: Paths, args: argparse.Namespace) -> int:
    return _act_and_show(paths, args, approve_plan)


def _act_and_show(
    paths: Paths, args: argparse.Namespace, act: Callable[[Contract, str], object] | None = None
) -> int:
    """Run ``act`` on the plan ``args.plan`` (if any), then show the plan as it stands."""
    with ledger_cmd.contract_for(paths, args) as contract:
        if act is not None:
            act(contract, args.plan)
        view = get_plan(contract, args.plan)
    _show_plan(args, view)
    return 0


def cmd_seal(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        view = get_plan(contract, args.plan)
        weights = base_model(ModelStore(paths.models(args.org, args.user)), view)
        summary = seal_model_to_enricher(contract, args.plan, weights)
    answer(
        args.json,
        summary,
        f"sealed the model of {args.plan} to {summary['recipient']} ({summary['size']} bytes)",
    )
    return 0


def cmd_settle(paths: Paths, args: argparse.Namespace) -> int:
    return _act_and_show(paths, args, settle_plan)


def cmd_status(paths: Paths, args: argparse.Namespace) -> int:
    return _act_and_show(paths, args)


def cmd_review(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.learning.runtime import configure_tensorflow

    configure_tensorflow(threads=1)
    log_steps_to(sys.stderr)
    plan = DataPlan(args.participants, args.partition, args.data, args.seed)
    data = participant_data(plan, args.index)
    key = kx_private_key(paths, args.org, args.user)
    with ledger_cmd.contract_for(paths, args) as contract:
        me = contract.identity
        reviewer = EnrichmentReviewer(
            contract, party_id(me.msp_id, me.certificate_pem), key, data.validation
        )
        review = reviewer.review(args.plan, timeout=args.timeout)
        store = ModelStore(paths.models(args.org, args.user)).enriched()
        store.save(args.plan, 0, review.weights)
        result: dict[str, Any] = {
            "plan_id": args.plan,
            "weights_hash": review.weights_hash,
            "accuracy_bp": review.accuracy_bp,
        }
        if args.settle:
            settled = reviewer.settle_when_due(args.plan, timeout=args.timeout)
            outcome = settled.settlement
            result["settlement"] = None if outcome is None else outcome.to_dict()
    if args.json:
        emit_json(result)
    else:
        say(f"{args.plan}: reported {review.accuracy_bp} bp for {review.weights_hash[:16]}…")
        outcome = result.get("settlement")
        if outcome is not None:
            say(f"settled: {outcome['outcome']}, paid {outcome['payment']}")
    return 0


def cmd_enricher_run(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.learning.runtime import configure_tensorflow

    configure_tensorflow(threads=1)
    log_steps_to(sys.stderr)
    plan = DataPlan(args.participants, args.partition, args.data, args.seed)
    data = load_split(plan).train if args.data else enricher_data(plan)
    key = kx_private_key(paths, args.org, args.user)
    with ledger_cmd.contract_for(paths, args) as contract:
        party = register_party(
            contract, ["enricher"], base64.b64encode(public_key_bytes(key)).decode()
        )
        improve = train_on(data, TrainingConfig(epochs=args.epochs), seed=args.seed)
        enricher = Enricher(contract, str(party["id"]), key, improve)
        delivery = enricher.run(args.plan, timeout=args.timeout)
    result = {
        "plan_id": args.plan,
        "samples": len(data),
        "base_hash": delivery.base_hash,
        "weights_hash": delivery.record.weights_hash,
        "recipients": sorted(delivery.record.envelopes),
    }
    if args.json:
        emit_json(result)
    else:
        say(
            f"delivered {delivery.record.weights_hash[:16]}… for {args.plan} to "
            f"{len(delivery.record.envelopes)} participants (trained on {len(data)} samples)"
        )
    return 0
