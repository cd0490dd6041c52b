"""Raw chaincode calls by wire name with JSON answers, for tests that probe the contract itself.

The library calls the chaincode only through the typed client (``fedledger.contract``); tests
that want the answer as the chaincode wrote it use these.
"""

from __future__ import annotations

import json
from typing import Any

from fedledger.errors import AssetNotFound
from fedledger.ledger.interface import Contract


def query(contract: Contract, function: str, *args: str) -> Any:
    """Evaluate ``function`` and decode its JSON answer."""
    return json.loads(contract.evaluate(function, *args))


def query_or_none(contract: Contract, function: str, *args: str) -> Any:
    """Like :func:`query`, but None when the chaincode says the asset does not exist (404)."""
    try:
        return query(contract, function, *args)
    except AssetNotFound:
        return None


def submit(contract: Contract, function: str, *args: str) -> Any:
    """Submit ``function`` and decode its JSON answer."""
    return json.loads(contract.submit(function, *args))
