"""The plaintext twin: the same training as the encrypted simulation, averaged in the clear.

Same data parts, same seeds (:func:`fedledger.roles.training.participant.round_seed`), same initial
weights, same strategy, same local training (:func:`fedledger.learning.training.train_local`
with the strategy's configuration of the round) — and then plain FedAvg of the updates
(:func:`fedledger.learning.fedavg.weighted_average`), no encoding, no encryption, no ledger.
What differs from the encrypted run is therefore only what encryption does to the numbers
(fixed-point quantisation, clipping) and what it costs in time.

There is no ledger, so there is no acceptance vote: every round is accepted. Its row has the
demo's layout with the federation's phases (encryption, decryption, ledger) at zero.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from fedledger.learning.datasets import Dataset
from fedledger.learning.evaluation import evaluate_accuracy
from fedledger.learning.fedavg import weighted_average
from fedledger.learning.strategy import preset, strategy_for
from fedledger.learning.training import TrainingConfig, train_local
from fedledger.roles.model_io import FloatVector, canonical_weights, weights_hash
from fedledger.roles.training.participant import round_seed
from fedledger.simulation.config import SimulationConfig
from fedledger.simulation.data import SimulationData

__all__ = ["PlainRound", "run_plaintext"]

ACCEPTED = "accepted"
TRAINING_THREADS = 8  # parallel local trainings (TensorFlow releases the GIL while it computes)


@dataclass
class PlainRound:
    """One plaintext round: its row (the demo's layout) and the global model after it."""

    row: dict[str, Any]
    weights: FloatVector


def run_plaintext(
    config: SimulationConfig,
    data: SimulationData,
    initial: FloatVector,
    on_round: Callable[[PlainRound], None] | None = None,
) -> list[PlainRound]:
    """Train every round with plain FedAvg; return the rounds in order.

    Raises SimulationError for bad settings, LearningError when training fails.
    """
    config.check()
    strategy = strategy_for(preset(config.strategy))
    weights, state = canonical_weights(np.asarray(initial, dtype=np.float64)), None
    rounds = []
    with ThreadPoolExecutor(min(TRAINING_THREADS, len(data.parts))) as pool:
        for number in range(1, config.rounds + 1):
            started = time.perf_counter()
            training = strategy.configure_fit(number, config.training)

            jobs = [
                (data.parts[i - 1].train, round_seed(config.seed + i, number))
                for i in range(1, len(data.parts) + 1)
            ]

            def train(
                job: tuple[Dataset, int],
                base: FloatVector = weights,
                settings: TrainingConfig = training,
            ) -> tuple[FloatVector, float]:
                began = time.perf_counter()
                result = train_local(config.model, base, job[0], settings, seed=job[1])
                return result.update, time.perf_counter() - began

            trained = list(pool.map(train, jobs))
            average = weighted_average([u for u, _ in trained], data.samples)
            new, state = strategy.aggregate_fit(weights, average, state)
            weights = canonical_weights(new)
            validation = [
                evaluate_accuracy(config.model, weights, part.validation) for part in data.parts
            ]
            test = evaluate_accuracy(config.model, weights, data.test)
            wall = time.perf_counter() - started
            row = _row(number, test, validation, wall, max(s for _, s in trained), weights)
            rounds.append(PlainRound(row, weights))
            if on_round is not None:
                on_round(rounds[-1])
    return rounds


def _row(
    number: int,
    test: float,
    validation: list[float],
    wall: float,
    training: float,
    weights: FloatVector,
) -> dict[str, Any]:
    """The demo's row layout for a round without encryption or ledger."""
    median_bp = round(statistics.median(validation) * 10000)
    return {
        "round": number,
        "status": ACCEPTED,
        "accuracy": round(test, 4),
        "median_validation_accuracy": median_bp / 10000,
        "reason": "",
        "seconds": {
            "wall": round(wall, 3),
            "training": round(training, 3),
            "training_within": round(training, 3),
            "overhead": round(wall - training, 3),
            "encryption": 0.0,
            "decryption": 0.0,
            "combination": 0.0,
            "ledger": 0.0,
        },
        "decryptors": 0,
        "trained_ahead": 0,
        "ledger_calls": 0,
        "ledger_bytes": 0,
        "clipped_values": 0,
        "weights_hash": weights_hash(weights),
        "dissent": {},
    }
