"""`fedledger offer|provider|predict|prediction`: prediction as a service, paid in credits.

- ``offer create|withdraw|list``: a participant's offers of its task's current model;
- ``provider serve``: serve the task's current model over TLS gRPC behind the ledger gate;
- ``predict`` (:mod:`fedledger.cli.predict_cmd`): buy encrypted predictions of images in a file;
- ``prediction show|reclaim|dispute``: one request's state, its refund after the deadline, and a
  dispute of two providers' answers.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from fedledger.cli import ledger_cmd, predict_cmd
from fedledger.cli.output import emit_json, say, table
from fedledger.cli.paths import Paths
from fedledger.contract import prediction
from fedledger.errors import AssetNotFound, FedLedgerError
from fedledger.inference.params import DEFAULT_PARAMS
from fedledger.ledger.profile import load_profile
from fedledger.protocol.predictions import (
    CKKS_PARAMETER_SETS,
    PredictionOffer,
)
from fedledger.roles.prediction import market
from fedledger.roles.prediction.transport import ServerTls
from fedledger.roles.training.checkpoints import ModelStore

RECEIPT_READ_SECONDS = 10.0
DEFAULT_TTL_SECONDS = 120


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``offer``, ``provider``, ``predict`` and ``prediction``."""
    offer = sub.add_parser("offer", help="offers of encrypted predictions on the ledger")
    osub = offer.add_subparsers(dest="offer_command", required=True)
    create = osub.add_parser("create", parents=[common], help="offer a task's current model")
    create.add_argument("--task", required=True)
    _price_args(create, required=True)
    create.add_argument("--endpoint", required=True, metavar="HOST:PORT", help="where you serve")
    create.add_argument("--params", choices=CKKS_PARAMETER_SETS, default=DEFAULT_PARAMS)
    create.set_defaults(func=cmd_offer_create)
    withdraw = osub.add_parser("withdraw", parents=[common], help="withdraw your offer")
    withdraw.add_argument("offer")
    withdraw.set_defaults(func=cmd_offer_withdraw)
    listing = osub.add_parser("list", parents=[common], help="open offers (of one task)")
    listing.add_argument("--task", default=None)
    listing.add_argument("--all", action="store_true", help="include withdrawn offers")
    listing.set_defaults(func=cmd_offer_list)

    provider = sub.add_parser("provider", help="serve encrypted predictions")
    psub = provider.add_subparsers(dest="provider_command", required=True)
    serve = psub.add_parser(
        "serve", parents=[common], help="serve the task's current model to paying consumers"
    )
    serve.add_argument("--task", required=True)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument(
        "--port", type=int, default=None, help="port (default: your offer's, else a free one)"
    )
    _price_args(serve, required=False)
    serve.set_defaults(func=cmd_provider_serve)

    predict_cmd.add_parser(sub, common)

    requests = sub.add_parser("prediction", help="one paid prediction request")
    rsub = requests.add_subparsers(dest="prediction_command", required=True)
    show = rsub.add_parser("show", parents=[common], help="a request and its receipt")
    show.add_argument("request")
    show.set_defaults(func=cmd_prediction_show)
    reclaim = rsub.add_parser(
        "reclaim", parents=[common], help="take back the price of an unanswered request"
    )
    reclaim.add_argument("request")
    reclaim.set_defaults(func=cmd_prediction_reclaim)
    dispute = rsub.add_parser(
        "dispute", parents=[common], help="record that two providers' answers differ"
    )
    dispute.add_argument("first")
    dispute.add_argument("second")
    dispute.set_defaults(func=cmd_prediction_dispute)


def _price_args(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--price",
        type=int,
        required=required,
        help="credits per prediction"
        + ("" if required else " (creates an offer if you have none)"),
    )
    parser.add_argument(
        "--fee-bp",
        type=int,
        default=1000,
        help="your fee in basis points of the price; the rest goes to the participants pro rata "
        "to their samples (default 1000 = 10%%)",
    )


def _offer_line(offer: PredictionOffer) -> str:
    return (
        f"{offer.id} ({offer.status}): {offer.model} of {offer.task_id} round {offer.round} "
        f"({offer.weights_hash[:12]}…) at {offer.price} credits, fee {offer.fee_bp / 100:g}%, "
        f"{offer.endpoint}"
    )


