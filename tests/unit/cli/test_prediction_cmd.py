"""`fedledger offer|provider|prediction` on the in-memory ledger: sentences, --json, clear errors.

The consortium's task (model ``tiny``, a ReLU MLP) is active; Org2 is the seller, the registered
stranger (Org9) the consumer. ``predict`` itself needs a provider endpoint and the network's TLS
material; tests/integration/test_prediction_paid_live.py runs it on the real network.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.cli import run_cli
from support.consortium import Consortium

from fedledger.cli import ledger_cmd
from fedledger.cli.paths import Paths
from fedledger.ledger.memory import InMemoryContract
from fedledger.protocol.assets import party_id


@pytest.fixture
def consortium(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Consortium, str]]:
    """The consortium with an active task, reached by the CLI as --org Org1..3 or Org9."""
    with Consortium() as made:
        task_id = made.propose()
        for member in made.members:
            member.role.join(task_id, timeout=1)
        stranger = made.stranger.identity
        made.members[0].contract.submit(
            "Mint", party_id(stranger.msp_id, stranger.certificate_pem), "50"
        )
        contracts = {f"Org{i}": m.contract for i, m in enumerate(made.members, start=1)}
        contracts["Org9"] = made.stranger

        @contextmanager
        def contract_for(paths: Paths, args: argparse.Namespace) -> Iterator[InMemoryContract]:
            yield contracts[args.org]

        monkeypatch.setattr(ledger_cmd, "contract_for", contract_for)
        yield made, task_id


def _create(task_id: str, *extra: str) -> list[str]:
    return ["offer", "create", "--org", "Org2", "--task", task_id, "--price", "10",
            "--endpoint", "127.0.0.1:7443", *extra]  # fmt: skip


def test_offer_create_list_and_withdraw_print_sentences_and_json(
    consortium: tuple[Consortium, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Prepare
    _, task_id = consortium

    # Execute
    code, created, _ = run_cli(capsys, *_create(task_id, "--fee-bp", "2500", "--json"))
    offer = json.loads(created)
    listed = run_cli(capsys, "offer", "list", "--task", task_id, "--org", "Org9")
    withdrawn = run_cli(capsys, "offer", "withdraw", offer["id"], "--org", "Org2")
    _, after, _ = run_cli(capsys, "offer", "list", "--all", "--json", "--org", "Org9")

    # Assert
    assert code == 0
    assert (offer["price"], offer["fee_bp"], offer["round"], offer["status"]) == (
        10,
        2500,
        0,
        "open",
    )
    assert listed[0] == 0 and offer["id"] in listed[1] and "25%" in listed[1]
    assert withdrawn == (0, f"withdrew {offer['id']}\n", "")
    assert [o["status"] for o in json.loads(after)] == ["withdrawn"]


def test_an_offer_by_a_non_participant_fails_with_the_chaincodes_message(
    consortium: tuple[Consortium, str], capsys: pytest.CaptureFixture[str]
) -> None:
    made, task_id = consortium
    stranger = made.stranger.identity

    code, out, err = run_cli(capsys, *_create(task_id), "--org", "Org9")

    assert (code, out) == (2, "")
    assert err.startswith(
        "fedledger: rejected by the chaincode: party "
        f"{party_id(stranger.msp_id, stranger.certificate_pem)} is not a participant of {task_id}"
    )


def test_serving_a_relu_model_is_refused_with_the_reason(
    consortium: tuple[Consortium, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, task_id = consortium

    code, _, err = run_cli(
        capsys, "provider", "serve", "--org", "Org2", "--task", task_id, "--price", "5",
        "--state", str(tmp_path),
    )  # fmt: skip

    assert code == 2
    assert err == (
        "fedledger: InferenceError: model tiny uses a relu activation, which encrypted prediction "
        "cannot evaluate; train the task with a quadratic-activation model such as mlp32q\n"
    )


def test_a_request_is_shown_and_reclaimed_after_its_deadline(
    consortium: tuple[Consortium, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Prepare: the consumer pays for a prediction nobody answers
    made, task_id = consortium
    _, created, _ = run_cli(capsys, *_create(task_id, "--json"))
    offer_id = json.loads(created)["id"]
    paid = json.loads(made.stranger.submit("RequestPrediction", offer_id, "a" * 64, "30"))
    early = run_cli(capsys, "prediction", "reclaim", paid["id"], "--org", "Org9")
    made.clock.advance(30)

    # Execute
    shown = run_cli(capsys, "prediction", "show", paid["id"], "--org", "Org9")
    reclaimed = run_cli(capsys, "prediction", "reclaim", paid["id"], "--org", "Org9")

    # Assert
    assert early[0] == 2 and "cannot be reclaimed at" in early[2]
    assert shown[1].startswith(f"{paid['id']}: open, 10 credits for offer {offer_id}")
    assert reclaimed == (0, f"reclaimed 10 credits of {paid['id']}\n", "")
