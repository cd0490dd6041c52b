"""protocol.tokens: escrow account names, amount arguments and the Transfer event payload."""

from __future__ import annotations

import pytest

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.tokens import (
    Movement,
    TransferEvent,
    escrow_account,
    is_escrow_account,
    parse_amount,
    parse_escrow_account,
    parse_minter_msp,
    parse_transfer_event,
)

PARTY = "Org1MSP/" + "a" * 64


def test_an_escrow_account_round_trips_and_can_never_be_read_as_a_party_id() -> None:
    account = escrow_account("plan", "plan-0f3a")

    assert account == "escrow:plan:plan-0f3a"
    assert is_escrow_account(account)
    assert parse_escrow_account(account) == ("plan", "plan-0f3a")
    with pytest.raises(ProtocolError):
        parse_party_id(account)
    assert not is_escrow_account(PARTY)


@pytest.mark.parametrize(
    ("kind", "ref", "message"),
    [
        ("Plan", "p1", 'escrow kind must be a lowercase word, got "Plan"'),
        ("", "p1", 'escrow kind must be a lowercase word, got ""'),
        ("plan", "a/b", 'escrow reference must be a plain id, got "a/b"'),
        ("plan", "a:b", 'escrow reference must be a plain id, got "a:b"'),
        ("plan", "", 'escrow reference must be a plain id, got ""'),
    ],
)
def test_escrow_names_with_other_characters_are_refused(kind: str, ref: str, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        escrow_account(kind, ref)

    assert str(caught.value) == message


@pytest.mark.parametrize("text", ["escrow:", "escrow:plan", "escrow:plan:", "escrow::x", "plan:x"])
def test_malformed_escrow_accounts_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_escrow_account(text)

    assert str(caught.value).startswith("escrow account must look like escrow:<kind>:<ref>")


def test_amounts_are_json_integers_from_one_to_int64() -> None:
    assert parse_amount("1") == 1
    assert parse_amount(" 25 ") == 25
    assert parse_amount(str(2**63 - 1)) == 2**63 - 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "amount must be a positive integer, got 0"),
        ("-3", "amount must be a positive integer, got -3"),
        ("1.5", "amount must be a positive integer, got 1.5"),
        ("1e3", "amount must be a positive integer, got 1E+3"),
        ("true", "amount must be a positive integer, got true"),
        ('"7"', 'amount must be a positive integer, got "7"'),
        ("null", "amount must be a positive integer, got null"),
        (str(2**63), f"amount must be at most {2**63 - 1}, got {2**63}"),
        ("", "amount must be a JSON integer: Expecting value: line 1 column 1 (char 0)"),
        ("5x", "amount must be a JSON integer: Extra data: line 1 column 2 (char 1)"),
        ("NaN", "amount must be a JSON integer: NaN is not allowed"),
    ],
)
def test_bad_amounts_are_refused_with_their_reason(text: str, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_amount(text)

    assert str(caught.value) == message


def test_the_minter_msp_must_look_like_an_msp_id() -> None:
    assert parse_minter_msp("Org2MSP") == "Org2MSP"
    with pytest.raises(ProtocolError) as caught:
        parse_minter_msp("Org 2")

    assert str(caught.value) == (
        "the minter MSP id must be letters, digits, '.', '_' or '-', got \"Org 2\""
    )


def test_a_transfer_event_round_trips_and_other_fields_of_the_payload_are_ignored() -> None:
    event = TransferEvent(
        (Movement("0x0", PARTY, 5), Movement(PARTY, "escrow:plan:p", 2)),
        {PARTY: 3, "escrow:plan:p": 2},
    )
    payload = dumps({"plan": "p", **event.to_json()})

    assert parse_transfer_event(payload) == event
    assert event.to_json()["transfers"][0] == {"from": "0x0", "to": PARTY, "value": 5}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"[]", "a transfer event must be a JSON object, got an array"),
        (b'{"balances": {}}', "the event payload has no field 'transfers'"),
        (b'{"transfers": {}, "balances": {}}', "transfers must be an array, got an object"),
        (
            b'{"transfers": [{"from": "a", "to": "b"}], "balances": {}}',
            "transfers[0] is missing field 'value'",
        ),
        (
            b'{"transfers": [{"from": "a", "to": "b", "value": 0}], "balances": {}}',
            "transfers[0].value must be a positive integer, got 0",
        ),
        (
            b'{"transfers": [], "balances": {"a": -1}}',
            'balances["a"] must be a non-negative integer, got -1',
        ),
    ],
)
def test_malformed_transfer_events_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_transfer_event(payload)

    assert str(caught.value) == message
