"""The model a provider serves is the task's current one, from weights that hash to its digest.

Round 0 comes from the ledger's initial weights; an accepted round's weights from the
participant's model store, refused when missing or different from the ledger's digest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from support.consortium import Consortium

from fedledger.errors import FedLedgerError
from fedledger.protocol.task_records import PublicKeyInfo, TaskRecord
from fedledger.protocol.training import StrategySpec
from fedledger.roles.model_io import weights_hash
from fedledger.roles.prediction.served_model import current_model
from fedledger.roles.training.checkpoints import ModelStore
from fedledger.roles.training.participant import TaskState


@pytest.fixture
def consortium() -> Iterator[Consortium]:
    with Consortium() as made:
        yield made


def _joined(consortium: Consortium) -> tuple[str, list[TaskState]]:
    task = consortium.propose()
    return task, [m.role.join(task, timeout=1) for m in consortium.members]


def test_before_any_accepted_round_the_initial_weights_on_the_ledger_are_served(
    consortium: Consortium, tmp_path: Path
) -> None:
    task, states = _joined(consortium)

    served = current_model(consortium.members[1].contract, ModelStore(tmp_path), task)

    assert served.round == 0
    assert np.array_equal(served.weights, states[0].latest)
    assert served.weights_hash == weights_hash(states[0].latest)


def test_an_accepted_rounds_model_comes_from_the_store_and_must_match_the_ledger(
    consortium: Consortium, tmp_path: Path
) -> None:
    # Prepare: round 1 decided; an empty store, then a wrong model, then the adopted one
    task, states = _joined(consortium)
    outcome, _ = consortium.play_round(task, states, 1)
    assert outcome.status == "accepted"
    contract, store = consortium.members[1].contract, ModelStore(tmp_path)

    # Execute / Assert
    with pytest.raises(FedLedgerError, match="which this participant did not keep under"):
        current_model(contract, store, task)
    store.save(task, 1, states[1].latest + 1.0)
    with pytest.raises(FedLedgerError, match="do not hash to the current model's digest"):
        current_model(contract, store, task)
    store.save(task, 1, states[1].latest)
    served = current_model(contract, store, task)
    assert served.round == 1
    assert served.weights_hash == outcome.view.round.result.weights_hash  # type: ignore[union-attr]


class _Ledger:
    """A contract answering only the two queries ``current_model`` asks (an adopted enrichment's
    ledger state is built by the enrichment tests; here only the provider's side is under test)."""

    def __init__(self, current: dict[str, object]) -> None:
        self.current = current

    def evaluate(self, function: str, *args: str) -> bytes:
        answers = {"GetTask": _task(args[0]).to_dict(), "GetCurrentModel": self.current}
        return json.dumps(answers[function]).encode()


def _task(task_id: str) -> TaskRecord:
    """A stored task of model "tiny" (the typed client reads every field; the model matters)."""
    return TaskRecord(
        id=task_id, proposer="Org1MSP/" + "a" * 64, model="tiny", model_hash="b" * 64,
        initial_weights_hash="c" * 64, value_count=6, ciphertext_count=1, encoding={},
        public_key=PublicKeyInfo("15", 4, "d" * 64), threshold_public="", threshold=2,
        participants=(), quorum=2, rounds=1, round_seconds=60, tolerance_bp=0,
        max_update_bytes=1, strategy=StrategySpec(), approvals=(), status="active",
        proposed_at=0, proposed_tx="tx", activated_at=0, finished_at=None,
    )  # fmt: skip


def test_an_adopted_enrichment_is_served_from_the_reviewed_weights_only(tmp_path: Path) -> None:
    weights = np.arange(6, dtype=np.float32)
    digest = weights_hash(weights)
    ledger = _Ledger({"task_id": "t", "weights_hash": digest, "source": "enrichment",
                      "round": 1, "median_bp": 9000, "plan_id": "plan-1"})  # fmt: skip
    store = ModelStore(tmp_path)

    with pytest.raises(FedLedgerError, match=r"enrichment of plan-1 .* did not review"):
        current_model(ledger, store, "t")  # type: ignore[arg-type]
    store.enriched().save("plan-1", 0, weights)
    served = current_model(ledger, store, "t")  # type: ignore[arg-type]

    assert (served.weights_hash, served.round) == (digest, 1)
    assert np.array_equal(served.weights, weights)
