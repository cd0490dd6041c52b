"""What a simulation runs: its settings, their checks, and the encoding its participant count needs.

A simulation is a consortium in one process: N participants and a coordinator as objects over
one in-memory ledger. Its settings are checked up front with messages that name the setting,
before any key is generated or any model trained.

The encoding (:func:`fedledger.crypto.paillier_scheme.encoding_for`) widens each packed slot
until it holds the sum of N clipped values, so more participants mean fewer slots per ciphertext
and more ciphertexts per update. Precision grows with N too (:func:`frac_bits_for`): each
participant rounds its share n_i/N of the update to a multiple of 2^-f, so the aggregate of N of
them is off by up to N half-steps; one more fractional bit per doubling of N beyond the demo's
three keeps that worst case at the demo's (measured at N = 50 with the demo's 14 bits: the
encrypted and plaintext final accuracies differed by 0.2 points; see the README, "Simulation").
:func:`encoding_report` states what changed against the demo's three participants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.paillier_scheme import encoding_for
from fedledger.errors import FedLedgerError, SimulationError
from fedledger.learning.models import parameter_count
from fedledger.learning.partition import parse_partition_spec
from fedledger.learning.strategy import PRESETS, preset
from fedledger.learning.training import DEFAULT_TRAINING, TrainingConfig
from fedledger.protocol.training import MAX_PARTICIPANTS, MIN_THRESHOLD
from fedledger.roles.training.coordinator import TaskPlan

__all__ = [
    "DEFAULT_THRESHOLD",
    "REFERENCE_PARTICIPANTS",
    "SimulationConfig",
    "encoding_report",
    "frac_bits_for",
    "quantisation_bound",
]

# Each decryption share costs one ~4,100-bit exponentiation per ciphertext and only t shares are
# computed, so t stays small whatever N is: a majority of 50 would cost 26 partial decryptions.
DEFAULT_THRESHOLD = 2
REFERENCE_PARTICIPANTS = 3  # the demo's default, against which encoding changes are reported
_MAX_FRAC_BITS = 40


def frac_bits_for(participants: int) -> int:
    """Fractional bits that keep N half-steps of rounding at the demo's worst case: the task's
    default plus one per doubling of N beyond :data:`REFERENCE_PARTICIPANTS`."""
    extra = math.ceil(math.log2(participants / REFERENCE_PARTICIPANTS)) if participants > 3 else 0
    return TaskPlan().frac_bits + extra


@dataclass(frozen=True)
class SimulationConfig:
    """One simulated task: N participants, R rounds, the model, data split and strategy."""

    participants: int = 10
    rounds: int = 3
    model: str = "mlp32"
    partition: str = "iid"
    threshold: int = DEFAULT_THRESHOLD
    strategy: str = "fedavg"
    data_path: str | None = None
    seed: int = 0
    training: TrainingConfig = field(default=DEFAULT_TRAINING)
    train_ahead: bool = True
    frac_bits: int | None = None  # default: frac_bits_for(participants)

    @property
    def precision(self) -> int:
        """The fractional bits of the task's encoding."""
        return self.frac_bits if self.frac_bits is not None else frac_bits_for(self.participants)

    def check(self) -> None:
        """Raise SimulationError naming the first setting that cannot work."""
        n, t = self.participants, self.threshold
        if n < MIN_THRESHOLD:
            raise SimulationError(
                f"a simulation needs at least {MIN_THRESHOLD} participants (two key holders), "
                f"got {n}"
            )
        if n > MAX_PARTICIPANTS:
            raise SimulationError(f"a task lists at most {MAX_PARTICIPANTS} participants, got {n}")
        if t < MIN_THRESHOLD:
            raise SimulationError(
                f"the threshold must be at least {MIN_THRESHOLD} (with one share a single key "
                f"holder could decrypt every update), got {t}"
            )
        if t > n:
            raise SimulationError(
                f"the threshold {t} is above the {n} participants: a round needs {t} decryption "
                f"shares but only {n} parties hold key shares"
            )
        if self.rounds < 1:
            raise SimulationError(f"a simulation needs at least one round, got {self.rounds}")
        if not 1 <= self.precision <= _MAX_FRAC_BITS:
            raise SimulationError(
                f"fractional bits must be in [1, {_MAX_FRAC_BITS}], got {self.precision}"
            )
        if self.strategy not in PRESETS:
            raise SimulationError(
                f"unknown strategy {self.strategy!r}; known strategies: {', '.join(PRESETS)}"
            )
        try:
            parameter_count(self.model)
            parse_partition_spec(self.partition)
        except FedLedgerError as exc:
            raise SimulationError(str(exc)) from exc

    def plan(self, key_bits: int = 2048) -> TaskPlan:
        """The task plan the simulated coordinator proposes (every participant in the quorum)."""
        return TaskPlan(
            model=self.model,
            rounds=self.rounds,
            threshold=self.threshold,
            frac_bits=self.precision,
            key_bits=key_bits,
            strategy=preset(self.strategy),
        )

    def encoding(self, key_bits: int = 2048) -> EncodingParams:
        """The encoding the task uses: headroom for every participant's summand."""
        return encoding_for(self.plan(key_bits), self.participants)


def quantisation_bound(encoding: EncodingParams, plan: TaskPlan, contributors: int) -> float:
    """The largest |encrypted - plaintext| FedAvg global weight a round can show, per value.

    Each contributor's scaled update is rounded to the nearest multiple of 2^-f, an error of at
    most half a step; the aggregate adds ``contributors`` of them; FedAvg rescales the sum by
    N_total / N_contributed (1 when everybody contributed: the sample weights already sum to 1)
    and the strategy multiplies it by its server learning rate. Clipped values are beyond it:
    the bound holds when no update value exceeded the clip bound.
    """
    half_step = encoding.resolution / 2
    return plan.strategy.server_lr_bp / 10_000 * contributors * half_step


def encoding_report(config: SimulationConfig, key_bits: int = 2048) -> dict[str, Any]:
    """The task's encoding next to the demo's (three participants): what N changed."""
    mine = config.encoding(key_bits)
    reference = encoding_for(TaskPlan(key_bits=key_bits), REFERENCE_PARTICIPANTS)
    values = parameter_count(config.model)
    return {
        "frac_bits": mine.frac_bits,
        "clip": mine.clip,
        "slot_bits": mine.slot_bits,
        "slots": mine.slots,
        "ciphertexts": -(-values // mine.slots),
        "reference_participants": REFERENCE_PARTICIPANTS,
        "reference_frac_bits": reference.frac_bits,
        "reference_slot_bits": reference.slot_bits,
        "reference_slots": reference.slots,
        "reference_ciphertexts": -(-values // reference.slots),
        "precision_changed": mine.frac_bits != reference.frac_bits,
        "slots_changed": mine.slots != reference.slots,
    }
