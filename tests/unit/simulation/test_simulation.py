"""A whole simulation in-process: five participants with the real roles on the in-memory ledger,
and its plaintext twin, agree within the encoder's bound.

The model is a 784-1-10 MLP registered as ``tiny`` for the test (eight ciphertexts a round), the
key is the shared 2048-bit safe-prime test key, the data small random images.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from support.consortium import TINY, keypair

from fedledger.learning import models
from fedledger.learning.datasets import Dataset
from fedledger.learning.models import ModelSpec, parameter_count
from fedledger.simulation.compare import compare_runs
from fedledger.simulation.config import SimulationConfig
from fedledger.simulation.data import LocalData, SimulationData
from fedledger.simulation.encrypted import EncryptedRound, SimulatedConsortium
from fedledger.simulation.plaintext import run_plaintext

PARTICIPANTS = 5


@pytest.fixture
def tiny_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setitem(models.MODELS, TINY, ModelSpec(TINY, hidden=1))
    yield TINY


def _data(count: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.random((count, 784), dtype=np.float32)
    return Dataset(x, rng.integers(0, 10, size=count).astype(np.int64))


def _simulation_data() -> SimulationData:
    parts = [LocalData(_data(30 + 10 * i, i), _data(10, 100 + i)) for i in range(PARTICIPANTS)]
    return SimulationData(parts, _data(50, 999))


@pytest.mark.slow
def test_five_participants_finish_and_agree_with_the_plaintext_twin_within_the_bound(
    tiny_model: str,
) -> None:
    config = SimulationConfig(participants=PARTICIPANTS, rounds=1, model=tiny_model, threshold=2)
    data = _simulation_data()
    initial = np.random.default_rng(7).normal(0, 0.1, parameter_count(tiny_model))
    seen: list[EncryptedRound] = []

    consortium = SimulatedConsortium(config, data, keypair(), record_updates=True)
    encrypted = consortium.run(initial, seen.append)
    plain = run_plaintext(config, data, initial)
    verdict = compare_runs(config, config.encoding(), encrypted, plain, data.samples)

    assert [r.row["round"] for r in encrypted] == [1] and seen == encrypted
    assert all(r.row["status"] in ("accepted", "rejected") for r in encrypted)
    assert all(len(r.updates) == PARTICIPANTS for r in encrypted)
    assert all(r.row["decryptors"] == 2 for r in encrypted)
    first = verdict["rounds"][0]
    assert first["aggregation_error"] is not None
    assert first["aggregation_error"] <= first["bound"]
    assert first["trajectory_difference"] <= first["bound"]
    assert verdict["all_within_bound"]
    assert first["aggregation_error"] > 0  # quantisation is really there: the check is not vacuous
