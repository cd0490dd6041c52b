"""A demo keeps a recorded network that fits it and replaces, after saying so, one that does not."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from fedledger.cli import demo_network
from fedledger.cli.paths import Paths
from fedledger.network.recorded import write_topology
from fedledger.network.topology import make_topology


def _record(state: Path, orgs: int) -> None:
    state.mkdir(parents=True)
    write_topology(state / "topology.json", make_topology(orgs))
    (state / "wallet").mkdir()


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orgs: int) -> argparse.Namespace:
    asked: list[argparse.Namespace] = []

    def fake_bring_up(paths: Paths, args: argparse.Namespace) -> Any:
        asked.append(args)
        return None, True, 0.0

    monkeypatch.setattr(demo_network, "bring_up", fake_bring_up)
    paths = Paths(root=tmp_path / "state", bin_dir=tmp_path / "bin")
    demo_network.network_for_demo(paths, argparse.Namespace(orgs=orgs, base_port=None))
    return asked[0]


def test_a_network_with_too_few_orgs_is_purged_and_made_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _record(tmp_path / "state", 3)

    asked = _run(tmp_path, monkeypatch, orgs=4)

    assert not (tmp_path / "state").exists()
    assert asked.orgs == 4
    said = capsys.readouterr().out
    assert "has 3 orgs on base port 7050; this demo needs 4: replacing it" in said


def test_a_network_with_more_orgs_than_needed_is_kept_as_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(tmp_path / "state", 4)

    asked = _run(tmp_path, monkeypatch, orgs=3)

    assert (tmp_path / "state" / "wallet").is_dir()
    assert asked.orgs is None  # reopened with its own shape: asking for 3 would be refused


def test_no_recorded_network_asks_for_exactly_what_the_demo_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(tmp_path, monkeypatch, orgs=4).orgs == 4
