"""The escrow API of fedledger_chaincode.credits.movements, driven through the test-only escrow
module.

These are the moves the enrichment plan (fund pro rata, pay a tier, refund the rest) and the
prediction request (escrow a price, pay a fee plus a pro-rata split, or refund on reclaim) make.
Several steps in one transaction touch the same accounts: the balances must accumulate although
every read inside a transaction sees only committed state.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cc_helpers import reject
from token_helpers import audit, balance, escrow, escrow_ledger, register, script

from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger, ManualClock
from fedledger.protocol.assets import party_id
from fedledger.protocol.tokens import parse_transfer_event


@pytest.fixture
def ledger(clock: ManualClock) -> InMemoryLedger:
    return escrow_ledger(clock)


@pytest.fixture
def ids(ledger: InMemoryLedger, org1: Identity, org2: Identity, org3: Identity) -> list[str]:
    """Org1, Org2, Org3 registered; Org1 and Org2 hold 100 credits each, Org3 none."""
    parties = register(ledger, org1, org2, org3)
    for party in parties[:2]:
        ledger.contract(org1).submit("Mint", party, "100")
    return parties


def _run(ledger: InMemoryLedger, identity: Identity, *steps: list[Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        ledger.contract(identity).submit("EscrowScript", script(*steps))
    )
    return result


def test_a_plan_funds_pro_rata_pays_a_tier_and_refunds_the_rest_in_one_transaction(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    # Prepare: samples 3:1, maximum payout 30, enricher (Org3) earns the 10-credit tier
    a, b, enricher = ids
    samples = {a: 300, b: 100}

    # Execute
    result = _run(
        ledger,
        org1,
        ["fund_pro_rata", "plan1", 30, samples],
        ["pay", "plan1", enricher, 10],
        ["refund", "plan1"],
    )

    # Assert: a paid 23 (22.5 rounded up by the largest remainder), b 7; the 20 left went back 23:7
    assert result["results"] == [{a: 23, b: 7}, None, {a: 15, b: 5}]
    assert result["balances"] == {a: 92, b: 98, enricher: 10, escrow("plan1"): 0}
    assert [t["value"] for t in result["transfers"]] == [23, 7, 10, 15, 5]
    state = audit(ledger, org1)
    assert state["balances"] == {a: 92, b: 98, enricher: 10}
    assert state["escrows"] == {escrow("plan1"): 0}
    assert state["total_supply"] == 200


def test_the_one_event_of_the_transaction_lists_every_movement_in_order(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    a, b, c = ids

    _run(ledger, org1, ["fund", "r1", a, 5], ["pay", "r1", c, 2], ["pay", "r1", b, 3])

    event = ledger.event_log()[-1]
    assert event.name == "EscrowScript"
    credits = parse_transfer_event(event.payload)
    assert [(m.source, m.target, m.value) for m in credits.transfers] == [
        (a, escrow("r1"), 5),
        (escrow("r1"), c, 2),
        (escrow("r1"), b, 3),
    ]
    assert credits.balances == {a: 95, b: 103, c: 2, escrow("r1"): 0}


def test_movements_touching_one_account_twice_in_a_transaction_accumulate(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    a, b, c = ids

    _run(
        ledger,
        org1,
        ["fund", "r1", a, 10],
        ["fund", "r1", a, 15],  # the same funder and escrow again
        ["transfer", a, b, 5],  # and the funder once more
        ["pay", "r1", c, 4],
        ["pay", "r1", c, 6],  # the same recipient twice
        ["pay", "r1", a, 1],  # money back to a funder in the same transaction
    )

    assert balance(ledger, org1, a) == 100 - 10 - 15 - 5 + 1
    assert balance(ledger, org1, b) == 105
    assert balance(ledger, org1, c) == 10
    assert balance(ledger, org1, escrow("r1")) == 14
    assert audit(ledger, org1)["total_supply"] == 200


def test_a_funder_short_later_in_the_transaction_is_judged_on_its_running_balance(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    a = ids[0]

    message = reject(
        ledger,
        ledger.contract(org1),
        "EscrowScript",
        script(["fund", "r1", a, 60], ["fund", "r1", a, 50]),
    )

    assert message == f"insufficient balance: {a} has 40 credits, needs 50"


def test_pro_rata_funding_names_the_first_party_whose_balance_is_short(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    a, b, c = ids
    weights = {a: 1, b: 1, c: 1}

    message = reject(
        ledger,
        ledger.contract(org1),
        "EscrowScript",
        script(["fund_pro_rata", "plan", 30, weights]),
    )

    assert message == f"insufficient balance: {c} has 0 credits, needs 10"


def test_an_escrow_pays_out_no_more_than_it_holds(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    a, b, c = ids
    _run(ledger, org1, ["fund", "r1", a, 10])

    single = reject(ledger, ledger.contract(org1), "EscrowScript", script(["pay", "r1", c, 11]))
    split = reject(
        ledger,
        ledger.contract(org1),
        "EscrowScript",
        script(["pay", "r1", c, 4], ["pay_pro_rata", "r1", 7, {a: 1, b: 1}]),
    )

    assert single == "insufficient escrow: escrow:test:r1 holds 10 credits, cannot pay 11"
    assert split == "insufficient escrow: escrow:test:r1 holds 6 credits, cannot pay 7"


def test_a_receipt_pays_a_provider_fee_and_splits_the_rest_pro_rata(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    # Prepare: the consumer (Org3) got 10 credits and escrowed a price of 10
    a, b, consumer = ids
    ledger.contract(org1).submit("Mint", consumer, "10")
    _run(ledger, org1, ["fund", "req1", consumer, 10])

    # Execute: provider a takes a 20% fee; the 8 left go to the participants 2:1
    result = _run(ledger, org1, ["pay", "req1", a, 2], ["pay_pro_rata", "req1", 8, {a: 2, b: 1}])

    # Assert
    assert result["results"] == [None, {a: 5, b: 3}]
    assert result["balances"] == {a: 107, b: 103, escrow("req1"): 0}
    assert balance(ledger, org1, consumer) == 0


def test_a_reclaim_refunds_a_single_funder_everything(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    a = ids[0]
    _run(ledger, org1, ["fund", "req1", a, 10])

    result = _run(ledger, org1, ["refund", "req1"], ["refund", "req1"])

    assert result["results"] == [{a: 10}, {}]
    assert balance(ledger, org1, a) == 100
    assert balance(ledger, org1, escrow("req1")) == 0


def test_the_escrow_record_keeps_what_each_funder_paid_in(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    a, b, _ = ids
    _run(ledger, org1, ["fund", "p", a, 6], ["fund", "p", b, 2], ["fund", "p", a, 1])

    history = json.loads(
        ledger.contract(org1).evaluate("GetHistory", "TokenEscrow", json.dumps(["test", "p"]))
    )

    assert [h["value"] for h in history] == [
        {"account": escrow("p"), "balance": 9, "funded": {a: 7, b: 2}}
    ]


def test_zero_amounts_move_nothing_and_list_no_movement(
    ledger: InMemoryLedger, org1: Identity, ids: list[str]
) -> None:
    a, _, c = ids

    result = _run(ledger, org1, ["fund", "r1", a, 0], ["pay", "r1", c, 0], ["refund", "r1"])

    assert result["transfers"] == []
    assert result["balances"] == {}
    assert balance(ledger, org1, a) == 100


def test_escrows_pay_registered_parties_only_and_never_fund_from_an_escrow(
    ledger: InMemoryLedger, org1: Identity, org1_other_user: Identity, ids: list[str]
) -> None:
    outsider = party_id("Org1MSP", org1_other_user.certificate_pem)
    _run(ledger, org1, ["fund", "r1", ids[0], 5])
    contract = ledger.contract(org1)

    to_outsider = reject(ledger, contract, "EscrowScript", script(["pay", "r1", outsider, 1]))
    from_escrow = reject(ledger, contract, "EscrowScript", script(["fund", "r2", escrow("r1"), 1]))

    assert to_outsider == f"recipient {outsider} is not a registered party"
    assert from_escrow == (
        "escrow:test:r1 is an escrow account; only the contract's rules move credits out of it"
    )


@pytest.mark.parametrize("amount", [-1, 1.5, True, "3"])
def test_a_module_passing_a_bad_amount_is_an_internal_error_that_changes_nothing(
    ledger: InMemoryLedger,
    org1: Identity,
    ids: list[str],
    amount: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    steps = script(["fund", "r", ids[0], amount])

    message = reject(ledger, ledger.contract(org1), "EscrowScript", steps)

    assert message == "EscrowScript failed: internal error in the chaincode"
    assert "a token amount must be a non-negative int" in caplog.text


def test_a_transaction_cannot_open_two_movement_books(
    ledger: InMemoryLedger, org1: Identity, ids: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    message = reject(ledger, ledger.contract(org1), "EscrowOpenTwice")

    assert message == "EscrowOpenTwice failed: internal error in the chaincode"
    assert "this transaction already moved credits; use one token_movements block" in caplog.text
