"""One row per round: the coordinator's outcome joined with the participants' reports.

The demo prints these rows, writes them as JSON and plots them; the round benchmark and the
simulation use the same layout. ``overhead`` is what federation and encryption cost on top of
local training: the round's wall time (the coordinator's, from opening to decision) minus the
slowest participant's training time *within* that wall time. A participant that trained ahead
(in the background while the previous round was being decided) did most of its training outside
the round: only what was left when it needed the update (its "train" phase) is subtracted, and
``training`` reports the whole training time, ahead or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedledger.roles.training.coordinator import RoundOutcome

__all__ = ["summarise_round"]


def _slowest(reports: Sequence[dict[str, Any]], phase: str) -> float:
    return round(max((r["seconds"].get(phase, 0.0) for r in reports), default=0.0), 3)


def summarise_round(outcome: RoundOutcome, reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the round's row: status, accuracies, seconds per phase, decryptors, bytes.

    ``reports`` are the participants' round reports as JSON (``RoundReport.to_json()``), each
    optionally with ``test_accuracy`` (the accepted global model on held-out data).
    """
    record = outcome.view.round
    within = _slowest(reports, "train")
    training = max(
        [within, *(r.get("ahead_seconds", 0.0) for r in reports if r.get("trained_ahead"))]
    )
    aggregate_bytes = record.aggregate.size if record.aggregate else 0
    tests = [r["test_accuracy"] for r in reports if r.get("test_accuracy") is not None]
    return {
        "round": outcome.round,
        "status": record.status,
        "accuracy": round(tests[0], 4) if tests else None,
        "median_validation_accuracy": record.result.median_bp / 10000 if record.result else None,
        "reason": record.reason,
        "seconds": {
            "wall": round(outcome.seconds, 3),
            "training": training,
            "training_within": within,
            "overhead": round(outcome.seconds - within, 3),
            "encryption": _slowest(reports, "encrypt"),
            "decryption": _slowest(reports, "decrypt"),
            "combination": _slowest(reports, "combine"),
            "ledger": _slowest(reports, "ledger"),
        },
        "decryptors": sum(1 for r in reports if r.get("decrypted")),
        "trained_ahead": sum(1 for r in reports if r.get("trained_ahead")),
        "ledger_calls": outcome.ledger.calls + sum(r.get("ledger_calls", 0) for r in reports),
        "ledger_bytes": aggregate_bytes
        + sum(r.get("update_bytes", 0) + r.get("share_bytes", 0) for r in reports),
        "clipped_values": sum(r.get("clipped_values", 0) for r in reports),
        "weights_hash": record.result.weights_hash if record.result else None,
        "dissent": dict(record.dissent),
    }
