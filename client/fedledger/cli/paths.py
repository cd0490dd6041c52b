"""Where the CLI finds things by default: the state-folder model resolved from the environment.

The only module besides ``main`` that reads the environment (FEDLEDGER_STATE, FEDLEDGER_BIN).
The model itself is :class:`fedledger.network.layout.Layout`; the CLI resolves one and passes
it down.
"""

from __future__ import annotations

import os
from pathlib import Path

import fedledger
from fedledger.network.layout import Layout

# The CLI's name for the state-folder model (every command receives one).
Paths = Layout


def repository_root() -> Path:
    """The checkout this fedledger runs from (editable install), else the working directory."""
    candidate = Path(fedledger.__file__).resolve().parents[2]
    if (candidate / "network" / "go.mod").is_file():
        return candidate
    return Path.cwd()


def resolve_paths(state: str | None) -> Layout:
    """Defaults: state .fedledger/network and binaries .fedledger/bin under the repository."""
    repo = repository_root()
    state_dir = Path(state or os.environ.get("FEDLEDGER_STATE") or repo / ".fedledger" / "network")
    bin_dir = Path(os.environ.get("FEDLEDGER_BIN") or repo / ".fedledger" / "bin")
    return Layout(root=state_dir.resolve(), bin_dir=bin_dir.resolve(), source=repo / "network")
