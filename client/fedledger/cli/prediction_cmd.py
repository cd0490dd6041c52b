"""`fedledger offer|provider|predict|prediction`: prediction as a service, paid in credits.

- ``offer create|withdraw|list``: a participant's offers of its task's current model;
- ``provider serve``: serve the task's current model over TLS gRPC behind the ledger gate;
- ``predict``: pay for, send and decrypt encrypted predictions of images from a file;
- ``prediction show|reclaim|dispute``: one request's state, its refund after the deadline, and a
  dispute of two providers' answers.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from pathlib import Path
from typing import Any

from fedledger.cli import ledger_cmd
from fedledger.cli.output import emit_json, progress, say, table
from fedledger.cli.paths import Paths
from fedledger.crypto.envelope import public_key_bytes
from fedledger.errors import AssetNotFound, FedLedgerError
from fedledger.inference.params import DEFAULT_PARAMS, get_params
from fedledger.ledger.interface import Contract
from fedledger.ledger.profile import load_profile
from fedledger.protocol.assets import party_id
from fedledger.protocol.predictions import (
    CKKS_PARAMETER_SETS,
    MAX_REQUEST_SECONDS,
    OFFER_OPEN,
    PredictionOffer,
)
from fedledger.roles import prediction_market as market
from fedledger.roles.checkpoints import ModelStore
from fedledger.roles.ledger_io import query_or_none, register_party
from fedledger.roles.prediction_transport import PredictionClient, ServerTls

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

    predict = sub.add_parser(
        "predict", parents=[common], help="buy encrypted predictions of images in a file"
    )
    predict.add_argument("--offer", required=True)
    predict.add_argument("--input", required=True, help=".npy, .npz (x[, y]) or an IDX image file")
    predict.add_argument("--count", type=int, default=1, help="images to predict (default 1)")
    predict.add_argument("--start", type=int, default=0, help="index of the first image")
    predict.add_argument(
        "--ttl",
        type=int,
        default=DEFAULT_TTL_SECONDS,
        help=f"seconds the provider has to answer each paid request (default "
        f"{DEFAULT_TTL_SECONDS}, at most {MAX_REQUEST_SECONDS})",
    )
    predict.add_argument(
        "--verify",
        action="store_true",
        help="check each answer against the provider's receipt on the ledger",
    )
    predict.set_defaults(func=cmd_predict)

    prediction = sub.add_parser("prediction", help="one paid prediction request")
    rsub = prediction.add_subparsers(dest="prediction_command", required=True)
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


def _me(contract: Contract) -> str:
    return party_id(contract.identity.msp_id, contract.identity.certificate_pem)


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


def _port_of(endpoint: str) -> int:
    return int(endpoint.rpartition(":")[2])


def cmd_provider_serve(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.inference.evaluator import EncryptedMlp
    from fedledger.roles.ledger_gate import LedgerGate
    from fedledger.roles.provider import PredictionProvider
    from fedledger.roles.served_model import current_model, poly_mlp

    with ledger_cmd.contract_for(paths, args) as contract:
        me = _me(contract)
        served = current_model(contract, ModelStore(paths.models(args.org, args.user)), args.task)
        model = poly_mlp(served.model, served.weights)
        offers = [
            o
            for o in market.list_offers(contract, args.task)
            if o.provider == me and o.weights_hash == served.weights_hash
        ]
        if not offers and args.price is None:
            raise FedLedgerError(
                f"you have no open offer of {args.task}'s current model (round {served.round}); "
                "pass --price to create one, or run 'fedledger offer create'"
            )
        port = (
            args.port if args.port is not None else (_port_of(offers[0].endpoint) if offers else 0)
        )
        params = get_params(offers[0].params if offers else DEFAULT_PARAMS)
        provider = PredictionProvider(EncryptedMlp(model, params), LedgerGate(contract, []))
        bound = provider.start(host=args.host, port=port, tls=_provider_tls(paths, args.org))
        try:
            if not offers:
                offers = [
                    market.create_offer(
                        contract, args.task, price=args.price, fee_bp=args.fee_bp,
                        endpoint=f"{args.host}:{bound}", params=params.name,
                    )
                ]  # fmt: skip
            provider.gate = LedgerGate(contract, [o.id for o in offers])
            _serving(args, served.round, served.weights_hash, offers, bound)
            provider.wait()
        except KeyboardInterrupt:
            pass
        finally:
            provider.stop()
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


# ------------------------------------------------------------------ consumer


def _ensure_party(paths: Paths, args: argparse.Namespace, contract: Contract) -> str:
    """This identity's party id, registering it with the role ``consumer`` if it is not yet."""
    me = _me(contract)
    if query_or_none(contract, "GetParty", me) is None:
        key = ledger_cmd.kx_private_key(paths, args.org, args.user)
        register_party(contract, ["consumer"], base64.b64encode(public_key_bytes(key)).decode())
        progress(f"registered {me} as a consumer")
    return me


def provider_client(paths: Paths, offer: PredictionOffer) -> PredictionClient:
    """A TLS channel to the offer's endpoint that trusts only the provider org's TLS CA."""
    profile = load_profile(paths.profile)
    orgs = [o for o in profile.orgs.values() if o.msp_id == offer.provider_msp]
    if not orgs:
        raise FedLedgerError(f"the network profile has no org with MSP {offer.provider_msp}")
    org = orgs[0]
    return PredictionClient(
        offer.endpoint,
        tls_ca_pem=org.peer.tls_ca.read_bytes(),
        server_name=f"provider.{org.domain}",
        timeout=60,
    )


