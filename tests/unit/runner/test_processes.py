"""RoleProcess against real `fedledger` processes that fail fast (no network, no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedledger.errors import RoleProcessError
from fedledger.runner.events import PARTICIPANT_EVENTS, Ready
from fedledger.runner.processes import RoleProcess


def test_a_command_that_fails_is_reported_with_its_error_line(tmp_path: Path) -> None:
    # No network in this state folder: the command fails and says so on its --json output.
    process = RoleProcess(
        "participant-Org1",
        ["participant", "run", "--json", "--org", "Org1", "--state", str(tmp_path / "none"),
         "--index", "1", "--coordinator", "Org1MSP/x"],
        tmp_path / "logs",
        PARTICIPANT_EVENTS,
    ).start()  # fmt: skip
    try:
        with pytest.raises(RoleProcessError, match="participant-Org1 failed before 'ready'"):
            process.wait_for(Ready, 120)
        assert process.exit_code(30) != 0
        assert (tmp_path / "logs" / "participant-Org1.log").is_file()
    finally:
        process.stop()


def test_a_one_shot_command_returns_its_json_document(tmp_path: Path) -> None:
    process = RoleProcess(
        "compose", ["network", "compose", "--orgs", "2", "--json"], tmp_path / "logs"
    ).start()
    try:
        with pytest.raises(RoleProcessError, match="compose printed no JSON document"):
            process.result(120)  # compose prints YAML: not a JSON document
    finally:
        process.stop()


def test_a_process_never_started_has_no_exit_code(tmp_path: Path) -> None:
    with pytest.raises(RoleProcessError, match="never started"):
        RoleProcess("idle", ["version"], tmp_path).exit_code(1)
