"""The `fedledger` command on an in-memory ledger: `--org` picks one of the test's identities.

The CLI reaches the ledger through ``ledger_cmd.contract_for``; :func:`route_cli` replaces it so
that `--org OrgN` (any `--user`) acts as the identity the test gave for OrgN.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from fedledger.cli import ledger_cmd
from fedledger.cli.paths import Paths
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger


def route_cli(
    monkeypatch: pytest.MonkeyPatch, ledger: InMemoryLedger, identities: Mapping[str, Identity]
) -> None:
    """Make the CLI's `--org ORG` act as ``identities[ORG]`` on ``ledger``."""

    @contextmanager
    def contract_for(paths: Paths, args: argparse.Namespace) -> Iterator[InMemoryContract]:
        yield ledger.contract(identities[args.org])

    monkeypatch.setattr(ledger_cmd, "contract_for", contract_for)
