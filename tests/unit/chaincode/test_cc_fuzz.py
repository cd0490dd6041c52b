"""Fuzzing every routed transaction: success or a specific message, and a rejection changes nothing.

The transactions are the router's own names, so a transaction added to the contract is fuzzed
without touching this file. Each example builds a fresh world on the in-memory ledger (the real
contract): a registered consortium, an advertisement, a proposed task and an active task with
round 1 open, an open prediction offer on it and a paid request for that offer. It then calls
one transaction, submitted or evaluated, as a registered participant, the registered outsider or
an unregistered identity, with generated arguments: the
right number most of the time, sometimes too few or too many; each argument either a
near-valid value for its parameter (ids of the world, a valid request with one field dropped,
replaced or added) or something arbitrary (random JSON of any shape, numbers at the edges,
unicode, large or deeply nested text, bad base64).

Asserted for every call: the answer is a success or a ContractError with a specific, non-empty
message, never "internal error in the chaincode" (the dispatcher's answer to an unexpected
exception); a rejection leaves the world state, every key's history, the events and the block
height exactly as they were; an evaluation, even a successful one, changes nothing.

Examples per transaction: --fuzz-examples (default 25; FEDLEDGER_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cc_helpers import ad_json, party_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prediction_helpers import INPUT, RESPONSE, offer_json
from support.identities import make_identity
from training_helpers import WEIGHTS_HASH, Setup, make_setup, pid, task_fields

from fedledger.errors import ContractError
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger, ManualClock
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.contract import build_router
from fedledger_chaincode.core.router import Router

ROUTER = build_router()
INTERNAL = "internal error in the chaincode"
IDENTITIES = [
    make_identity("Org1MSP", "User1@org1"),
    make_identity("Org2MSP", "User1@org2"),
    make_identity("Org3MSP", "User1@org3"),
    make_identity("Org1MSP", "User2@org1"),
]
STRANGER = make_identity("Org2MSP", "User9@org2")


@dataclass
class World:
    """The ledger and the values a near-valid argument is made from."""

    setup: Setup
    ad_id: str
    proposed_task: str
    active_task: str
    offer_id: str
    request_id: str

    @property
    def ledger(self) -> InMemoryLedger:
        return self.setup.ledger

    def callers(self) -> list[InMemoryContract]:
        stranger = self.ledger.contract(STRANGER)
        return [*self.setup.participants, self.setup.outsider, stranger]


def make_world() -> World:
    ledger = InMemoryLedger(clock=ManualClock(start_seconds=1_800_000_000))
    setup = make_setup(ledger, *IDENTITIES)
    ad = json.loads(setup.trainers[0].submit("CreateAdvertisement", ad_json()))
    proposed = str(setup.propose()["id"])
    active = setup.active_task()
    setup.coordinator.submit("OpenRound", active, "1")
    offer = json.loads(setup.trainers[0].submit("CreateOffer", active, offer_json()))
    setup.coordinator.submit("Mint", pid(setup.outsider.identity), "500")
    paid = json.loads(setup.outsider.submit("RequestPrediction", offer["id"], INPUT, "60"))
    return World(setup, ad["id"], proposed, active, offer["id"], paid["id"])


def state_of(ledger: InMemoryLedger) -> tuple[Any, ...]:
    """Everything a transaction could change: height, world state, every history, events."""
    entries = ledger.range("", "\U0010ffff\U0010ffff")
    histories = [(key, ledger.history(key)) for key, _ in entries]
    return ledger.height, entries, histories, ledger.event_log()


# ------------------------------------------------------------------ arbitrary values

EDGE_INTS = [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**100]
EDGE_TEXT = [
    "",
    " ",
    "\x00",
    "\ufeff{}",
    "null",
    "NaN",
    "Infinity",
    "-0",
    "1e400",
    "9" * 5000,  # beyond Python's default int conversion limit (4300 digits)
    "[" * 5000 + "]" * 5000,  # nested deeper than the recursion limit
    '{"a":' * 2000 + "1" + "}" * 2000,
    "\u202e\u0301\U0001f600",
    "a" * 200_000,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(EDGE_INTS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(EDGE_TEXT[:-1]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=20,
)
arbitrary_text = st.one_of(
    st.sampled_from(EDGE_TEXT),
    st.text(max_size=300),
    json_values.map(json.dumps),
    st.binary(max_size=100).map(lambda b: base64.b64encode(b).decode()),
)


# ------------------------------------------------------------------ near-valid values


def _valid_requests(world: World) -> dict[str, dict[str, Any]]:
    return {
        "ad_json": json.loads(ad_json()),
        "party_json": json.loads(party_json()),
        "task_json": task_fields(world.setup.ids),
        # a real, proven update of the first trainer for round 1 of the active task
        "update_json": json.loads(
            world.setup.update(world.setup.trainers[0], world.active_task)
        ),
        "result_json": {"weights_hash": WEIGHTS_HASH, "accuracy_bp": 9000, "base_accuracy_bp": 0},
        "options_json": {"include_withdrawn": True},
        "offer_json": json.loads(offer_json()),
    }


def _mutate(draw: st.DrawFn, value: Any, depth: int) -> Any:
    """``value`` with one field somewhere inside dropped, replaced by anything, or added."""
    action = draw(st.sampled_from(["keep", "drop", "replace", "add", "descend", "descend"]))
    if isinstance(value, list) and value:
        items = list(value)
        index = draw(st.integers(0, len(items) - 1))
        if action == "drop":
            del items[index]
        elif action == "descend" and depth < 3:
            items[index] = _mutate(draw, items[index], depth + 1)
        elif action != "keep":
            items[index] = draw(json_values)
        return items
    if not isinstance(value, dict):
        return value if action == "keep" else draw(json_values)
    fields = dict(value)
    names = sorted(fields)
    if action == "drop" and names:
        del fields[draw(st.sampled_from(names))]
    elif action == "replace" and names:
        fields[draw(st.sampled_from(names))] = draw(json_values)
    elif action == "add":
        fields[draw(st.text(max_size=12))] = draw(json_values)
    elif action == "descend" and names and depth < 3:
        name = draw(st.sampled_from(names))
        fields[name] = _mutate(draw, fields[name], depth + 1)
    return fields


@st.composite
def mutated(draw: st.DrawFn, request: dict[str, Any]) -> str:
    """A valid request, or one with a field dropped, replaced by anything or added, at any
    depth; sometimes wrapped in an array."""
    value = _mutate(draw, request, 0)
    return json.dumps([value] if draw(st.integers(0, 9)) == 0 else value)


def _near_valid(world: World, parameter: str) -> st.SearchStrategy[str]:
    tasks = [world.active_task, world.proposed_task, "task-" + "0" * 32]
    parties = [*world.setup.ids, pid(STRANGER)]
    if parameter.endswith("_json") and parameter in _valid_requests(world):
        return mutated(_valid_requests(world)[parameter])
    if parameter in ("task", "task_id"):
        return st.sampled_from(tasks)
    if parameter == "round_number":
        numbers = ["1", "2", "3", "4", "0", "-1", "01", " 1", "1.0", "2" * 30]
        return st.sampled_from(numbers) | st.integers().map(str)
    if parameter == "ad_id":
        return st.sampled_from([world.ad_id, world.ad_id.upper(), "adv-" + "f" * 32, "adv-"])
    if parameter in ("party", "party_id", "recipient"):
        return st.sampled_from(parties) | st.sampled_from(parties).map(lambda p: p + "x")
    if parameter == "object_type":
        return st.sampled_from(sorted(ROUTER.object_types))
    if parameter == "key_parts_json":
        keys = [world.ad_id, world.active_task, *parties]
        return st.lists(st.sampled_from(keys) | st.text(max_size=10), max_size=3).map(json.dumps)
    if parameter == "offer_id":
        return st.sampled_from([world.offer_id, world.offer_id.upper(), "offer-" + "0" * 32])
    if parameter.endswith("request_id"):
        return st.sampled_from([world.request_id, world.request_id[:-1], "req-" + "0" * 32])
    if parameter.endswith("_sha256"):
        return st.sampled_from([INPUT, RESPONSE, INPUT.upper(), INPUT[:-1]])
    if parameter == "ttl_seconds":
        return st.sampled_from(["5", "60", "86400", "4", "86401", "6e1", "-1"])
    if parameter.endswith("_b64"):
        return st.binary(max_size=600).map(lambda b: base64.b64encode(b).decode())
    return arbitrary_text


@st.composite
def call(draw: st.DrawFn, world: World, name: str) -> tuple[InMemoryContract, bool, list[str]]:
    """(caller, submit or evaluate, arguments) for transaction ``name``."""
    transaction = ROUTER.lookup(name)
    parameters = [*transaction.required, *transaction.optional]
    low, high = len(transaction.required), len(parameters)
    # Mostly the right number of arguments, mostly near-valid ones: that reaches the checks
    # behind the first; the rest probes arity and parsing.
    wrong_count = draw(st.integers(0, 4)) == 0
    if wrong_count:
        count = draw(st.sampled_from([max(low - 1, 0), high + 1, high + 3]))
    else:
        count = draw(st.integers(low, high))
    args = []
    for index in range(count):
        parameter = parameters[index] if index < len(parameters) else "extra"
        near = draw(st.integers(0, 3)) > 0
        args.append(draw(_near_valid(world, parameter) if near else arbitrary_text))
    caller = draw(st.sampled_from(world.callers()))
    return caller, draw(st.booleans()), args


@pytest.fixture(scope="module")
def examples(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--fuzz-examples"))


def check(world: World, name: str, caller: InMemoryContract, commit: bool, args: list[str]) -> None:
    """Call ``name``; assert a success or a specific rejection that changed nothing."""
    before = state_of(world.ledger)
    try:
        (caller.submit if commit else caller.evaluate)(name, *args)
    except ContractError as exc:
        assert exc.message.strip(), f"{name}: empty rejection message"
        assert INTERNAL not in exc.message, f"{name}{tuple(a[:80] for a in args)}: {exc.message}"
        assert state_of(world.ledger) == before, f"{name}: a rejection changed the ledger"
        return
    if not commit:
        assert state_of(world.ledger) == before, f"{name}: an evaluation changed the ledger"


@pytest.mark.parametrize("name", ROUTER.names)
def test_every_transaction_answers_fuzzed_calls_with_success_or_a_specific_message(
    name: str, examples: int
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        world = make_world()
        caller, commit, args = data.draw(call(world, name))
        check(world, name, caller, commit, args)

    fuzz()


def test_the_fuzzer_covers_every_routed_transaction() -> None:
    # A new module registered in contract.MODULES is fuzzed through ROUTER.names; this pins
    # that the fuzzed list is the contract's whole surface.
    routed = set(build_router().names)
    assert routed == set(ROUTER.names) and len(routed) >= 28


def test_the_check_fails_on_an_internal_error() -> None:
    # Prepare: a contract with a transaction that crashes on its input
    router = Router()

    async def crashes(ctx: TransactionContext, key: str) -> bytes:
        return {"a": b"1"}[key]

    router.add("Crashes", crashes)
    world = make_world()
    world.setup.ledger = InMemoryLedger(router=router)
    caller = world.ledger.contract(STRANGER)

    # Execute / Assert
    check(world, "Crashes", caller, True, ["a"])
    with pytest.raises(AssertionError, match="Crashes failed: internal error in the chaincode"):
        check(world, "Crashes", caller, True, ["b"])


def test_the_near_valid_requests_start_from_requests_the_contract_accepts() -> None:
    world = make_world()
    stranger = world.ledger.contract(STRANGER)
    requests = _valid_requests(world)

    stranger.submit("RegisterParty", json.dumps(requests["party_json"]))
    stranger.submit("CreateAdvertisement", json.dumps(requests["ad_json"]))
    stranger.submit("ProposeTask", json.dumps(requests["task_json"]))
    world.setup.trainers[0].submit(
        "SubmitUpdate", world.active_task, "1", json.dumps(requests["update_json"])
    )

    assert json.loads(stranger.evaluate("GetParty", pid(STRANGER)))["msp_id"] == "Org2MSP"
