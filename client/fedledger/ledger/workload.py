"""A transaction workload of advertisement writes, and the check that nothing acknowledged is lost.

Each writer is one client (a Contract of one identity) in its own thread: it creates an
advertisement, updates it a few times, reads every write back, and starts a new one. Every write
carries a marker ``<writer>#<n>`` in its description, so afterwards the ledger itself says
whether a write that the client was told had committed is there (nothing lost) and whether any
write is there twice (a retry must never commit the same change again under a new transaction
id). Several writers may share an identity and an advertisement (``shared``): their updates
then conflict at commit (MVCC_READ_CONFLICT) and the client's rebuild resolves them.

Used by the fault tests (tests/integration) and the load benchmark (benchmarks/load.py).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fedledger.contract import parties
from fedledger.errors import ContractError, FedLedgerError
from fedledger.ledger.interface import Contract
from fedledger.protocol.asset_requests import AdvertisementRequest
from fedledger.protocol.assets import ADVERTISEMENT_TYPE, AdvertisementRecord

__all__ = [
    "Ack",
    "Audit",
    "Failure",
    "WriterReport",
    "audit",
    "marker_of",
    "run_writers",
    "writer",
]

GOAL = "workload"


@dataclass(frozen=True)
class Ack:
    """A write the client was told had committed."""

    writer: str
    marker: str
    kind: str  # "create" or "update"
    ad_id: str
    tx_id: str
    version: int
    started: float  # monotonic seconds
    latency: float


@dataclass(frozen=True)
class Failure:
    """A write or read that raised after the client's own retries."""

    writer: str
    marker: str
    kind: str
    at: float
    error: str


@dataclass
class WriterReport:
    """What one writer did."""

    name: str
    acks: list[Ack] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    read_latencies: list[float] = field(default_factory=list)
    stale_reads: int = 0  # a read-back that did not yet show the acknowledged version
    stale_endorsements: int = 0  # an update rejected by a peer that had not seen the ad yet


def marker_of(record: dict[str, Any]) -> str:
    """The workload marker a stored advertisement carries ("" for other advertisements)."""
    description = str(record.get("description", ""))
    return description.split(" ", 1)[0] if record.get("goal") == GOAL else ""


def _request(marker: str, n: int) -> AdvertisementRequest:
    return AdvertisementRequest(description=f"{marker} workload write", samples=n, goal=GOAL)


