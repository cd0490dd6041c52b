"""Admin queries, events and model export on a whole task the real roles ran in memory."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from support.cli import run_cli
from support.cli_ledger import route_cli
from support.consortium import Consortium, run_whole_task

from fedledger.cli.paths import Paths
from fedledger.ledger.identity import Identity
from fedledger.roles.ledger_io import get_round
from fedledger.roles.training.checkpoints import ModelStore

# Slow: the module's fixture runs a whole task on the in-memory ledger first (about 13 s).
pytestmark = pytest.mark.slow


@dataclass
class Finished:
    consortium: Consortium
    task: str
    identities: dict[str, Identity]
    state: Path
    advertisement: str


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Finished]:
    """A 2-round task run to its end; Org1's participant keeps its adopted models in the state."""
    state = tmp_path_factory.mktemp("state")
    with Consortium() as consortium:
        store = ModelStore(Paths(state, state, state).models("Org1", "User1"))
        consortium.members[0].role.checkpoints = store
        task = consortium.propose()
        run_whole_task(consortium, task)
        ad = {"description": "scans", "samples": 40, "goal": "digits", "labels": {"3": 40}}
        advert = json.loads(
            consortium.members[0].contract.submit("CreateAdvertisement", json.dumps(ad))
        )
        identities = {"Org0": consortium.coordinator_contract.identity}
        for index, member in enumerate(consortium.members, start=1):
            identities[f"Org{index}"] = member.contract.identity
        yield Finished(consortium, task, identities, state, advert["id"])


@pytest.fixture
def done(finished: Finished, monkeypatch: pytest.MonkeyPatch) -> Finished:
    route_cli(monkeypatch, finished.consortium.ledger, finished.identities)
    return finished


def test_query_tasks_lists_the_task_with_its_status(
    done: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "query", "tasks", "--org", "Org2", "--json")
    _, text, _ = run_cli(capsys, "query", "tasks", "--org", "Org2")

    assert code == 0
    listing = json.loads(out)
    assert [(t["id"], t["status"]) for t in listing["tasks"]] == [(done.task, "finished")]
    assert listing["bookmark"] is None
    assert done.task in text and "finished" in text


