"""`participant run` remembers its settings so that a plain restart resumes the same task."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedledger.cli.main import build_parser
from fedledger.cli.paths import Paths
from fedledger.cli.saved_run import FILE_NAME, SavedRun, load_saved_run, save_run
from fedledger.cli.training_cmd import cmd_participant_run
from fedledger.errors import FedLedgerError

FLAGS = [
    "participant", "run", "--org", "Org2", "--index", "2", "--coordinator", "Org1MSP/ab",
    "--coordinator", "Org1MSP/cd", "--participants", "4", "--partition", "dirichlet:0.5",
    "--seed", "7", "--decryptors", "all", "--min-quorum", "3", "--epochs", "2",
    "--mnist", "mnist.npz",
]  # fmt: skip


def test_a_saved_run_restores_every_setting_of_the_first_start(tmp_path: Path) -> None:
    first = build_parser().parse_args(FLAGS)
    save_run(tmp_path, SavedRun.from_args(first, "task-1"))
    plain = build_parser().parse_args(["participant", "run", "--org", "Org2"])

    load_saved_run(tmp_path).apply(plain)

    for name in ("index", "coordinator", "participants", "partition", "seed", "decryptors",
                 "min_quorum", "data", "mnist", "epochs"):  # fmt: skip
        assert getattr(plain, name) == getattr(first, name), name
    assert plain.task == "task-1"


def test_nothing_to_resume_says_which_flags_to_give(tmp_path: Path) -> None:
    with pytest.raises(
        FedLedgerError, match=r"no task to resume.*give --data \(or --index\) and --coordinator"
    ):
        load_saved_run(tmp_path)


def test_a_file_that_is_not_a_saved_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text('{"task": "t"}')

    with pytest.raises(FedLedgerError, match="is not a saved participant run"):
        load_saved_run(tmp_path)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--index", "1"], "needs --coordinator PARTY_ID"),
        (["--coordinator", "Org1MSP/ab"], "needs either --data PATH .* or --index I"),
        (["--index", "1", "--data", "own.npz", "--coordinator", "c"], "not both"),
        (
            ["--data", "own.npz", "--coordinator", "c", "--epochs", "0"],
            "--epochs must be at least 1",
        ),
    ],
)
def test_the_flags_of_a_run_name_what_is_missing_or_contradictory(
    tmp_path: Path, flags: list[str], message: str
) -> None:
    args = build_parser().parse_args(["participant", "run", *flags])
    args.org, args.user = "Org1", "User1"
    paths = Paths(root=tmp_path, bin_dir=tmp_path)

    with pytest.raises(FedLedgerError, match=message):
        cmd_participant_run(paths, args)


def test_a_run_on_own_data_saves_the_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(
        ["participant", "run", "--data", "own.npz", "--coordinator", "Org1MSP/ab"]
    )

    run = SavedRun.from_args(args, "task-1")

    assert (run.data, run.index) == (str(tmp_path / "own.npz"), None)
