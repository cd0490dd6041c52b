"""The advertisement workload and its audit on the in-memory ledger (the real contract)."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
from support.identities import make_identity

from fedledger.errors import GatewayError
from fedledger.ledger.interface import Contract
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger
from fedledger.ledger.workload import audit, run_writers, writer


@pytest.fixture
def ledger() -> InMemoryLedger:
    return InMemoryLedger()


def _registered(ledger: InMemoryLedger, msp: str, user: str) -> InMemoryContract:
    contract = ledger.contract(make_identity(msp, user))
    key = base64.b64encode(bytes(32)).decode()
    contract.submit("RegisterParty", json.dumps({"roles": ["provider"], "kx_public_key": key}))
    return contract


class _Stopping:
    """A contract that stops the writer after ``writes`` submits."""

    def __init__(self, inner: Contract, stop: threading.Event, writes: int) -> None:
        self.inner, self.stop, self.left = inner, stop, writes
        self.identity = inner.identity

    def submit(self, function: str, *args: str) -> bytes:
        self.left -= 1
        if self.left <= 0:
            self.stop.set()
        return self.inner.submit(function, *args)

    def evaluate(self, function: str, *args: str) -> bytes:
        return self.inner.evaluate(function, *args)


def test_a_writer_creates_then_updates_and_every_acknowledged_write_is_on_the_ledger(
    ledger: InMemoryLedger,
) -> None:
    # Prepare
    contract = _registered(ledger, "Org1MSP", "User1@org1")
    stop = threading.Event()

    # Execute
    report = writer("w1", _Stopping(contract, stop, 7), stop, updates_per_ad=2)  # type: ignore[arg-type]
    result = audit(contract, [report])

    # Assert: create, update, update, create, update, update, create
    assert [a.kind for a in report.acks] == ["create", "update", "update"] * 2 + ["create"]
    assert [a.version for a in report.acks[:3]] == [1, 2, 3]
    assert len({a.ad_id for a in report.acks}) == 3
    assert report.failures == [] and report.stale_reads == 0
    assert (result.acknowledged, result.lost, result.duplicated) == (7, [], [])
    assert result.ok


def test_writers_of_several_orgs_run_in_threads_for_a_time(ledger: InMemoryLedger) -> None:
    # Prepare
    specs: list[tuple[str, Contract, str | None]] = [
        (f"run-Org{i}", _registered(ledger, f"Org{i}MSP", f"User1@org{i}"), None) for i in (1, 2)
    ]

    # Execute
    reports = run_writers(specs, 0.2)

    # Assert
    assert [r.name for r in reports] == ["run-Org1", "run-Org2"]
    assert all(r.acks and not r.failures for r in reports)
    assert audit(specs[0][1], reports).ok


def test_writers_sharing_an_advertisement_only_update_it(ledger: InMemoryLedger) -> None:
    # Prepare
    contract = _registered(ledger, "Org1MSP", "User1@org1")
    ad = json.loads(
        contract.submit(
            "CreateAdvertisement", json.dumps({"description": "d", "samples": 1, "goal": "g"})
        )
    )

    # Execute
    reports = run_writers([("a", contract, ad["id"]), ("b", contract, ad["id"])], 0.2)

    # Assert
    assert {a.kind for r in reports for a in r.acks} == {"update"}
    assert {a.ad_id for r in reports for a in r.acks} == {ad["id"]}
    assert audit(contract, reports).ok


class _CommitsTwice:
    """A broken client: every create is committed twice under two transaction ids."""

    def __init__(self, inner: InMemoryContract) -> None:
        self.inner = inner
        self.identity = inner.identity

    def submit(self, function: str, *args: str) -> bytes:
        if function == "CreateAdvertisement":
            self.inner.submit(function, *args)
        return self.inner.submit(function, *args)

    def evaluate(self, function: str, *args: str) -> bytes:
        return self.inner.evaluate(function, *args)


class _AcksWithoutCommitting:
    """A broken client: updates are acknowledged with a record that was never committed."""

    def __init__(self, inner: InMemoryContract) -> None:
        self.inner = inner
        self.identity = inner.identity

    def submit(self, function: str, *args: str) -> bytes:
        if function != "UpdateAdvertisement":
            return self.inner.submit(function, *args)
        record: dict[str, Any] = json.loads(self.inner.evaluate("GetAdvertisement", args[0]))
        record.update(version=record["version"] + 1, updated_tx="f" * 64)
        return json.dumps(record).encode()

    def evaluate(self, function: str, *args: str) -> bytes:
        return self.inner.evaluate(function, *args)


@pytest.mark.parametrize(
    ("broken", "field"),
    [(_CommitsTwice, "duplicated"), (_AcksWithoutCommitting, "lost")],
)
def test_the_audit_finds_a_write_committed_twice_and_one_acknowledged_but_lost(
    ledger: InMemoryLedger, broken: Any, field: str
) -> None:
    # Prepare
    contract = _registered(ledger, "Org1MSP", "User1@org1")
    stop = threading.Event()

    # Execute
    report = writer("w", _Stopping(broken(contract), stop, 2), stop)  # type: ignore[arg-type]
    result = audit(contract, [report])

    # Assert
    assert not result.ok
    assert getattr(result, field) == (["w#1"] if field == "duplicated" else ["w#2"])


class _Unreachable:
    identity = make_identity("Org1MSP", "User1@org1")

    def submit(self, function: str, *args: str) -> bytes:
        raise GatewayError("endorse", "UNAVAILABLE: connection refused")

    def evaluate(self, function: str, *args: str) -> bytes:
        raise GatewayError("evaluate", "UNAVAILABLE: connection refused")


def test_a_failed_write_is_reported_and_the_writer_goes_on() -> None:
    # Execute
    reports = run_writers([("w", _Unreachable(), None)], 0.1)  # type: ignore[list-item]

    # Assert
    (report,) = reports
    assert report.acks == []
    assert report.failures and report.failures[0].marker == "w#1"
    assert report.failures[0].error == "endorse failed: UNAVAILABLE: connection refused"