def test_query_tasks_pages_with_a_bookmark_and_reads_every_page_with_all(
    done: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    second = done.consortium.propose()

    _, first, _ = run_cli(capsys, "query", "tasks", "--page-size", "1", "--json")
    page = json.loads(first)
    _, rest, _ = run_cli(
        capsys, "query", "tasks", "--page-size", "1", "--bookmark", page["bookmark"], "--json"
    )
    _, everything, _ = run_cli(capsys, "query", "tasks", "--page-size", "1", "--all", "--json")

    assert len(page["tasks"]) == 1 and page["bookmark"] == page["tasks"][0]["id"]
    ids = {page["tasks"][0]["id"], json.loads(rest)["tasks"][0]["id"]}
    assert ids == {done.task, second}
    assert {t["id"] for t in json.loads(everything)["tasks"]} == {done.task, second}


def test_query_aggregate_writes_the_bytes_whose_sha256_is_the_recorded_digest(
    done: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "aggregate.bin"

    code, out, _ = run_cli(
        capsys, "query", "aggregate", "--task", done.task, "--round", "1", "--out", str(out_file)
    )

    view = get_round(done.consortium.coordinator_contract, done.task, 1)
    assert view is not None and view.round.aggregate is not None
    digest = view.round.aggregate.digest
    assert code == 0
    assert hashlib.sha256(out_file.read_bytes()).hexdigest() == digest
    assert f"digest {digest}" in out
    assert f"sha256sum {out_file}" in out
    for party in view.round.aggregate.contributors:
        assert party in out


def test_query_update_writes_one_partys_update_and_json_leaves_out_the_vector(
    done: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    party = done.consortium.members[1].party["id"]
    out_file = tmp_path / "update.bin"

    code, out, _ = run_cli(
        capsys, "query", "update", "--task", done.task, "--round", "2", "--party", party,
        "--out", str(out_file), "--json",
    )  # fmt: skip

    record = json.loads(out)
    assert code == 0
    assert record["party"] == party and "vector" not in record and "proof" not in record
    assert hashlib.sha256(out_file.read_bytes()).hexdigest() == record["digest"]
    assert record["size"] == out_file.stat().st_size


def test_query_aggregate_of_an_unknown_round_is_a_one_line_error(
    done: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "query", "aggregate", "--task", done.task, "--round", "9")

    assert code == 2 and out == ""
    assert err.startswith("fedledger: rejected by the chaincode: ")
    assert err.count("\n") == 1


def test_query_advertisement_shows_its_owner_samples_and_labels(
    done: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "query", "advertisement", done.advertisement)

    owner = done.consortium.members[0].party["id"]
    assert code == 0
    assert out.splitlines() == [
        f"{done.advertisement} by {owner} (active, version 1)",
        "40 samples: scans; goal: digits",
        "labels: 3: 40",
    ]


def test_events_print_the_tasks_history_and_resume_from_a_checkpoint_without_repeats(
    done: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "events.json"
    argv = ["events", "--json", "--wait", "0.3", "--checkpoint", str(checkpoint)]

    code, first, _ = run_cli(capsys, *argv)
    _, again, _ = run_cli(capsys, *argv)
    done.consortium.members[0].contract.submit(
        "WithdrawAdvertisement", done.advertisement
    )  # one more event
    _, after, _ = run_cli(capsys, *argv)

    events = [json.loads(line) for line in first.splitlines()]
    names = [e["name"] for e in events]
    assert code == 0
    assert names[0] == "PartyRegistered"
    assert {"TaskProposed", "TaskActivated", "RoundOpened", "RoundClosed"} <= set(names)
    assert names.count("UpdateSubmitted") == 6  # three participants, two rounds
    assert again == ""
    assert [json.loads(line)["name"] for line in after.splitlines()] == ["AdvertisementWithdrawn"]


def test_model_export_writes_the_current_model_as_a_keras_file_that_loads(
    done: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fedledger.learning.runtime import import_keras
    from fedledger.learning.weights import get_weight_vector

    out_file = tmp_path / "model.keras"
    current = json.loads(
        done.consortium.coordinator_contract.evaluate("GetCurrentModel", done.task)
    )

    code, out, _ = run_cli(
        capsys, "model", "export", "--org", "Org1", "--state", str(done.state),
        "--task", done.task, "--out", str(out_file), "--json",
    )  # fmt: skip

    result = json.loads(out)
    loaded = import_keras().models.load_model(out_file)
    exported = get_weight_vector(loaded)
    assert code == 0
    assert (result["round"], result["weights_hash"]) == (current["round"], current["weights_hash"])
    digest = hashlib.sha256(np.asarray(exported, dtype="<f4").tobytes()).hexdigest()
    assert digest == current["weights_hash"]


def test_model_export_refuses_a_model_that_is_not_the_ledgers_naming_both_digests(
    done: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ModelStore(Paths(done.state, done.state, done.state).models("Org2", "User1"))
    view = get_round(done.consortium.coordinator_contract, done.task, 1)
    assert view is not None
    if view.round.status != "accepted" or view.round.result is None:
        pytest.skip("round 1 was not accepted in this run")
    expected = view.round.result.weights_hash
    stale = store.save(done.task, 1, np.full(8_000, 0.5))

    code, out, err = run_cli(
        capsys, "model", "export", "--org", "Org2", "--state", str(done.state),
        "--task", done.task, "--round", "1", "--out", str(tmp_path / "m.keras"),
    )  # fmt: skip

    assert code == 2 and out == ""
    assert f"hashes to {stale.weights_hash}, the ledger records {expected}" in err
    assert not (tmp_path / "m.keras").exists()
