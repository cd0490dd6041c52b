"""`fedledger simulate --compare` end to end in-process: two participants, one round of the tiny
model, the shared test key from a key file; the JSON has the demo's rows and the comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.consortium import TINY, keypair

from fedledger.cli.main import main
from fedledger.learning import models
from fedledger.learning.models import ModelSpec
from fedledger.simulation.keyfile import save_key


@pytest.mark.slow
def test_compare_prints_rounds_and_writes_both_runs_and_their_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(models.MODELS, TINY, ModelSpec(TINY, hidden=1))
    key, out = tmp_path / "key.json", tmp_path / "sim.json"
    save_key(key, keypair()[1])

    code = main(
        ["simulate", "--participants", "2", "--rounds", "1", "--model", TINY, "--compare",
         "--key", str(key), "--json", str(out)]
    )  # fmt: skip

    assert code == 0
    report = json.loads(out.read_text())
    assert report["mode"] == "compare" and report["participants"] == 2
    assert [r["round"] for r in report["rounds"]] == [1]
    assert [r["round"] for r in report["plaintext_rounds"]] == [1]
    assert {"status", "accuracy", "seconds", "ledger_bytes", "phases"} <= set(report["rounds"][0])
    compared = report["comparison"]["rounds"][0]
    assert compared["clipped_values"] == report["rounds"][0]["clipped_values"]
    # The tiny model on real digits takes steps beyond the clip bound; such a round is not held
    # to the quantisation bound, and the output says why.
    assert compared["within_bound"] is (None if compared["clipped_values"] else True)
    printed = capsys.readouterr().out
    assert "round 1:" in printed and "aggregation error" in printed
    assert "precision and slot count as in the demo's encoding" in printed
    if compared["clipped_values"]:
        assert "the quantisation bound does not cover clipping" in printed
