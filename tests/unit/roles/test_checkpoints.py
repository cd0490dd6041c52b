"""The participant's model store: what is saved comes back, a corrupt file never does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fedledger.roles.model_io import canonical_weights, weights_hash
from fedledger.roles.training.checkpoints import CheckpointError, ModelStore

TASK = "task-" + "a" * 32


def test_saved_models_come_back_with_their_digest_and_strategy_state(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    weights = canonical_weights(np.linspace(-1, 1, 50))
    momentum = np.linspace(0, 1, 50)

    store.save(TASK, 1, weights)
    saved = store.save(TASK, 3, weights * 2, momentum)

    assert store.rounds(TASK) == [1, 3]
    latest = store.latest(TASK)
    assert latest is not None and latest.round == 3
    assert latest.weights_hash == saved.weights_hash == weights_hash(weights * 2)
    assert np.array_equal(latest.weights, canonical_weights(weights * 2))
    assert np.array_equal(latest.strategy_state, momentum)  # type: ignore[arg-type]
    assert store.load(TASK, 1).strategy_state is None
    assert store.rounds("task-" + "b" * 32) == [] and store.latest("task-" + "b" * 32) is None


def test_a_corrupt_or_misplaced_file_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    path = tmp_path / TASK / "round-000001.npz"
    store.save(TASK, 1, np.ones(10))
    store.save(TASK, 2, np.zeros(10))

    (tmp_path / TASK / "round-000002.npz").replace(tmp_path / TASK / "round-000004.npz")
    with pytest.raises(CheckpointError, match="another task or round"):
        store.load(TASK, 4)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="cannot read the model of round 1"):
        store.load(TASK, 1)
    with pytest.raises(CheckpointError, match="cannot read the model of round 9"):
        store.load(TASK, 9)
