"""The task file: a valid file becomes a TaskPlan; each bad field is named with its range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fedledger.cli.task_file import TaskFileError, load_task_file, parse_task_file
from fedledger.protocol.training import StrategySpec

PARTY_A = "Org1MSP/" + "a" * 64
PARTY_B = "Org2MSP/" + "b" * 64

VALID = f"""
model = "mlp32"
rounds = 4
threshold = 2
round_seconds = 600
seed = 7

[encoding]
frac_bits = 16
clip = 0.5

[strategy]
name = "fedavgm"
momentum_bp = 5000
server_lr_bp = 12000

[[participants]]
party = "{PARTY_A}"
samples = 1350

[[participants]]
party = "{PARTY_B}"
advertisement = "ad-1"
"""


def _valid() -> dict[str, Any]:
    return {
        "model": "mlp32",
        "rounds": 3,
        "threshold": 2,
        "round_seconds": 600,
        "participants": [{"party": PARTY_A, "samples": 10}, {"party": PARTY_B, "samples": 20}],
    }


def test_a_valid_file_becomes_the_plan_participants_and_seed(tmp_path: Path) -> None:
    path = tmp_path / "task.toml"
    path.write_text(VALID)

    parsed = load_task_file(path)

    plan = parsed.plan
    assert (plan.model, plan.rounds, plan.threshold, plan.round_seconds) == ("mlp32", 4, 2, 600)
    assert (plan.quorum, plan.frac_bits, plan.clip, plan.key_bits) == (2, 16, 0.5, 2048)
    assert plan.strategy == StrategySpec("fedavgm", 5000, 12_000)
    assert [(p.party, p.samples, p.advertisement) for p in parsed.participants] == [
        (PARTY_A, 1350, None),
        (PARTY_B, None, "ad-1"),
    ]
    assert parsed.seed == 7


def test_defaults_are_every_participant_as_quorum_fedavg_and_the_demo_encoding() -> None:
    parsed = parse_task_file(_valid())

    assert parsed.plan.quorum == 2
    assert parsed.plan.strategy == StrategySpec()
    assert (parsed.plan.frac_bits, parsed.plan.clip, parsed.plan.tolerance_bp) == (14, 0.25, 500)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": "resnet"}, "model must be one of mlp128, mlp32, mlp32q, got 'resnet'"),
        ({"rounds": 0}, "rounds must be in 1..999999, got 0"),
        ({"rounds": "3"}, "rounds must be an integer in 1..999999, got '3'"),
        ({"threshold": 1}, "threshold must be in 2..2, got 1"),
        ({"threshold": 3}, "threshold must be in 2..2, got 3"),
        ({"quorum": 1}, "quorum must be in 2..2, got 1"),
        ({"round_seconds": 0}, "round_seconds must be in 1..31622400, got 0"),
        ({"tolerance_bp": 10_001}, "tolerance_bp must be in 0..10000, got 10001"),
        ({"key_bits": 2500}, "key_bits must be one of 2048, 3072, 4096, got 2500"),
        ({"encoding": {"frac_bits": 31}}, "encoding.frac_bits must be in 1..30, got 31"),
        ({"encoding": {"clip": 0}}, "encoding.clip must be in (0, 16.0], got 0"),
        ({"encoding": {"clip": 1e-9}}, "encoding.clip 1e-09 is below the precision 2^-14"),
        (
            {"encoding": {"bits": 3}},
            "unknown field 'bits' in [encoding] (allowed: clip, frac_bits)",
        ),
        ({"strategy": {"name": "sgd"}}, "strategy.name must be one of fedavg, fedavgm, got 'sgd'"),
        ({"strategy": {"name": "fedavg", "momentum_bp": 1}}, "strategy fedavg takes no"),
        ({"strategy": {"name": "fedavgm"}}, "strategy.momentum_bp is missing"),
        ({"local_epochs": 2}, "local_epochs is not a task field"),
        ({"epochs": 2}, "unknown field 'epochs' in the task file"),
        ({"participants": []}, "participants must be 2..256 [[participants]] tables, got 0"),
        (
            {"participants": [{"party": "me", "samples": 1}, {"party": PARTY_B, "samples": 1}]},
            "participants[1].party must be a party id (MSPID/<64 hex digits>), got 'me'",
        ),
        (
            {"participants": [{"party": PARTY_A, "samples": 1}, {"party": PARTY_A, "samples": 1}]},
            f"participants[2].party {PARTY_A} is listed twice",
        ),
        (
            {"participants": [{"party": PARTY_A}, {"party": PARTY_B, "samples": 1}]},
            "participants[1] needs exactly one of samples or advertisement",
        ),
        (
            {"participants": [{"party": PARTY_A, "samples": 0}, {"party": PARTY_B, "samples": 1}]},
            "participants[1].samples must be in 1..",
        ),
    ],
)
def test_a_bad_field_is_refused_with_its_name_and_range(
    change: dict[str, Any], message: str
) -> None:
    raw = {**_valid(), **change}

    with pytest.raises(TaskFileError) as caught:
        parse_task_file(raw)

    assert str(caught.value).startswith(message)


def test_a_missing_required_field_names_it_and_its_range() -> None:
    raw = _valid()
    del raw["round_seconds"]

    with pytest.raises(TaskFileError, match=r"^round_seconds is missing: give an integer in 1\.\."):
        parse_task_file(raw)


def test_a_file_that_is_not_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "task.toml"
    path.write_text("model = ")

    with pytest.raises(TaskFileError, match=r"task\.toml: not valid TOML"):
        load_task_file(path)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError, match=r"nothing\.toml: cannot read the task file"):
        load_task_file(tmp_path / "nothing.toml")
