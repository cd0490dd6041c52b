"""Dispatcher and GetHistory: unknown functions, arity, internal errors, history, determinism."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import pytest
from cc_helpers import ad_json, party_json, reject

from fedledger.errors import ContractError
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger, ManualClock
from fedledger.protocol.assets import party_id
from fedledger.protocol.errors import ProtocolError
from fedledger_chaincode.core.context import Creator, HistoryRecord, TransactionContext, TxTimestamp
from fedledger_chaincode.core.contract import build_router
from fedledger_chaincode.core.router import Router, decode_arguments, execute


def test_unknown_function_is_named_in_the_error(ledger: InMemoryLedger, org1: Identity) -> None:
    assert reject(ledger, ledger.contract(org1), "Foo") == "unknown function 'Foo'"


@pytest.mark.parametrize(
    ("function", "args", "message"),
    [
        ("RegisterParty", (), "RegisterParty takes 1 argument (party_json), got 0"),
        ("ListParties", ("x",), "ListParties takes 0 arguments, got 1"),
        (
            "UpdateAdvertisement",
            ("adv-x",),
            "UpdateAdvertisement takes 2 arguments (ad_id, ad_json), got 1",
        ),
        (
            "ListAdvertisements",
            ("{}", "{}"),
            "ListAdvertisements takes 0 to 1 arguments (options_json), got 2",
        ),
    ],
)
def test_wrong_argument_counts_are_rejected(
    ledger: InMemoryLedger, org1: Identity, function: str, args: tuple[str, ...], message: str
) -> None:
    assert reject(ledger, ledger.contract(org1), function, *args) == message


def test_unexpected_exceptions_become_a_short_message_and_are_logged(
    org1: Identity, caplog: pytest.LogCaptureFixture
) -> None:
    # Prepare: a router with a transaction that writes, then fails by a bug.
    router = build_router()

    async def broken(ctx: TransactionContext) -> bytes:
        ctx.put_state("k", b"v")
        raise KeyError("bug")

    router.add("Broken", broken)
    ledger = InMemoryLedger(router=router)

    # Execute
    with caplog.at_level(logging.ERROR, logger="fedledger_chaincode"):
        message = reject(ledger, ledger.contract(org1), "Broken")

    # Assert
    assert message == "Broken failed: internal error in the chaincode"
    assert "KeyError" in caplog.text
    assert ledger.get_state("k") == b""


def test_routing_a_name_twice_is_a_programming_error() -> None:
    router = Router()

    async def noop(ctx: TransactionContext) -> bytes:
        return b""

    router.add("Noop", noop)

    with pytest.raises(ValueError, match="already routed"):
        router.add("Noop", noop)


def test_decode_arguments_rejects_missing_function_and_invalid_utf8() -> None:
    with pytest.raises(ProtocolError, match=r"^no function name was given$"):
        decode_arguments([])
    with pytest.raises(ProtocolError, match=r"^the function name is not valid UTF-8$"):
        decode_arguments([b"\xff"])
    with pytest.raises(ProtocolError, match=r"^argument 2 is not valid UTF-8$"):
        decode_arguments([b"F", b"ok", b"\xc3"])
    assert decode_arguments([b"F", "é".encode()]) == ("F", ["é"])


def test_get_history_lists_every_version_newest_first(
    ledger: InMemoryLedger, org1: Identity, clock: ManualClock
) -> None:
    contract = ledger.contract(org1)
    contract.submit("RegisterParty", party_json())
    created = json.loads(contract.submit("CreateAdvertisement", ad_json()))
    clock.advance(seconds=5, nanos=7)
    withdrawn = json.loads(contract.submit("WithdrawAdvertisement", created["id"]))

    history = json.loads(
        contract.evaluate("GetHistory", "Advertisement", json.dumps([created["id"]]))
    )

    assert [h["value"] for h in history] == [withdrawn, created]
    assert [h["tx_id"] for h in history] == [withdrawn["updated_tx"], created["created_tx"]]
    assert history[0]["timestamp"]["seconds"] == history[1]["timestamp"]["seconds"] + 5
    assert history[0]["timestamp"]["nanos"] == 7
    assert not any(h["is_delete"] for h in history)


def test_get_history_of_a_party_key(ledger: InMemoryLedger, org1: Identity) -> None:
    contract = ledger.contract(org1)
    stored = json.loads(contract.submit("RegisterParty", party_json()))
    msp_id, fingerprint = party_id("Org1MSP", org1.certificate_pem).split("/")

    key_parts = json.dumps([msp_id, fingerprint])

    history = json.loads(contract.evaluate("GetHistory", "Party", key_parts))

    assert [h["value"] for h in history] == [stored]


def test_get_history_of_a_key_that_never_existed_is_empty(
    ledger: InMemoryLedger, org1: Identity
) -> None:
    result = ledger.contract(org1).evaluate("GetHistory", "Party", '["Org9MSP", "00"]')

    assert result == b"[]"


@pytest.mark.parametrize(
    ("object_type", "parts", "message"),
    [
        (
            "Foo",
            '["a"]',
            "unknown object type 'Foo'; known types are AccuracyReport, AdoptedModel, "
            "Advertisement, Aggregate, CompensationPlan, DecryptionShare, DecryptionShareData, "
            "Enrichment, EnrichmentEnvelope, EnrichmentReport, KeyEnvelope, ModelWeights, Party, "
            "PlanModelEnvelope, PredictionDispute, PredictionOffer, PredictionReceipt, "
            "PredictionRequest, Round, TaskSummary, TokenBalance, TokenEscrow, TokenSupply, "
            "TrainingTask, Update, UpdateVector",
        ),
        ("Party", "{}", "argument 2 must be a JSON array, got an object"),
        (
            "Party",
            "[",
            "argument 2 must be a JSON array: Expecting value: line 1 column 2 (char 1)",
        ),
        ("Party", "[]", "argument 2 must name at least one key part"),
        ("Party", "[1]", "key parts must be strings, got 1"),
        ("Party", '[""]', 'key attribute must be a non-empty string, got ""'),
        ("Party", '["a\\u0000b"]', "key attribute must not contain U+0000 or U+10FFFF"),
    ],
)
def test_get_history_rejects_bad_keys(
    ledger: InMemoryLedger, org1: Identity, object_type: str, parts: str, message: str
) -> None:
    with pytest.raises(ContractError) as rejected:
        ledger.contract(org1).evaluate("GetHistory", object_type, parts)

    assert rejected.value.message == message


class _FixedContext(TransactionContext):
    """A context over a fixed committed state, as every endorsing peer would see it."""

    def __init__(self, state: dict[str, bytes], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._state = state

    async def get_state(self, key: str) -> bytes:
        return self._state.get(key, b"")

    async def get_range(
        self, object_type: str, attributes: Sequence[str]
    ) -> list[tuple[str, bytes]]:
        return sorted(self._state.items())

    async def get_range_page(
        self, object_type: str, attributes: Sequence[str], *, after: str | None, limit: int
    ) -> list[tuple[str, bytes]]:
        return sorted(self._state.items())[:limit]

    async def history(self, key: str) -> list[HistoryRecord]:
        return []


def _endorse(state: dict[str, bytes], org: Identity, function: str, *args: str) -> object:
    ctx = _FixedContext(
        dict(state),
        tx_id="ab" * 32,
        tx_timestamp=TxTimestamp(1_900_000_000, 5),
        creator=Creator(org.msp_id, org.certificate_pem),
    )
    coroutine = execute(build_router(), ctx, function, list(args))
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value, ctx.writes, ctx.event
    raise AssertionError("the contract suspended")


def test_same_proposal_gives_byte_identical_payload_writes_and_event(org1: Identity) -> None:
    # Prepare: two endorsing peers run the same proposal (tx id, timestamp, creator, state).
    registered = _endorse({}, org1, "RegisterParty", party_json(["trainer", "consumer"]))
    state = registered[1]  # type: ignore[index]

    # Execute
    first = _endorse(state, org1, "CreateAdvertisement", ad_json(labels={"b": 1, "a": 2}))
    second = _endorse(state, org1, "CreateAdvertisement", ad_json(labels={"a": 2, "b": 1}))

    # Assert: identical bytes, and the outcome is a success, not two identical errors.
    assert first == second
    assert first[0].ok  # type: ignore[index]
    assert registered == _endorse({}, org1, "RegisterParty", party_json(["consumer", "trainer"]))
