"""What the audit view shows, read from the ledger through one org's identity: plain JSON.

Each function takes a ``Contract`` (Gateway or in-memory) and returns JSON-ready values; none
writes. A round carries, besides its record, the links to the history of every asset it made:
``{"label", "type", "key": [parts]}``, the arguments of GetHistory.
"""

from __future__ import annotations

from typing import Any

from fedledger.contract import parties, training
from fedledger.ledger.interface import Contract
from fedledger.protocol.rounds import (
    ACCURACY_REPORT_TYPE,
    AGGREGATE_TYPE,
    DECRYPTION_SHARE_TYPE,
    ROUND_TYPE,
    UPDATE_TYPE,
    round_key,
)
from fedledger.protocol.training import TASK_TYPE

__all__ = ["history", "task_list", "task_view"]

HIDDEN_TASK_FIELDS = ("threshold_public", "public_key")


def task_list(contract: Contract) -> list[dict[str, Any]]:
    """Every task's summary (all pages of ListTasks), newest proposal first."""
    tasks = [summary.to_dict() for summary in training.list_tasks(contract, page_size=100)]
    return sorted(tasks, key=lambda t: (-t["proposed_at"], t["id"]))


def task_view(contract: Contract, task_id: str) -> dict[str, Any]:
    """A task with every round opened so far (GetTask, then GetRound per round).

    Raises AssetNotFound for an unknown task.
    """
    task = training.get_task(contract, task_id).to_dict()
    shown = {k: v for k, v in task.items() if k not in HIDDEN_TASK_FIELDS}
    shown["key_bits"] = task["public_key"]["bits"]
    shown["key_fingerprint"] = task["public_key"]["fingerprint"]
    shown["history"] = [_link("task", TASK_TYPE, task_id)]
    numbers = [r.round for r in training.list_rounds(contract, task_id)]
    shown["round_views"] = [
        _round(training.get_round(contract, task_id, n).to_dict()) for n in numbers
    ]
    return shown


def _link(label: str, object_type: str, *parts: str) -> dict[str, Any]:
    return {"label": label, "type": object_type, "key": list(parts)}


def _round(view: dict[str, Any]) -> dict[str, Any]:
    record = view["round"]
    task, number = record["task_id"], round_key(record["round"])
    links = [_link("round", ROUND_TYPE, task, number)]
    if record.get("aggregate"):
        links.append(_link("aggregate", AGGREGATE_TYPE, task, number))
    for kind, object_type, items in (
        ("update", UPDATE_TYPE, view["submissions"]),
        ("share", DECRYPTION_SHARE_TYPE, view["shares"]),
        ("report", ACCURACY_REPORT_TYPE, view["reports"]),
    ):
        links.extend(
            _link(f"{kind} of {item['party']}", object_type, task, number, item["party"])
            for item in items
        )
    return {
        **record,
        "submissions": view["submissions"],
        "shares": view["shares"],
        "reports": view["reports"],
        "history": links,
    }


def history(contract: Contract, object_type: str, parts: list[str]) -> list[dict[str, Any]]:
    """Every committed version of the asset (object_type, parts), newest first (GetHistory)."""
    return parties.get_history(contract, object_type, parts)
