"""Benchmark: packed threshold Paillier on one 101,770-parameter model update (784-128-10 MLP).

Everything is measured in one run on this machine: key generation (safe primes), the 2-of-3
dealer ceremony, naive python-paillier encryption (one value per ciphertext, timed on a sample
and extrapolated), packed encryption split into offline (fixed-base table + randomness) and
online (quantise, pack, multiply) parts on one core, the wire size, the chaincode's homomorphic
sum of P = 3 updates, two verifiable partial decryptions, their verification and combination,
and the exact-decoding check. Progress lines go to stdout for people; with ``--json`` the last
line is one JSON object with the figures.

Usage: python benchmarks/crypto.py [--json] [--processes N] [--naive-sample N] [--seed S]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import phe
from _common import benchmark_parser, print_json

from fedledger.crypto.encoding import EncodingParams, quantise
from fedledger.crypto.keys import generate_keypair
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import combine_shares, deal, verify_share
from fedledger.crypto.vectors import (
    decrypt_vector_with_shares,
    encrypt_vector,
    partial_decrypt_vector,
)
from fedledger.protocol.ciphervec import CipherVector, homomorphic_sum, validate_cipher_vector

LAYERS = (784, 128, 10)
PARAMS = sum(a * b + b for a, b in itertools.pairwise(LAYERS))
KEY_BITS = 2048
FRAC_BITS = 16
CLIP = 0.5
SUMMANDS = 3
T = TypeVar("T")


def timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.3f} s", flush=True)
    return result, elapsed


def naive_phe(n: int, values: list[float], sample: int) -> tuple[float, float]:
    """Return (seconds per value, extrapolated seconds for all values) of phe one-per-ciphertext."""
    public = phe.PaillierPublicKey(n)
    start = time.perf_counter()
    for x in values[:sample]:
        public.encrypt(x)
    per_value = (time.perf_counter() - start) / sample
    return per_value, per_value * len(values)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    updates = [[rng.uniform(-CLIP, CLIP) for _ in range(PARAMS)] for _ in range(SUMMANDS)]
    print(
        f"fedledger crypto benchmark: {PARAMS} parameters, {KEY_BITS}-bit key, 2-of-3", flush=True
    )
    (public, private), keygen_s = timed(
        "key generation (safe primes, 2 processes)", lambda: generate_keypair(KEY_BITS, processes=2)
    )
    start = time.perf_counter()
    tkey, shares = deal(private, threshold=2, parties=3)
    deal_s = time.perf_counter() - start
    print(f"  dealer ceremony 2-of-3: {deal_s:.3f} s", flush=True)
    del private  # the dealer erases the factorisation after the ceremony
    (per_value, naive_s), _ = timed(
        f"naive phe on {args.naive_sample} values",
        lambda: naive_phe(public.n, updates[0], args.naive_sample),
    )
    print(f"  naive phe extrapolated to {PARAMS} values: {naive_s:.1f} s", flush=True)
    params = EncodingParams.create(
        frac_bits=FRAC_BITS, clip=CLIP, max_summands=SUMMANDS, modulus_bits=KEY_BITS
    )
    count = params.to_spec().ciphertext_count(PARAMS)
    pool = RandomnessPool(public)
    _, table_s = timed("fixed-base table (once per key)", lambda: pool.table)
    _, fill_s = timed(f"randomness for {count} ciphertexts, 1 core", lambda: pool.fill(count))
    first, online_s = timed(
        "online: quantise, pack, multiply", lambda: encrypt_vector(updates[0], public, params, pool)
    )
    offline_s = table_s + fill_s
    total_s = offline_s + online_s
    wire = first.to_bytes()
    b64 = first.to_base64()
    check = CipherVector.from_base64(b64) == first
    print(f"  update: {count} ciphertexts, {len(wire)} bytes ({len(b64)} as base64)", flush=True)
    _, parallel_fill_s = timed(
        f"randomness for {2 * count} ciphertexts, {args.processes} processes",
        lambda: pool.fill(2 * count, processes=args.processes),
    )
    others = [encrypt_vector(u, public, params, pool) for u in updates[1:]]
    vectors = [first, *others]
    for vec in vectors:
        validate_cipher_vector(
            vec, n=public.n, expected_length=count, expected_fingerprint=public.fingerprint
        )
    aggregate, aggregate_s = timed(
        "chaincode homomorphic sum of 3 updates", lambda: homomorphic_sum(vectors, public.n)
    )
    dshares, pd_times = [], []
    for share in shares[:2]:
        dshare, seconds = timed(
            f"partial decryption, party {share.index} ({args.processes} processes)",
            lambda share=share: partial_decrypt_vector(
                tkey, share, aggregate, processes=args.processes
            ),
        )
        dshares.append(dshare)
        pd_times.append(seconds)
    _, verify_s = timed(
        "verify both shares",
        lambda: [verify_share(tkey, aggregate.ciphertexts, d) for d in dshares],
    )
    _, combine_s = timed(
        "combine 2 shares",
        lambda: combine_shares(tkey, aggregate.ciphertexts, dshares, verify=False),
    )
    decoded, decode_s = timed(
        "combine + decode (verify=True)",
        lambda: decrypt_vector_with_shares(tkey, aggregate, dshares, summands=SUMMANDS),
    )
    float_sum = [sum(col) for col in zip(*updates, strict=True)]
    quantised_sum = [sum(col) for col in zip(*(quantise(u, params) for u in updates), strict=True)]
    exact = [round(x * (1 << FRAC_BITS)) for x in decoded] == quantised_sum
    max_error = max(abs(a - b) for a, b in zip(decoded, float_sum, strict=True))
    return {
        "params": PARAMS,
        "key_bits": KEY_BITS,
        "threshold": "2-of-3",
        "frac_bits": FRAC_BITS,
        "clip": CLIP,
        "max_summands": SUMMANDS,
        "slot_bits": params.slot_bits,
        "slots_per_ciphertext": params.slots,
        "ciphertexts": count,
        "djn_exponent_bits": pool.exponent_bits,
        "keygen_s": round(keygen_s, 3),
        "deal_s": round(deal_s, 3),
        "naive_encrypt_s": round(naive_s, 1),
        "naive_encrypt_method": (
            f"phe PaillierPublicKey.encrypt per value (one EncryptedNumber each), timed on "
            f"{args.naive_sample} values, extrapolated to {PARAMS}"
        ),
        "naive_s_per_value": per_value,
        "encrypt_offline_s": round(offline_s, 3),
        "encrypt_offline_detail": {"table_s": round(table_s, 3), "randomness_s": round(fill_s, 3)},
        "encrypt_online_s": round(online_s, 3),
        "encrypt_total_s": round(total_s, 3),
        "encrypt_cores": 1,
        "randomness_parallel_s_for_2_updates": round(parallel_fill_s, 3),
        "update_bytes": len(wire),
        "update_base64_bytes": len(b64),
        "wire_round_trip_ok": check,
        "aggregate_s": round(aggregate_s, 4),
        "partial_decrypt_s_per_share": round(sum(pd_times) / len(pd_times), 3),
        "partial_decrypt_processes": args.processes,
        "verify_s_per_share": round(verify_s / 2, 3),
        "combine_s": round(combine_s, 3),
        "combine_and_decode_with_verification_s": round(decode_s, 3),
        "decrypted": f"aggregate of {SUMMANDS} updates via 2 threshold shares",
        "decrypt_exact": exact,
        "max_abs_error": max_error,
        "max_abs_error_bound": SUMMANDS * 2.0 ** -(FRAC_BITS + 1),
        "ratio": round(naive_s / total_s, 1),
        "cpu_count": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = benchmark_parser(__doc__, "end with one JSON line of results")
    parser.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    results = run(args)
    targets = {
        "update_bytes <= 1,000,000": results["update_bytes"] <= 1_000_000,
        "encrypt_total_s <= 2": results["encrypt_total_s"] <= 2,
        "ratio >= 300": results["ratio"] >= 300,
        "max_abs_error <= 1e-4": results["max_abs_error"] <= 1e-4,
        "decrypt_exact": results["decrypt_exact"],
    }
    results["targets_met"] = targets
    for name, ok in targets.items():
        print(f"  target {name}: {'met' if ok else 'MISSED'}")
    print_json(args.json, results, sort_keys=True)
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
