"""`fedledger predict`: buy encrypted predictions of images in a file, paid per image.

Registers the identity as a ``consumer`` party if needed, encrypts each image under keys that
never leave this process, pays for exactly its ciphertext on the ledger, sends it to the offer's
endpoint (trusting only the provider org's TLS CA) and decrypts the answer; ``--verify`` checks
each answer's hash against the provider's receipt on the ledger.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time
from pathlib import Path
from typing import Any

from fedledger.cli import ledger_cmd
from fedledger.cli.output import emit_json, progress, say
from fedledger.cli.paths import Paths
from fedledger.contract import credits, parties, prediction
from fedledger.crypto.envelope import public_key_bytes
from fedledger.errors import AssetNotFound, FedLedgerError
from fedledger.inference.params import get_params
from fedledger.ledger.interface import Contract
from fedledger.ledger.profile import load_profile
from fedledger.protocol.assets import party_id
from fedledger.protocol.predictions import MAX_REQUEST_SECONDS, OFFER_OPEN, PredictionOffer
from fedledger.roles.ledger_io import register_party
from fedledger.roles.prediction import market
from fedledger.roles.prediction.transport import PredictionClient

RECEIPT_READ_SECONDS = 10.0
DEFAULT_TTL_SECONDS = 120


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``predict``."""
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


def _me(contract: Contract) -> str:
    return party_id(contract.identity.msp_id, contract.identity.certificate_pem)


def _ensure_party(paths: Paths, args: argparse.Namespace, contract: Contract) -> str:
    """This identity's party id, registering it with the role ``consumer`` if it is not yet."""
    me = _me(contract)
    if parties.find_party(contract, me) is None:
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
    return credits.balance_of(contract, account)


def _receipt_matches(contract: Contract, request_id: str, response_sha256: str) -> bool:
    """True when the receipt on the ledger states the hash of the answer received."""
    deadline = time.monotonic() + RECEIPT_READ_SECONDS
    while True:
        try:
            return prediction.get_receipt(contract, request_id).response_sha256 == response_sha256
        except AssetNotFound:
            if time.monotonic() > deadline:  # this org's peer may be a block behind
                return False
            time.sleep(0.2)


def cmd_predict(paths: Paths, args: argparse.Namespace) -> int:
    from fedledger.inference.keyholder import KeyHolder
    from fedledger.learning.prediction_inputs import load_prediction_inputs
    from fedledger.roles.prediction.consumer import PredictionConsumer
    from fedledger.roles.prediction.served_model import consumer_layout

    inputs = load_prediction_inputs(Path(args.input))
    rows = range(args.start, min(args.start + args.count, len(inputs)))
    if args.count < 1 or not rows:
        raise FedLedgerError(f"{args.input} holds {len(inputs)} images; nothing to predict")
    with ledger_cmd.contract_for(paths, args) as contract:
        me = _ensure_party(paths, args, contract)
        offer = prediction.get_offer(contract, args.offer)
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