def cmd_offer_create(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        offer = market.create_offer(
            contract, args.task, price=args.price, fee_bp=args.fee_bp,
            endpoint=args.endpoint, params=args.params,
        )  # fmt: skip
    if args.json:
        emit_json(offer.to_dict())
    else:
        say(f"offered {_offer_line(offer)}")
    return 0


def cmd_offer_withdraw(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        offer = market.withdraw_offer(contract, args.offer)
    if args.json:
        emit_json(offer.to_dict())
    else:
        say(f"withdrew {offer.id}")
    return 0


def cmd_offer_list(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        offers = market.list_offers(contract, args.task, include_withdrawn=args.all)
    if args.json:
        emit_json([o.to_dict() for o in offers])
        return 0
    table(
        ["offer", "provider", "task", "round", "price", "fee", "endpoint", "status"],
        [
            (o.id, o.provider_msp, o.task_id, o.round, o.price, f"{o.fee_bp / 100:g}%",
             o.endpoint, o.status)
            for o in offers
        ],
    )  # fmt: skip
    return 0


# ------------------------------------------------------------------ provider


def _provider_tls(paths: Paths, org: str) -> ServerTls:
    """The org's ``provider`` TLS identity, issued by its TLS CA when the network was made."""
    domain = load_profile(paths.profile).org(org).domain
    folder = paths.state / "crypto" / "peerOrganizations" / domain / "peers"
    tls = folder / f"provider.{domain}" / "tls"
    if not (tls / "server.crt").is_file():
        raise FedLedgerError(f"no provider TLS identity for {org} at {tls}")
    return ServerTls((tls / "server.crt").read_bytes(), (tls / "server.key").read_bytes())


def cmd_provider_serve(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.roles.prediction.serving import start_serving

    with ledger_cmd.contract_for(paths, args) as contract:
        session = start_serving(
            contract, ModelStore(paths.models(args.org, args.user)), args.task,
            lambda: _provider_tls(paths, args.org), host=args.host, port=args.port,
            price=args.price, fee_bp=args.fee_bp,
        )  # fmt: skip
        try:
            _serving(args, session.round, session.weights_hash, session.offers, session.port)
            session.wait()
        except KeyboardInterrupt:
            pass
        finally:
            session.stop()
    return 0


def _serving(
    args: argparse.Namespace, number: int, digest: str, offers: list[PredictionOffer], port: int
) -> None:
    if args.json:
        line = {"event": "serving", "task": args.task, "round": number, "weights_hash": digest,
                "offers": [o.id for o in offers], "port": port}  # fmt: skip
        print(json.dumps(line), flush=True)
        return
    say(f"serving round {number} of {args.task} ({digest[:12]}…) on {args.host}:{port}")
    for offer in offers:
        say(f"  {_offer_line(offer)}")
    say(
        "only paid requests are served; each answer follows its receipt on the ledger; Ctrl-C stops"
    )


# ------------------------------------------------------------------ one request


def cmd_prediction_show(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        request = market.get_request(contract, args.request)
        try:
            receipt: dict[str, Any] | None = market.get_receipt(contract, args.request).to_dict()
        except AssetNotFound:
            receipt = None
    if args.json:
        emit_json({"request": request.to_dict(), "receipt": receipt})
        return 0
    say(
        f"{request.id}: {request.status}, {request.price} credits for offer {request.offer_id}, "
        f"deadline {request.deadline}, input {request.input_sha256[:16]}…"
    )
    if receipt is not None:
        say(f"receipt: response {receipt['response_sha256'][:16]}…, fee {receipt['provider_fee']}")
        table(["participant", "share"], sorted(receipt["shares"].items()))
    return 0


def cmd_prediction_reclaim(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        request = market.reclaim(contract, args.request)
    if args.json:
        emit_json(request.to_dict())
    else:
        say(f"reclaimed {request.price} credits of {request.id}")
    return 0


def cmd_prediction_dispute(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        dispute = prediction.record_dispute(contract, args.first, args.second)
    if args.json:
        emit_json(dispute.to_dict())
    else:
        say(f"recorded {dispute.id} against {', '.join(dispute.providers)}")
    return 0
