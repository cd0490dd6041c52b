"""GetHistory: the committed modifications of any asset key, for audits.

Returns records newest first (Fabric's order since v2.0): ``{"tx_id", "timestamp": {"seconds",
"nanos"}, "is_delete", "value"}`` where ``value`` is the stored JSON (``null`` for a delete). A key
that never existed has an empty history.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from fedledger.protocol.canonical import dumps, parse_array, quote, show
from fedledger.protocol.errors import ProtocolError
from fedledger_chaincode.core.context import HistoryRecord, TransactionContext, create_composite_key
from fedledger_chaincode.core.router import Router, TransactionFunction

__all__ = ["register"]


def _record_json(record: HistoryRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "tx_id": record.tx_id,
        "timestamp": {"seconds": record.timestamp.seconds, "nanos": record.timestamp.nanos},
        "is_delete": record.is_delete,
        "value": None,
    }
    if record.value:
        try:
            entry["value"] = json.loads(record.value)
        except ValueError:
            # Every value this chaincode writes is JSON; keep anything else readable, not lost.
            entry["value_base64"] = base64.b64encode(record.value).decode("ascii")
    return entry


def _history_function(object_types: frozenset[str]) -> TransactionFunction:
    async def get_history(ctx: TransactionContext, object_type: str, key_parts_json: str) -> bytes:
        """GetHistory: the history of the asset (object_type, key parts), newest first."""
        if object_type not in object_types:
            known = ", ".join(sorted(object_types))
            raise ProtocolError(
                f"unknown object type {quote(object_type)}; known types are {known}"
            )
        parts = parse_array(key_parts_json, "argument 2")
        if not parts:
            raise ProtocolError("argument 2 must name at least one key part")
        for part in parts:
            if not isinstance(part, str):
                raise ProtocolError(f"key parts must be strings, got {show(part)}")
        records = await ctx.history(create_composite_key(object_type, parts))
        return dumps([_record_json(r) for r in records])

    return get_history


def register(router: Router) -> None:
    """Route GetHistory; call it last so that every object type is already declared."""
    router.add("GetHistory", _history_function(router.object_types))