def _balance(contract: Contract, account: str) -> int:
    return int(json.loads(contract.evaluate("BalanceOf", account)))


def _receipt_matches(contract: Contract, request_id: str, response_sha256: str) -> bool:
    """True when the receipt on the ledger states the hash of the answer received."""
    deadline = time.monotonic() + RECEIPT_READ_SECONDS
    while True:
        try:
            return market.get_receipt(contract, request_id).response_sha256 == response_sha256
        except AssetNotFound:
            if time.monotonic() > deadline:  # this org's peer may be a block behind
                return False
            time.sleep(0.2)


def cmd_predict(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.inference.keyholder import KeyHolder
    from fedledger.learning.prediction_inputs import load_prediction_inputs
    from fedledger.roles.consumer import PredictionConsumer
    from fedledger.roles.served_model import consumer_layout

    inputs = load_prediction_inputs(Path(args.input))
    rows = range(args.start, min(args.start + args.count, len(inputs)))
    if args.count < 1 or not rows:
        raise FedLedgerError(f"{args.input} holds {len(inputs)} images; nothing to predict")
    with ledger_cmd.contract_for(paths, args) as contract:
        me = _ensure_party(paths, args, contract)
        offer = market.get_offer(contract, args.offer)
        if offer.status != OFFER_OPEN:
            raise FedLedgerError(f"offer {offer.id} is {offer.status}")
        params = get_params(offer.params)
        keyholder = KeyHolder(params, consumer_layout(offer.model, params))
        before = _balance(contract, me)
        with provider_client(paths, offer) as client:
            consumer = PredictionConsumer(keyholder, client)
            session = consumer.open_session()
            results = [_buy_one(contract, consumer, offer, inputs, index, args) for index in rows]
        after = _balance(contract, me)
    summary = _summary(offer, results, before, after, session.context_bytes)
    if args.json:
        emit_json({**summary, "predictions": results})
    else:
        _print_summary(summary)
    return 0


def _buy_one(
    contract: Contract, consumer: Any, offer: PredictionOffer, inputs: Any, index: int,
    args: argparse.Namespace,
) -> dict[str, Any]:  # fmt: skip
    paid = market.buy_prediction(contract, consumer, offer, inputs.x[index], ttl_seconds=args.ttl)
    p = paid.prediction
    label = None if inputs.labels is None else int(inputs.labels[index])
    result: dict[str, Any] = {
        "index": index,
        "request": paid.request.id,
        "class": p.label,
        "label": label,
        "scores": [round(float(v), 4) for v in p.logits],
        "pay_s": round(paid.pay_s, 3),
        "round_trip_s": round(p.round_trip_s, 3),
        "provider_s": round(p.provider_s, 3),
        "request_bytes": p.request_bytes,
        "response_bytes": p.response_bytes,
        "response_sha256": p.response_sha256,
    }
    if args.verify:
        result["receipt_verified"] = _receipt_matches(contract, paid.request.id, p.response_sha256)
    if not args.json:
        _print_one(result)
    return result


def _print_one(r: dict[str, Any]) -> None:
    label = "" if r["label"] is None else f" (label {r['label']})"
    verified = ""
    if "receipt_verified" in r:
        verified = ", receipt matches" if r["receipt_verified"] else ", RECEIPT DOES NOT MATCH"
    say(
        f"#{r['index']}: class {r['class']}{label}  scores "
        f"[{', '.join(f'{v:.2f}' for v in r['scores'])}]  paid in {r['pay_s']:.2f} s, "
        f"answered in {r['round_trip_s']:.2f} s ({r['provider_s']:.3f} s compute), "
        f"{r['request_bytes'] / 1000:.1f} KB up / {r['response_bytes'] / 1000:.1f} KB down"
        f"{verified}"
    )


def _summary(
    offer: PredictionOffer, results: list[dict[str, Any]], before: int, after: int, context: int
) -> dict[str, Any]:
    labelled = [r for r in results if r["label"] is not None]
    correct = sum(r["class"] == r["label"] for r in labelled)
    return {
        "offer": offer.id,
        "count": len(results),
        "paid": before - after,
        "balance_before": before,
        "balance_after": after,
        "accuracy": correct / len(labelled) if labelled else None,
        "round_trip_median_s": statistics.median(r["round_trip_s"] for r in results),
        "pay_median_s": statistics.median(r["pay_s"] for r in results),
        "request_bytes": sum(r["request_bytes"] for r in results),
        "response_bytes": sum(r["response_bytes"] for r in results),
        "context_bytes": context,
        "receipts_verified": sum(bool(r.get("receipt_verified")) for r in results),
    }


def _print_summary(s: dict[str, Any]) -> None:
    accuracy = "" if s["accuracy"] is None else f"; accuracy {100 * s['accuracy']:.1f}%"
    say(
        f"{s['count']} predictions from {s['offer']} for {s['paid']} credits (balance "
        f"{s['balance_before']} -> {s['balance_after']}){accuracy}"
    )
    say(
        f"median: paying {s['pay_median_s']:.2f} s, answer {s['round_trip_median_s']:.2f} s; "
        f"sent {s['request_bytes'] / 1e6:.2f} MB + context {s['context_bytes'] / 1e6:.1f} MB, "
        f"received {s['response_bytes'] / 1e6:.2f} MB"
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
        dispute = json.loads(contract.submit("RecordDispute", args.first, args.second))
    if args.json:
        emit_json(dispute)
    else:
        say(f"recorded {dispute['id']} against {', '.join(dispute['providers'])}")
    return 0
