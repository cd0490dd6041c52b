"""Where the CLI finds things by default: the repository, Fabric binaries, network state, wallet.

The only module besides ``main`` that reads the environment (FEDLEDGER_STATE, FEDLEDGER_BIN).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import fedledger


def repository_root() -> Path:
    """The checkout this fedledger runs from (editable install), else the working directory."""
    candidate = Path(fedledger.__file__).resolve().parents[2]
    if (candidate / "network" / "go.mod").is_file():
        return candidate
    return Path.cwd()


@dataclass(frozen=True)
class Paths:
    """Every location the CLI uses."""

    repo: Path
    state: Path
    bin_dir: Path

    @property
    def module_dir(self) -> Path:
        return self.repo / "network"

    @property
    def builder_dir(self) -> Path:
        return self.repo / "network" / "builder"

    @property
    def profile(self) -> Path:
        return self.state / "network.json"

    def models(self, org: str, user: str) -> Path:
        """Where a participant keeps the global models it adopted (one folder per task)."""
        return self.wallet(org, user) / "models"

    def wallet(self, org: str, user: str) -> Path:
        """The folder of a user's own secrets (its key-exchange private key), inside the state."""
        return self.state / "wallet" / org / user


def resolve_paths(state: str | None) -> Paths:
    """Defaults: state .fedledger/network and binaries .fedledger/bin under the repository."""
    repo = repository_root()
    state_dir = Path(state or os.environ.get("FEDLEDGER_STATE") or repo / ".fedledger" / "network")
    bin_dir = Path(os.environ.get("FEDLEDGER_BIN") or repo / ".fedledger" / "bin")
    return Paths(repo=repo, state=state_dir.resolve(), bin_dir=bin_dir.resolve())
