"""Mint, Transfer, BalanceOf, TotalSupply, TokenInfo, TokenAudit: every rule and error branch.

Org1MSP is the minter (the default contract setting). Org1, Org2 and Org3 are registered; Org1's
second user is not, so it is the outsider. Every rejection is followed by a no-change check
(``reject``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cc_helpers import reject
from token_helpers import audit, balance, register

from fedledger.errors import ContractError
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger, ManualClock
from fedledger.protocol.assets import party_id
from fedledger.protocol.fields import MAX_INT64
from fedledger.protocol.tokens import escrow_account, parse_transfer_event
from fedledger_chaincode.core.config import ContractConfig


@pytest.fixture
def ids(ledger: InMemoryLedger, org1: Identity, org2: Identity, org3: Identity) -> list[str]:
    return register(ledger, org1, org2, org3)


def _submit(ledger: InMemoryLedger, identity: Identity, *call: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(ledger.contract(identity).submit(*call))
    return result


def test_mint_by_the_minter_org_credits_the_recipient_and_raises_the_supply(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    # Execute
    result = _submit(ledger, org1, "Mint", ids[1], "100")

    # Assert
    assert result == {
        "total_supply": 100,
        "transfers": [{"from": "0x0", "to": ids[1], "value": 100}],
        "balances": {ids[1]: 100},
    }
    assert balance(ledger, org1, ids[1]) == 100
    assert json.loads(ledger.contract(org1).evaluate("TotalSupply")) == 100
    [event] = ledger.event_log()[-1:]
    assert event.name == "Transfer"
    assert json.loads(event.payload) == result


def test_any_identity_of_the_minter_org_may_mint_even_unregistered(
    ledger: InMemoryLedger, org1_other_user: Identity, ids: list[str]
) -> None:
    _submit(ledger, org1_other_user, "Mint", ids[0], "7")

    assert balance(ledger, org1_other_user, ids[0]) == 7


def test_mint_by_another_org_is_refused_and_changes_nothing(
    ledger: InMemoryLedger, org2: Identity, ids: list[str]
) -> None:
    message = reject(ledger, ledger.contract(org2), "Mint", ids[1], "100")

    assert message == (
        "only identities of the minter organisation Org1MSP may mint credits; "
        "the caller belongs to Org2MSP"
    )


def test_the_minter_org_is_the_contract_setting(
    clock: ManualClock, org1: Identity, org2: Identity
) -> None:
    # Prepare: a network created with --minter-msp Org2MSP
    ledger = InMemoryLedger(clock=clock, config=ContractConfig(minter_msp="Org2MSP"))
    ids = register(ledger, org1, org2)

    # Execute
    _submit(ledger, org2, "Mint", ids[0], "5")
    message = reject(ledger, ledger.contract(org1), "Mint", ids[0], "5")

    # Assert
    assert balance(ledger, org1, ids[0]) == 5
    assert message.startswith("only identities of the minter organisation Org2MSP may mint")
    info = json.loads(ledger.contract(org1).evaluate("TokenInfo"))
    assert info == {
        "decimals": 0,
        "minter_msp": "Org2MSP",
        "name": "fedledger credits",
        "symbol": "FLC",
    }


def test_mint_to_an_unregistered_or_malformed_recipient_or_an_escrow_is_refused(
    ledger: InMemoryLedger, org1: Identity, org1_other_user: Identity, ids: list[str]
) -> None:
    outsider = party_id("Org1MSP", org1_other_user.certificate_pem)
    contract = ledger.contract(org1)

    unregistered = reject(ledger, contract, "Mint", outsider, "5")
    malformed = reject(ledger, contract, "Mint", "Org2MSP", "5")
    into_escrow = reject(ledger, contract, "Mint", escrow_account("plan", "p1"), "5")

    assert unregistered == f"recipient {outsider} is not a registered party"
    assert malformed == 'party id must look like <MSP id>/<64 hex digits>, got "Org2MSP"'
    assert into_escrow == (
        "escrow:plan:p1 is an escrow account; only the contract's rules move credits into it"
    )


BAD_AMOUNTS = [
    ("0", "amount must be a positive integer, got 0"),
    ("-5", "amount must be a positive integer, got -5"),
    ("2.5", "amount must be a positive integer, got 2.5"),
    ("true", "amount must be a positive integer, got true"),
    ('"5"', 'amount must be a positive integer, got "5"'),
    (str(MAX_INT64 + 1), f"amount must be at most {MAX_INT64}, got {MAX_INT64 + 1}"),
    (
        "{5",
        "amount must be a JSON integer: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    ),
]


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_mint_refuses_amounts_that_are_not_positive_int64(
    ledger: InMemoryLedger, org1: Identity, ids: list[str], amount: str, message: str
) -> None:
    assert reject(ledger, ledger.contract(org1), "Mint", ids[1], amount) == message


@pytest.mark.parametrize(("amount", "message"), BAD_AMOUNTS)
def test_transfer_refuses_amounts_that_are_not_positive_int64(
    ledger: InMemoryLedger, org1: Identity, ids: list[str], amount: str, message: str
) -> None:
    _submit(ledger, org1, "Mint", ids[0], "10")

    assert reject(ledger, ledger.contract(org1), "Transfer", ids[1], amount) == message


def test_a_mint_that_would_take_the_supply_past_int64_is_refused(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    _submit(ledger, org1, "Mint", ids[0], str(MAX_INT64 - 1))

    message = reject(ledger, ledger.contract(org1), "Mint", ids[1], "2")

    assert message == (
        f"minting 2 credits would raise the total supply of {MAX_INT64 - 1} above {MAX_INT64}"
    )
    _submit(ledger, org1, "Mint", ids[1], "1")  # exactly MAX_INT64 is still fine
    assert json.loads(ledger.contract(org1).evaluate("TotalSupply")) == MAX_INT64


def test_transfer_moves_the_callers_credits_and_leaves_the_supply_alone(
    ledger: InMemoryLedger, org1: Identity, org2: Identity, ids: list[str]
) -> None:
    # Prepare
    _submit(ledger, org1, "Mint", ids[1], "50")

    # Execute
    result = _submit(ledger, org2, "Transfer", ids[2], "20")

    # Assert
    assert result == {
        "transfers": [{"from": ids[1], "to": ids[2], "value": 20}],
        "balances": {ids[1]: 30, ids[2]: 20},
    }
    event = ledger.event_log()[-1]
    assert event.name == "Transfer"
    assert parse_transfer_event(event.payload).balances == {ids[1]: 30, ids[2]: 20}
    assert audit(ledger, org1) == {
        "total_supply": 50,
        "balances": {ids[1]: 30, ids[2]: 20},
        "escrows": {},
    }


def test_transfer_of_more_than_the_balance_names_the_party_and_the_amounts(
    ledger: InMemoryLedger, org1: Identity, org2: Identity, ids: list[str]
) -> None:
    _submit(ledger, org1, "Mint", ids[1], "3")

    message = reject(ledger, ledger.contract(org2), "Transfer", ids[2], "5")

    assert message == f"insufficient balance: {ids[1]} has 3 credits, needs 5"


def test_transfer_from_a_party_that_never_held_credits_is_insufficient(
    ledger: InMemoryLedger, org3: Identity, ids: list[str]
) -> None:
    message = reject(ledger, ledger.contract(org3), "Transfer", ids[0], "1")

    assert message == f"insufficient balance: {ids[2]} has 0 credits, needs 1"


def test_transfer_to_yourself_is_refused(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    _submit(ledger, org1, "Mint", ids[0], "10")

    message = reject(ledger, ledger.contract(org1), "Transfer", ids[0], "1")

    assert message == f"cannot transfer credits to yourself ({ids[0]})"


def test_transfer_by_an_unregistered_caller_or_to_an_unregistered_party_is_refused(
    ledger: InMemoryLedger, org1: Identity, org1_other_user: Identity, ids: list[str]
) -> None:
    outsider = party_id("Org1MSP", org1_other_user.certificate_pem)
    _submit(ledger, org1, "Mint", ids[0], "10")

    by_outsider = reject(ledger, ledger.contract(org1_other_user), "Transfer", ids[0], "1")
    to_outsider = reject(ledger, ledger.contract(org1), "Transfer", outsider, "1")

    assert by_outsider == (f"caller {outsider} is not a registered party; call RegisterParty first")
    assert to_outsider == f"recipient {outsider} is not a registered party"


def test_nobody_pays_into_or_spends_from_an_escrow_account_directly(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    # Prepare
    _submit(ledger, org1, "Mint", ids[0], "10")
    plan = escrow_account("plan", "p1")
    contract = ledger.contract(org1)

    # Execute: Transfer pays only parties; no transaction takes an account to spend from
    into = reject(ledger, contract, "Transfer", plan, "1")
    with_source = reject(ledger, contract, "Transfer", plan, ids[0], "1")
    transfer_from = reject(ledger, contract, "TransferFrom", plan, ids[0], "1")

    # Assert
    assert (
        into
        == "escrow:plan:p1 is an escrow account; only the contract's rules move credits into it"
    )
    assert with_source == "Transfer takes 2 arguments (recipient, amount), got 3"
    assert transfer_from == "unknown function 'TransferFrom'"


def test_balance_of_a_registered_party_without_credits_or_an_unfunded_escrow_is_zero(
    ledger: InMemoryLedger, org2: Identity, ids: list[str]
) -> None:
    assert balance(ledger, org2, ids[0]) == 0
    assert balance(ledger, org2, escrow_account("request", "r1")) == 0
    assert json.loads(ledger.contract(org2).evaluate("TotalSupply")) == 0


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("Org1MSP/" + "0" * 64, f"party Org1MSP/{'0' * 64} is not registered"),
        ("nobody", 'party id must look like <MSP id>/<64 hex digits>, got "nobody"'),
        ("escrow:plan", 'escrow account must look like escrow:<kind>:<ref>, got "escrow:plan"'),
    ],
)
def test_balance_of_an_unknown_or_malformed_account_is_refused(
    ledger: InMemoryLedger, org1: Identity, ids: list[str], account: str, message: str
) -> None:
    with pytest.raises(ContractError) as caught:
        ledger.contract(org1).evaluate("BalanceOf", account)

    assert caught.value.message == message
    assert caught.value.stage == "evaluate"


def test_every_balance_change_is_in_the_keys_history(
    ledger: InMemoryLedger, org1: Identity, org2: Identity, ids: list[str]
) -> None:
    _submit(ledger, org1, "Mint", ids[1], "9")
    _submit(ledger, org2, "Transfer", ids[0], "4")

    history = json.loads(
        ledger.contract(org1).evaluate("GetHistory", "TokenBalance", json.dumps([ids[1]]))
    )
    supply = json.loads(ledger.contract(org1).evaluate("GetHistory", "TokenSupply", '["total"]'))

    assert [h["value"] for h in history] == [
        {"account": ids[1], "balance": 5},
        {"account": ids[1], "balance": 9},
    ]
    assert [h["value"] for h in supply] == [{"total_supply": 9}]
