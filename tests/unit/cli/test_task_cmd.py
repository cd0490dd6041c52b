"""`task propose --file` and `task approve` on the in-memory ledger."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from support.cli import run_cli
from support.cli_ledger import route_cli
from support.identities import make_identity
from support.keys import SAFE_2048_P, SAFE_2048_Q

from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.ledger.memory import InMemoryLedger, ManualClock
from fedledger.protocol.assets import party_id
from fedledger.roles.ledger_io import get_task, register_party

IDENTITIES = {org: make_identity(f"{org}MSP", f"user@{org}") for org in ("Org1", "Org2", "Org3")}
NO_AD = "adv-" + "0" * 32
PARTY = {org: party_id(i.msp_id, i.certificate_pem) for org, i in IDENTITIES.items()}


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> InMemoryLedger:
    """Org2 and Org3 registered as trainers (Org3 with an advertisement); Org1 proposes."""
    ledger = InMemoryLedger(clock=ManualClock())
    for org in ("Org2", "Org3"):
        kx = base64.b64encode(public_key_bytes(generate_private_key())).decode()
        register_party(ledger.contract(IDENTITIES[org]), ["trainer"], kx)
    ad = {"description": "scans", "samples": 640, "goal": "digits"}
    ledger.contract(IDENTITIES["Org3"]).submit("CreateAdvertisement", json.dumps(ad))
    route_cli(monkeypatch, ledger, IDENTITIES)
    return ledger


def _files(tmp_path: Path, ledger: InMemoryLedger, **change: object) -> list[str]:
    ads = json.loads(ledger.contract(IDENTITIES["Org1"]).evaluate("ListAdvertisements"))
    second = change.pop("second", f'advertisement = "{ads[0]["id"]}"')
    task = tmp_path / "task.toml"
    task.write_text(
        f'model = "mlp32"\nrounds = 2\nthreshold = 2\nround_seconds = 600\n'
        f'[[participants]]\nparty = "{PARTY["Org2"]}"\nsamples = 500\n'
        f'[[participants]]\nparty = "{PARTY["Org3"]}"\n{second}\n'
    )
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"p": f"{SAFE_2048_P:x}", "q": f"{SAFE_2048_Q:x}"}))
    return ["--state", str(tmp_path / "state"), "--file", str(task), "--key-file", str(key)]


def test_propose_from_a_task_file_lists_each_party_with_given_or_advertised_samples(
    ledger: InMemoryLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _files(tmp_path, ledger)

    code, out, _ = run_cli(capsys, "task", "propose", "--org", "Org1", "--json", *argv)

    assert code == 0
    result = json.loads(out)
    task = get_task(ledger.contract(IDENTITIES["Org1"]), result["task"])
    assert result["proposer"] == PARTY["Org1"] == task.proposer
    assert [(p.party, p.samples) for p in task.participants] == [
        (PARTY["Org2"], 500),
        (PARTY["Org3"], 640),
    ]
    assert (task.model, task.rounds, task.threshold, task.quorum, task.status) == (
        "mlp32", 2, 2, 2, "proposed",
    )  # fmt: skip
    for org in ("Org2", "Org3"):
        envelope = ledger.contract(IDENTITIES[org]).evaluate("GetKeyEnvelope", task.id, PARTY[org])
        assert json.loads(envelope)["envelope"]


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (f'advertisement = "{NO_AD}"', f"participants[2].advertisement {NO_AD} does not exist"),
        ("samples = 0", "participants[2].samples must be in 1.."),
    ],
)
def test_propose_refuses_a_bad_participant_before_anything_is_written(
    ledger: InMemoryLedger,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    second: str,
    message: str,
) -> None:
    argv = _files(tmp_path, ledger, second=second)
    height = ledger.height

    code, out, err = run_cli(capsys, "task", "propose", "--org", "Org1", *argv)

    assert code == 2 and out == ""
    assert message in err
    assert ledger.height == height


def test_propose_refuses_an_unregistered_party_naming_it(
    ledger: InMemoryLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = party_id("Org9MSP", make_identity("Org9MSP").certificate_pem)
    argv = _files(tmp_path, ledger, second="samples = 5")
    task_file = Path(argv[3])
    task_file.write_text(task_file.read_text().replace(PARTY["Org3"], stranger))

    code, _, err = run_cli(capsys, "task", "propose", "--org", "Org1", *argv)

    assert code == 2
    assert f"participants[2].party {stranger} is not a registered party" in err


def test_approve_checks_the_task_then_records_the_approval(
    ledger: InMemoryLedger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run_cli(
        capsys, "task", "propose", "--org", "Org1", "--json", *_files(tmp_path, ledger)
    )
    task = json.loads(out)["task"]

    code, out, _ = run_cli(
        capsys, "task", "approve", "--org", "Org2", "--task", task,
        "--coordinator", PARTY["Org1"], "--samples", "500",
    )  # fmt: skip

    assert code == 0
    assert out == f"approved {task}: 1 of 2 approvals, status proposed\n"
    assert get_task(ledger.contract(IDENTITIES["Org2"]), task).approvals == (PARTY["Org2"],)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--coordinator", "Org9MSP/" + "9" * 64],
            "who is not a coordinator this participant trusts",
        ),
        (
            ["--coordinator", PARTY["Org1"], "--samples", "501"],
            "declares 500 samples for this participant, which holds 501",
        ),
        (["--coordinator", PARTY["Org1"], "--min-quorum", "3"], "quorum 2 is below 3"),
    ],
)
def test_approve_refuses_a_task_its_policy_rejects_and_writes_nothing(
    ledger: InMemoryLedger,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    _, out, _ = run_cli(
        capsys, "task", "propose", "--org", "Org1", "--json", *_files(tmp_path, ledger)
    )
    task = json.loads(out)["task"]
    height = ledger.height

    code, _, err = run_cli(capsys, "task", "approve", "--org", "Org2", "--task", task, *extra)

    assert code == 2
    assert "TaskRefused" in err and message in err
    assert ledger.height == height
