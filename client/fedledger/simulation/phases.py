"""Where a simulated round's time and bytes went, phase by phase, for the scale benchmark.

Participants share one process (and, on the test machine, two cores), so a participant's wall
seconds in a phase include waiting for the others' threads: each phase is given as the slowest
participant's seconds and as the sum over participants. The chaincode's seconds are measured
inside the ledger's lock (:mod:`fedledger.simulation.timed_ledger`), in wall seconds and in CPU
seconds of the transaction's thread, so they are the contract's own work: "validation" is
SubmitUpdate (its checks and the proof of plaintext knowledge), "aggregation" CloseRound (the
homomorphic product), "share_verification" SubmitDecryptionShare.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedledger.simulation.timed_ledger import ChaincodeTimes

__all__ = ["CHAINCODE_PHASES", "phase_figures"]

CHAINCODE_PHASES = {
    "validation": "SubmitUpdate",
    "aggregation": "CloseRound",
    "share_verification": "SubmitDecryptionShare",
}


def _training(report: dict[str, Any]) -> float:
    """A participant's whole training time for the round, ahead of it or not."""
    if report.get("trained_ahead"):
        return float(report.get("ahead_seconds", 0.0))
    return float(report["seconds"].get("train", 0.0))


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {"slowest": round(max(values, default=0.0), 3), "total": round(sum(values), 3)}


def phase_figures(
    reports: Sequence[dict[str, Any]], chaincode: ChaincodeTimes, aggregate_bytes: int
) -> dict[str, Any]:
    """Seconds per phase (train, encrypt, chaincode, decryption, result) and bytes of one round.

    ``reports`` are the participants' ``RoundReport.to_json()``; ``chaincode`` the ledger's
    seconds per transaction function during the round.
    """

    def phase(*names: str) -> dict[str, float]:
        return _spread([sum(r["seconds"].get(n, 0.0) for n in names) for r in reports])

    decryptors = [r for r in reports if r.get("decrypted")]
    updates = [int(r.get("update_bytes", 0)) for r in reports if r.get("update_bytes")]
    seconds = {name: chaincode.get(fn, {}).get("seconds", 0.0) for name, fn in
               CHAINCODE_PHASES.items()}  # fmt: skip
    seconds["total"] = round(sum(entry["seconds"] for entry in chaincode.values()), 4)
    cpu = {name: chaincode.get(fn, {}).get("cpu_seconds", 0.0) for name, fn in
           CHAINCODE_PHASES.items()}  # fmt: skip
    cpu["total"] = round(sum(entry["cpu_seconds"] for entry in chaincode.values()), 4)
    return {
        "train": _spread([_training(r) for r in reports]),
        "encrypt": phase("encrypt"),
        "chaincode": {**seconds, "cpu": cpu, "functions": chaincode},
        "decryption": {
            **_spread([r["seconds"].get("decrypt", 0.0) for r in decryptors]),
            "shares": len(decryptors),
        },
        "result": phase("combine", "evaluate"),
        "update_bytes": max(updates, default=0),
        "aggregate_bytes": aggregate_bytes,
    }
