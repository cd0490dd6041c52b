"""Training: tasks, initial weights, key envelopes, rounds, updates, shares, results.

One function per transaction of the chaincode's training room; requests are the records of
:mod:`fedledger.protocol.task_requests` and :mod:`fedledger.protocol.round_requests`, answers
the records of :mod:`fedledger.protocol.task_records` and :mod:`fedledger.protocol.round_records`.
"""

from __future__ import annotations

import base64

from fedledger.contract.lookup import or_none
from fedledger.contract.paging import all_pages, records_of
from fedledger.ledger.interface import Contract
from fedledger.protocol.round_records import (
    AggregateRecord,
    CurrentModelRecord,
    KeyEnvelopeRecord,
    ModelWeightsRecord,
    ReportOutcome,
    RoundRecord,
    RoundView,
    ShareRecord,
    ShareSummary,
    UpdateRecord,
    UpdateSummary,
)
from fedledger.protocol.round_requests import ResultRequest, UpdateRequest
from fedledger.protocol.task_records import TaskRecord, TaskSummary
from fedledger.protocol.task_requests import TaskListing, TaskPage, TaskProposal
from fedledger.protocol.training import DEFAULT_PAGE_SIZE

__all__ = [
    "approve_task",
    "close_round",
    "fail_round",
    "find_round",
    "get_aggregate",
    "get_current_model",
    "get_decryption_share",
    "get_decryption_shares",
    "get_key_envelope",
    "get_model_weights",
    "get_round",
    "get_task",
    "get_update",
    "list_rounds",
    "list_task_page",
    "list_tasks",
    "open_round",
    "propose_task",
    "put_key_envelope",
    "put_model_weights",
    "report_result",
    "submit_decryption_share",
    "submit_update",
]


def propose_task(contract: Contract, proposal: TaskProposal) -> TaskRecord:
    """Propose a task (the caller becomes its coordinator); returns the stored task."""
    return TaskRecord.from_bytes(contract.submit("ProposeTask", proposal.to_text()))


def approve_task(contract: Contract, task_id: str) -> TaskRecord:
    """Approve a task one participates in; the last approval activates it. Returns the task."""
    return TaskRecord.from_bytes(contract.submit("ApproveTask", task_id))


def get_task(contract: Contract, task_id: str) -> TaskRecord:
    """The stored task; raises AssetNotFound for an unknown task."""
    return TaskRecord.from_bytes(contract.evaluate("GetTask", task_id))


def list_task_page(contract: Contract, listing: TaskListing) -> TaskPage:
    """One page of task summaries (the listing's bookmark says where it starts)."""
    return TaskPage.from_bytes(contract.evaluate("ListTasks", listing.to_text()))


def list_tasks(
    contract: Contract, participant: str | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
) -> list[TaskSummary]:
    """Every task's summary in task-id order (every page), or only the tasks naming
    ``participant``."""

    def read(bookmark: str | None) -> tuple[list[TaskSummary], str | None]:
        page = list_task_page(contract, TaskListing(participant, page_size, bookmark))
        return list(page.tasks), page.bookmark

    return list(all_pages(read))


def put_model_weights(contract: Contract, task_id: str, weights: bytes) -> None:
    """Store a task's initial weights (float32 little-endian); its proposer only, once."""
    contract.submit("PutModelWeights", task_id, base64.b64encode(weights).decode("ascii"))


def get_model_weights(contract: Contract, task_id: str) -> ModelWeightsRecord:
    """A task's initial weights; raises AssetNotFound before they are stored."""
    return ModelWeightsRecord.from_bytes(contract.evaluate("GetModelWeights", task_id))


def put_key_envelope(contract: Contract, task_id: str, recipient: str, envelope: bytes) -> None:
    """Store key material sealed to ``recipient``; the task's proposer only, once each."""
    encoded = base64.b64encode(envelope).decode("ascii")
    contract.submit("PutKeyEnvelope", task_id, recipient, encoded)


