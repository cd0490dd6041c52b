"""What `fedledger participant run` was started with, kept so that a plain restart resumes it.

A participant process that crashed or was stopped during a task is restarted with
`fedledger participant run` and no flags: the command reads this file from the identity's wallet
folder and takes part in the same task again, with the same data and settings (the role then
restores its adopted models and rejoins the current round; see ``roles/training/participant.py``).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from fedledger.errors import FedLedgerError

__all__ = ["FILE_NAME", "SavedRun", "load_saved_run", "save_run"]

FILE_NAME = "participant-run.json"


@dataclass(frozen=True)
class SavedRun:
    """The settings of one participant run (the flags of `participant run` that shape it)."""

    task: str
    coordinator: list[str]
    data: str | None  # own data (a path), or None in a simulation
    index: int | None  # the simulation's part, or None with own data
    participants: int
    partition: str
    mnist: str | None
    seed: int
    decryptors: str
    min_quorum: int
    epochs: int

    @classmethod
    def from_args(cls, args: argparse.Namespace, task: str) -> SavedRun:
        """The run ``args`` describe, in ``task`` (a path to own data is kept absolute, so a
        restart from another directory finds it)."""
        values = {f.name: getattr(args, f.name) for f in fields(cls) if f.name != "task"}
        if values["data"] is not None:
            values["data"] = str(Path(values["data"]).resolve())
        return cls(task=task, **values)

    def apply(self, args: argparse.Namespace) -> None:
        """Set ``args`` to this run's settings."""
        for name, value in asdict(self).items():
            setattr(args, name, value)


def save_run(folder: Path, run: SavedRun) -> None:
    """Write ``run`` into ``folder`` (atomically: a crash leaves the previous file)."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / (FILE_NAME + ".tmp")
    temporary.write_text(json.dumps(asdict(run), indent=1) + "\n")
    os.replace(temporary, folder / FILE_NAME)


def load_saved_run(folder: Path) -> SavedRun:
    """The run saved in ``folder``; raises FedLedgerError if there is none or it is unreadable."""
    path = folder / FILE_NAME
    try:
        raw: Any = json.loads(path.read_text())
    except FileNotFoundError:
        raise FedLedgerError(
            f"no task to resume: this identity has no earlier run ({path} is missing); give "
            f"--data (or --index) and --coordinator (and --task to join a given task)"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise FedLedgerError(f"cannot read the earlier run {path}: {exc}") from exc
    names = {f.name for f in fields(SavedRun)}
    if not isinstance(raw, dict) or set(raw) != names:
        raise FedLedgerError(f"{path} is not a saved participant run; remove it and give flags")
    return SavedRun(**raw)
