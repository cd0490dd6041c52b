"""A participant's store of the global models it adopted, one file per task and accepted round.

Each file holds the canonical float32 weights, the strategy's state after that round (FedAvgM's
momentum buffer, if any) and the weights' SHA-256. :meth:`ModelStore.load` refuses a file whose
weights do not hash to the digest it records; whoever restores a model also compares that digest
with the round's result on the ledger (the store cannot know it), so a stale or tampered file is
never trained on, served or exported. Files are written atomically (a temporary file, then a
rename), so a crash leaves the previous state.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fedledger.errors import FedLedgerError
from fedledger.learning.strategy import StrategyState
from fedledger.roles.model_io import FloatVector, weights_bytes, weights_from_bytes

__all__ = ["ENRICHED_FOLDER", "Checkpoint", "CheckpointError", "ModelStore"]

# Enriched models a participant opened and reviewed: kept under the plan's id as "round" 0.
ENRICHED_FOLDER = "enriched"

_NAME = re.compile(r"round-(\d{6})\.npz")


class CheckpointError(FedLedgerError):
    """A stored model is missing, unreadable or not what its digest says."""


@dataclass(frozen=True)
class Checkpoint:
    """One adopted global model: its round, weights, digest and the strategy state after it."""

    task_id: str
    round: int
    weights: FloatVector
    weights_hash: str
    strategy_state: StrategyState = None


class ModelStore:
    """The models a participant adopted, under ``folder/<task id>/round-<r>.npz``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def enriched(self) -> ModelStore:
        """The store of the enriched models this participant opened (one per plan id)."""
        return ModelStore(self.folder / ENRICHED_FOLDER)

    def _path(self, task_id: str, number: int) -> Path:
        return self.folder / task_id / f"round-{number:06d}.npz"

    def save(
        self,
        task_id: str,
        number: int,
        weights: FloatVector,
        strategy_state: StrategyState = None,
    ) -> Checkpoint:
        """Store the model adopted in round ``number``; return its checkpoint."""
        raw = weights_bytes(weights)
        digest = hashlib.sha256(raw).hexdigest()
        meta = json.dumps({"task_id": task_id, "round": number, "weights_hash": digest})
        arrays = {"weights": np.frombuffer(raw, dtype="<f4"), "meta": np.array(meta)}
        if strategy_state is not None:
            arrays["strategy_state"] = np.asarray(strategy_state, dtype=np.float64)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        path = self._path(task_id, number)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(buffer.getvalue())
        os.replace(temporary, path)
        return Checkpoint(task_id, number, weights_from_bytes(raw), digest, strategy_state)

    def rounds(self, task_id: str) -> list[int]:
        """The rounds of ``task_id`` with a stored model, in order."""
        folder = self.folder / task_id
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _NAME.fullmatch(p.name)))

    def load(self, task_id: str, number: int) -> Checkpoint:
        """The model adopted in round ``number``; raises CheckpointError if missing or corrupt."""
        path = self._path(task_id, number)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                raw = np.asarray(data["weights"], dtype="<f4").tobytes()
                state = data.get("strategy_state", None)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise CheckpointError(
                f"cannot read the model of round {number}: {path} ({exc})"
            ) from exc
        digest = hashlib.sha256(raw).hexdigest()
        if (meta.get("task_id"), meta.get("round")) != (task_id, number):
            raise CheckpointError(f"{path} holds the model of another task or round")
        if digest != meta.get("weights_hash"):
            raise CheckpointError(
                f"{path} is corrupt: its weights hash to {digest}, it records "
                f"{meta.get('weights_hash')}"
            )
        return Checkpoint(task_id, number, weights_from_bytes(raw), digest, state)

    def latest(self, task_id: str) -> Checkpoint | None:
        """The newest stored model of ``task_id``, or None."""
        rounds = self.rounds(task_id)
        return self.load(task_id, rounds[-1]) if rounds else None
