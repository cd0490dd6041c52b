"""Encrypted against plaintext: accuracy per round, and how far the global weights lie apart.

Two differences are reported per round:

- ``aggregation_error``: the encrypted round's global weights against plain FedAvg of the very
  same updates from the same base weights (and strategy state). Only the encoding separates
  them, so it must stay within the encoder's stated bound (:func:`quantisation_bound`, plus one
  float32 step of the largest weight for the canonical float32 rounding both sides apply). A
  value above the bound is a defect. Clipping is outside the bound's promise: a round in which
  some update value exceeded the clip bound (``clipped_values``) is not checked against it.
- ``trajectory_difference``: the encrypted run's global weights against the plaintext twin's
  (:mod:`fedledger.simulation.plaintext`), which trained every round from its own weights. In
  round 1 both trained from the same initial weights, so it equals the aggregation error; later
  rounds train from weights a quantisation error apart and local training carries that along.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fedledger.crypto.encoding import EncodingParams
from fedledger.learning.fedavg import weighted_average
from fedledger.learning.strategy import preset, strategy_for
from fedledger.roles.model_io import canonical_weights
from fedledger.simulation.config import SimulationConfig, quantisation_bound
from fedledger.simulation.encrypted import EncryptedRound
from fedledger.simulation.plaintext import PlainRound

__all__ = ["ACCURACY_TARGET_POINTS", "aggregation_error", "compare_runs"]

ACCURACY_TARGET_POINTS = 0.1  # final accuracies of the two runs differ by less than this


def aggregation_error(
    config: SimulationConfig, round_: EncryptedRound, samples: Sequence[int]
) -> float | None:
    """max |encrypted - plain FedAvg| of an accepted round's weights over the same updates
    (``samples``: each participant's sample count, in participant order), or None when the
    round was not accepted or its updates were not recorded."""
    if not round_.accepted or not round_.updates:
        return None
    indices = sorted(round_.updates)
    average = weighted_average(
        [round_.updates[i] for i in indices],
        [samples[i - 1] for i in indices],
    )
    strategy = strategy_for(preset(config.strategy))
    plain, _ = strategy.aggregate_fit(round_.base, average, round_.base_state)
    return float(np.max(np.abs(canonical_weights(plain) - round_.weights)))


def _float32_step(weights: np.ndarray) -> float:
    return float(np.spacing(np.float32(np.max(np.abs(weights)))))


def compare_runs(
    config: SimulationConfig,
    encoding: EncodingParams,
    encrypted: Sequence[EncryptedRound],
    plain: Sequence[PlainRound],
    samples: Sequence[int],
) -> dict[str, Any]:
    """Per-round comparison and its verdict against the targets (module docstring)."""
    plan = config.plan()
    rows = []
    for enc, twin in zip(encrypted, plain, strict=True):
        contributors = len(enc.updates) or config.participants
        bound = quantisation_bound(encoding, plan, contributors) + _float32_step(enc.weights)
        error = aggregation_error(config, enc, samples)
        clipped = int(enc.row["clipped_values"])
        enc_accuracy, plain_accuracy = enc.row["accuracy"], twin.row["accuracy"]
        rows.append(
            {
                "round": enc.row["round"],
                "status": enc.row["status"],
                "encrypted_accuracy": enc_accuracy,
                "plaintext_accuracy": plain_accuracy,
                "accuracy_difference_points": round((enc_accuracy - plain_accuracy) * 100, 2),
                "aggregation_error": error,
                "bound": bound,
                # Clipping is outside the bound's promise: such a round is not checked against it.
                "within_bound": None if error is None or clipped else error <= bound,
                "trajectory_difference": float(np.max(np.abs(enc.weights - twin.weights))),
                "clipped_values": clipped,
            }
        )
    final = abs(rows[-1]["accuracy_difference_points"]) if rows else 0.0
    checked = [r["within_bound"] for r in rows if r["within_bound"] is not None]
    return {
        "rounds": rows,
        "final_accuracy_difference_points": final,
        "accuracy_target_points": ACCURACY_TARGET_POINTS,
        "accuracy_within_target": final < ACCURACY_TARGET_POINTS,
        "rounds_checked_against_bound": len(checked),
        "rounds_with_clipping": sum(1 for r in rows if r["clipped_values"]),
        "all_within_bound": bool(checked) and all(checked),
    }