def writer(
    name: str,
    contract: Contract,
    stop: threading.Event,
    *,
    updates_per_ad: int = 3,
    shared_ad: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> WriterReport:
    """Write until ``stop`` is set; return the report. Never raises for a failed write.

    Without ``shared_ad`` the writer creates its own advertisements and updates each
    ``updates_per_ad`` times; with it, it only updates that one (owned by its identity).
    """
    report = WriterReport(name)
    ad_id, updates, n = shared_ad, 0, 0
    while not stop.is_set():
        n += 1
        marker = f"{name}#{n}"
        create = shared_ad is None and (ad_id is None or updates >= updates_per_ad)
        kind = "create" if create else "update"
        started = clock()
        try:
            if create:
                record = parties.create_advertisement(contract, _request(marker, n))
            else:
                record = _update(contract, report, str(ad_id), _request(marker, n), stop)
        except FedLedgerError as exc:
            report.failures.append(Failure(name, marker, kind, started, str(exc)))
            stop.wait(0.5)
            continue
        tx_id = record.created_tx if create else record.updated_tx
        ack = Ack(name, marker, kind, record.id, tx_id, record.version, started, 0.0)
        ack = dataclasses.replace(ack, latency=clock() - started)
        report.acks.append(ack)
        ad_id, updates = record.id, 0 if create else updates + 1
        _read_back(contract, report, ack, clock)
    return report


STALE_RETRIES = 20


def _update(
    contract: Contract,
    report: WriterReport,
    ad_id: str,
    request: AdvertisementRequest,
    stop: threading.Event,
) -> AdvertisementRecord:
    """UpdateAdvertisement of an advertisement this writer saw committed.

    MAJORITY endorsement runs the update on peers of other orgs too, and one of them may be some
    blocks behind the peer that confirmed the create (Fabric promises no read-your-writes
    across peers; after a fault the lag grows). Such a peer rejects the update ("... does not
    exist"); nothing was ordered, so the update is endorsed afresh once the peer has caught up
    (bounded, counted in the report).
    """
    for _ in range(STALE_RETRIES):
        try:
            return parties.update_advertisement(contract, ad_id, request)
        except ContractError as exc:
            if exc.message != f"advertisement {ad_id} does not exist":
                raise
            report.stale_endorsements += 1
            stop.wait(0.25)
    return parties.update_advertisement(contract, ad_id, request)


def _read_back(
    contract: Contract, report: WriterReport, ack: Ack, clock: Callable[[], float]
) -> None:
    started = clock()
    try:
        stored = parties.get_advertisement(contract, ack.ad_id)
    except FedLedgerError as exc:
        report.failures.append(Failure(report.name, ack.marker, "read", started, str(exc)))
        return
    report.read_latencies.append(clock() - started)
    if stored.version < ack.version:
        report.stale_reads += 1


def run_writers(
    writers: Sequence[tuple[str, Contract, str | None]],
    seconds: float,
    *,
    updates_per_ad: int = 3,
    during: Callable[[], None] | None = None,
) -> list[WriterReport]:
    """Run writers ``(name, contract, shared_ad)`` in threads for ``seconds``; return reports.

    ``during``, when given, runs in the calling thread while the writers write (a fault, say);
    the writers stop ``seconds`` after it returns. An exception from ``during`` stops the
    writers and is raised after they have finished.
    """
    stop = threading.Event()
    reports: dict[str, WriterReport] = {}

    def run(name: str, contract: Contract, shared: str | None) -> None:
        reports[name] = writer(
            name, contract, stop, updates_per_ad=updates_per_ad, shared_ad=shared
        )

    threads = [
        threading.Thread(target=run, args=spec, name=f"writer-{spec[0]}", daemon=True)
        for spec in writers
    ]
    for thread in threads:
        thread.start()
    try:
        if during is not None:
            during()
        stop.wait(seconds)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return [reports[name] for name, _, _ in writers]


@dataclass(frozen=True)
class Audit:
    """What the ledger holds of a workload's writes (see :func:`audit`)."""

    acknowledged: int
    lost: list[str]  # acknowledged markers whose transaction is not the one the ledger holds
    duplicated: list[str]  # markers the ledger holds more than once
    unacknowledged: list[str]  # markers on the ledger whose write the client saw fail

    @property
    def ok(self) -> bool:
        """True when nothing acknowledged is lost and nothing is on the ledger twice."""
        return not self.lost and not self.duplicated


def audit(contract: Contract, reports: Iterable[WriterReport]) -> Audit:
    """Compare the workload's acknowledged writes with every version the ledger holds.

    Reads each written advertisement's history (GetHistory), and the list of advertisements
    for creates that failed for the client, through ``contract``. Only the markers of these
    reports' writers count, so writer names must be unique to the run. Raises LedgerError when
    the ledger cannot be read.
    """
    reports = list(reports)
    names = {report.name for report in reports}
    acked = {ack.marker: ack for report in reports for ack in report.acks}
    ad_ids = sorted({ack.ad_id for ack in acked.values()})
    held: dict[str, list[str]] = {}  # marker -> transaction ids that hold it

    def hold(record: dict[str, Any], tx_id: str) -> None:
        marker = marker_of(record)
        if marker and marker.rsplit("#", 1)[0] in names:
            held.setdefault(marker, []).append(tx_id)

    for ad_id in ad_ids:
        for entry in parties.get_history(contract, ADVERTISEMENT_TYPE, [ad_id]):
            hold(entry.get("value") or {}, entry["tx_id"])
    # A create that failed for the client may still have made an advertisement of its own.
    for record in parties.list_advertisements(contract):
        if record.id not in ad_ids:
            hold(record.to_dict(), record.created_tx)
    lost = sorted(m for m, ack in acked.items() if ack.tx_id not in held.get(m, []))
    duplicated = sorted(m for m, txs in held.items() if len(txs) > 1)
    unacknowledged = sorted(m for m in held if m not in acked)
    return Audit(len(acked), lost, duplicated, unacknowledged)
