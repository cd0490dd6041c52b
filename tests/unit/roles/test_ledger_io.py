"""Role helpers over any Contract, on the in-memory ledger."""

from __future__ import annotations

import base64

import pytest
from support.identities import make_identity
from support.raw_calls import query_or_none

from fedledger.errors import ContractError
from fedledger.ledger.memory import InMemoryLedger
from fedledger.roles.ledger_io import register_party

KX = base64.b64encode(bytes(range(32))).decode()


def test_register_party_registers_once_and_then_returns_the_existing_party() -> None:
    contract = InMemoryLedger().contract(make_identity("Org1MSP"))

    first = register_party(contract, ["trainer"], KX)
    again = register_party(contract, ["coordinator"], KX)

    assert again == first
    assert first["roles"] == ["trainer"]


def test_query_or_none_is_none_only_for_absent_things() -> None:
    contract = InMemoryLedger().contract(make_identity("Org1MSP"))

    assert query_or_none(contract, "GetTask", "task-" + "0" * 32) is None
    with pytest.raises(ContractError, match="task id must look like"):
        query_or_none(contract, "GetTask", "not-a-task")
