"""Benchmark: the multiparty lattice scheme on one 101,770-parameter update (784-128-10 MLP).

Measured in one run on this machine, through the real helper process: dealer-free key set-up for
3 and 10 participants (every party's secret, public-key share and Shamir shares, the collective
key, and the end-to-end key check by a quorum: total compute of all parties, run one after the
other), encryption of 101,770 quantised values, the protocol layer's aggregation of 3 updates
(standard library), one flooded decryption share of the aggregate, the combination, and the
ledger bytes per value. Each timing is the median of ``--repeat`` runs. Progress lines go to
stdout; with ``--json`` the last line is one JSON object with the figures.

Usage: python benchmarks/lattice.py [--json] [--repeat N] [--seed S]
"""

from __future__ import annotations

import itertools
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any, TypeVar

from _common import benchmark_parser, print_json

from fedledger.crypto.lattice import cipher, keys
from fedledger.crypto.lattice.build import build_helper, default_module_dir, default_out_dir
from fedledger.crypto.lattice.helper import LatticeHelper
from fedledger.crypto.lattice.params import derive_parameters
from fedledger.crypto.lattice.session import LatticeSession
from fedledger.protocol.lattice_sum import add_blobs
from fedledger.protocol.lattice_wire import CIPHERTEXT

LAYERS = (784, 128, 10)
PARAMS = sum(a * b + b for a, b in itertools.pairwise(LAYERS))
FRAC_BITS = 16
CLIP = 0.5
MAX_ABS = int(CLIP * (1 << FRAC_BITS))
BINDING = b"benchmark-task-binding-32-bytes!"
T = TypeVar("T")


def median_time(label: str, fn: Callable[[], T], repeat: int) -> tuple[T, float]:
    """Run ``fn`` ``repeat`` times; return its last result and the median seconds."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    print(f"  {label}: {seconds:.4f} s (median of {repeat})", flush=True)
    return result, seconds  # type: ignore[return-value]


def setup(helper: LatticeHelper, participants: int) -> dict[str, Any]:
    """Run the whole dealer-free set-up once; return its timings and the parties' material."""
    threshold = participants // 2 + 1
    params = derive_parameters(participants, threshold, MAX_ABS, PARAMS)
    session = LatticeSession(helper, params, BINDING)
    parties = list(range(1, participants + 1))
    start = time.perf_counter()
    secrets = {i: keys.generate_secret_key(session) for i in parties}
    key_shares = [keys.public_key_share(session, secrets[i]) for i in parties]
    dealt = {i: keys.deal_shamir_shares(session, secrets[i], parties) for i in parties}
    received = {j: {i: dealt[i][j] for i in parties} for j in parties}
    public_key = keys.collective_public_key(session, key_shares)
    keys_done = time.perf_counter()
    known = cipher.check_vector(session)
    check = cipher.encrypt_public(session, public_key, known)
    actives = parties[:threshold]
    shares = [
        cipher.decryption_share(
            session, check, received=received[j], dealers=parties, own=j, actives=actives
        )
        for j in actives
    ]
    if cipher.combine_shares(session, check, shares) != known:
        raise SystemExit("the key check failed: the benchmark's keys are inconsistent")
    end = time.perf_counter()
    return {
        "session": session,
        "secrets": secrets,
        "received": received,
        "threshold": threshold,
        "keys_s": keys_done - start,
        "key_check_s": end - keys_done,
        "total_s": end - start,
    }


def measure_round(helper: LatticeHelper, rng: random.Random, repeat: int) -> dict[str, Any]:
    """Time one round of 3 participants on fresh keys; return the figures."""
    out: dict[str, Any] = {}
    group = setup(helper, 3)
    session = group["session"]
    params = session.params
    out["ring"] = {
        "log_n": params.ring.log_n,
        "log_q": round(params.log_q, 2),
        "moduli": len(params.ring.moduli),
        "log_t": round(params.ring.plaintext_modulus.bit_length(), 2),
    }
    updates = {i: [rng.randint(-MAX_ABS, MAX_ABS) for _ in range(PARAMS)] for i in (1, 2, 3)}
    print("3 participants, one update each:", flush=True)
    secrets = group["secrets"]
    ct, out["encrypt_s"] = median_time(
        "encrypt", lambda: cipher.encrypt(session, secrets[1], 1, updates[1]), repeat
    )
    cts = [cipher.encrypt(session, secrets[i], 1, updates[i]) for i in (1, 2, 3)]
    out["bytes_per_value"] = len(ct) / PARAMS
    out["update_bytes"] = len(ct)
    aggregate, out["aggregate_3_s"] = median_time(
        "aggregate 3 (protocol layer)",
        lambda: add_blobs(cts, params.ring, CIPHERTEXT, session.key_id),
        repeat,
    )
    actives = [1, 2]

    def share(j: int) -> bytes:
        return cipher.decryption_share(
            session,
            aggregate,
            received=group["received"][j],
            dealers=[1, 2, 3],
            own=j,
            actives=actives,
            round_number=1,
        )

    _, out["decryption_share_s"] = median_time("decryption share", lambda: share(1), repeat)
    shares = [share(j) for j in actives]
    result, out["combine_s"] = median_time(
        "combine",
        lambda: cipher.combine_shares(session, aggregate, shares, contributors=3),
        repeat,
    )
    expected = [a + b + c for a, b, c in zip(*updates.values(), strict=True)]
    out["exact"] = result == expected
    print(f"  bytes per value: {out['bytes_per_value']:.2f}; exact: {out['exact']}", flush=True)
    return out


def main() -> None:
    parser = benchmark_parser(__doc__, "print one JSON object last")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out: dict[str, Any] = {"values": PARAMS, "max_abs": MAX_ABS, "load": os.getloadavg()}
    with LatticeHelper(build_helper(default_module_dir(), default_out_dir())) as helper:
        for participants in (3, 10):
            print(f"key set-up, {participants} participants:", flush=True)
            runs = [setup(helper, participants) for _ in range(args.repeat)]
            total = statistics.median(r["total_s"] for r in runs)
            print(f"  total compute: {total:.4f} s (median of {args.repeat})", flush=True)
            out[f"setup_{participants}_total_s"] = total
            out[f"setup_{participants}_keys_s"] = statistics.median(r["keys_s"] for r in runs)
            out[f"setup_{participants}_check_s"] = statistics.median(r["key_check_s"] for r in runs)
        out.update(measure_round(helper, rng, args.repeat))
    print_json(args.json, out)


if __name__ == "__main__":
    main()