def get_key_envelope(contract: Contract, task_id: str, party: str) -> KeyEnvelopeRecord:
    """The key material sealed to ``party``; raises AssetNotFound when there is none."""
    return KeyEnvelopeRecord.from_bytes(contract.evaluate("GetKeyEnvelope", task_id, party))


def open_round(contract: Contract, task_id: str, number: int) -> RoundRecord:
    """Open round ``number`` (round 1 only; later rounds open as their predecessor ends)."""
    return RoundRecord.from_bytes(contract.submit("OpenRound", task_id, str(number)))


def close_round(contract: Contract, task_id: str, number: int) -> RoundRecord:
    """Close a round: the chaincode aggregates its updates. Returns the closed round."""
    return RoundRecord.from_bytes(contract.submit("CloseRound", task_id, str(number)))


def fail_round(contract: Contract, task_id: str, number: int) -> RoundRecord:
    """Fail a round that can no longer succeed; returns the failed round."""
    return RoundRecord.from_bytes(contract.submit("FailRound", task_id, str(number)))


def get_round(contract: Contract, task_id: str, number: int) -> RoundView:
    """The round with its submissions, shares and reports; AssetNotFound before it opens."""
    return RoundView.from_bytes(contract.evaluate("GetRound", task_id, str(number)))


def find_round(contract: Contract, task_id: str, number: int) -> RoundView | None:
    """Like :func:`get_round`, but None when the round has not been opened yet."""
    return or_none(lambda: get_round(contract, task_id, number))


def list_rounds(contract: Contract, task_id: str) -> list[RoundRecord]:
    """Every round record of a task, in round order."""
    return records_of(RoundRecord, contract.evaluate("ListRounds", task_id))


def get_aggregate(contract: Contract, task_id: str, number: int) -> AggregateRecord:
    """The round's aggregate with its vector; raises AssetNotFound while the round is open."""
    return AggregateRecord.from_bytes(contract.evaluate("GetAggregate", task_id, str(number)))


def submit_update(
    contract: Contract, task_id: str, number: int, request: UpdateRequest
) -> UpdateSummary:
    """Submit the caller's encrypted, proven update; returns its stored summary."""
    raw = contract.submit("SubmitUpdate", task_id, str(number), request.to_text())
    return UpdateSummary.from_bytes(raw)


def get_update(contract: Contract, task_id: str, number: int, party: str) -> UpdateRecord:
    """One party's stored update with its vector and proof; AssetNotFound when there is none."""
    raw = contract.evaluate("GetUpdate", task_id, str(number), party)
    return UpdateRecord.from_bytes(raw)


def submit_decryption_share(contract: Contract, task_id: str, number: int, share: str) -> None:
    """Submit the caller's decryption share (base64) of a closed round's aggregate."""
    contract.submit("SubmitDecryptionShare", task_id, str(number), share)


def get_decryption_share(contract: Contract, task_id: str, number: int, party: str) -> ShareRecord:
    """One party's verified share with its values; AssetNotFound when there is none."""
    raw = contract.evaluate("GetDecryptionShare", task_id, str(number), party)
    return ShareRecord.from_bytes(raw)


def get_decryption_shares(contract: Contract, task_id: str, number: int) -> list[ShareSummary]:
    """The round's share summaries in party-id order (without the shares)."""
    return records_of(ShareSummary, contract.evaluate("GetDecryptionShares", task_id, str(number)))


def report_result(
    contract: Contract, task_id: str, number: int, request: ResultRequest
) -> ReportOutcome:
    """Report the caller's outcome of a round; returns the report and the round after it."""
    raw = contract.submit("ReportResult", task_id, str(number), request.to_text())
    return ReportOutcome.from_bytes(raw)


def get_current_model(contract: Contract, task_id: str) -> CurrentModelRecord:
    """The task's current global model: digest, source, round, median accuracy, plan."""
    return CurrentModelRecord.from_bytes(contract.evaluate("GetCurrentModel", task_id))
