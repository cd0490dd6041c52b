"""Benchmark: the proofs that make a malicious participant harmless, on a 101,770-value update.

Measured in one run (784-128-10 MLP update, fresh 2048-bit safe-prime key, 2-of-3 threshold):

- proving plaintext knowledge for the packed, encrypted update (after encryption; the prover's
  inputs are the packed plaintexts and the DJN exponents of their randomness);
- verifying that proof as SubmitUpdate does (``fedledger.protocol.popk``), with GMP and on the
  pure-Python path the chaincode falls back to without gmpy2;
- the proof's size next to the update's;
- verifying one decryption share of the round's aggregate as SubmitDecryptionShare does.

Targets (issue 7): proving ≤ 1 s, chaincode verification ≤ 1 s, proof ≤ 5% of the update's
bytes. Timings are the median of ``--repeat`` runs on one core. Progress lines go to stdout; with
``--json`` the last line is one JSON object.

Usage: python benchmarks/proofs.py [--json] [--repeat N] [--seed S]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from _common import benchmark_parser, print_json

from fedledger.crypto import paillier
from fedledger.crypto.encoding import EncodingParams, encode
from fedledger.crypto.keys import generate_keypair
from fedledger.crypto.popk import prove_plaintext_knowledge
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import deal, partial_decrypt
from fedledger.protocol import bigint
from fedledger.protocol import threshold as shares
from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.popk import ProofContext, verify_plaintext_proof

LAYERS = (784, 128, 10)
PARAMS = sum(a * b + b for a, b in itertools.pairwise(LAYERS))
KEY_BITS = 2048


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    """Run ``fn`` ``repeat`` times; return the median wall time in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    print(f"fedledger proof benchmark: {PARAMS} values, {KEY_BITS}-bit key", flush=True)
    public, private = generate_keypair(KEY_BITS, processes=2)
    params = EncodingParams.create(frac_bits=16, clip=0.5, max_summands=3, modulus_bits=KEY_BITS)
    plaintexts = encode([rng.uniform(-0.5, 0.5) for _ in range(PARAMS)], params)
    pool = RandomnessPool(public)
    pool.fill(len(plaintexts))
    ciphertexts, exponents = paillier.encrypt_with_exponents(public, plaintexts, pool)
    width = (public.nsquare.bit_length() + 7) // 8
    vector = CipherVector(public.fingerprint, params.to_spec(), PARAMS, width, tuple(ciphertexts))
    context = ProofContext("task-" + "0" * 32, 1, "Org1MSP/" + "a" * 64, public.fingerprint)
    print(f"  {len(ciphertexts)} ciphertexts", flush=True)

    proof = prove_plaintext_knowledge(public, vector, plaintexts, exponents, context)
    prove_s = median_seconds(
        lambda: prove_plaintext_knowledge(public, vector, plaintexts, exponents, context),
        args.repeat,
    )
    print(f"  prove: {prove_s:.3f} s", flush=True)
    raw = vector.to_bytes()
    digest = hashlib.sha256(raw).digest()

    def verify() -> None:
        verify_plaintext_proof(public.n, vector.ciphertexts, digest, proof, context)

    verify_s = median_seconds(verify, args.repeat)
    print(f"  verify (GMP): {verify_s:.3f} s", flush=True)
    saved = bigint._gmpy2
    bigint._gmpy2 = None
    try:
        verify_pure_s = median_seconds(verify, max(1, args.repeat // 2))
    finally:
        bigint._gmpy2 = saved
    print(f"  verify (pure Python): {verify_pure_s:.3f} s", flush=True)

    tkey, key_shares = deal(private, threshold=2, parties=3)
    del private
    dshare = partial_decrypt(tkey, key_shares[0], vector.ciphertexts, processes=2)
    share_s = median_seconds(
        lambda: shares.verify_share(tkey.public_data, vector.ciphertexts, dshare), args.repeat
    )
    print(f"  verify one decryption share (GMP): {share_s:.3f} s", flush=True)

    proof_chars, update_chars = len(proof.to_base64()), len(vector.to_base64())
    figures = {
        "params": PARAMS,
        "key_bits": KEY_BITS,
        "ciphertexts": len(ciphertexts),
        "prove_s": round(prove_s, 4),
        "verify_s": round(verify_s, 4),
        "verify_pure_python_s": round(verify_pure_s, 4),
        "share_verify_s": round(share_s, 4),
        "proof_base64_chars": proof_chars,
        "update_base64_chars": update_chars,
        "proof_share_of_update": round(proof_chars / update_chars, 6),
        "gmp": bigint.HAVE_GMP,
        "repeat": args.repeat,
        "targets": {"prove_s": 1.0, "verify_s": 1.0, "proof_share_of_update": 0.05},
    }
    print(
        f"  proof {proof_chars} base64 characters, {100 * figures['proof_share_of_update']:.3f}%"
        f" of the update's {update_chars}",
        flush=True,
    )
    return figures


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    figures = run(args)
    print_json(args.json, figures)


if __name__ == "__main__":
    main()
