"""The in-memory ledger: Fabric's transaction semantics around the real contract."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading

import pytest
from support.identities import make_identity

from fedledger.errors import ContractError, GatewayError
from fedledger.ledger.identity import Identity
from fedledger.ledger.interface import Contract
from fedledger.ledger.memory import InMemoryLedger, ManualClock, transaction_id
from fedledger_chaincode.core.config import ContractConfig
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.contract import build_router
from fedledger_chaincode.fabric.protos import identities_pb2

PARTY = json.dumps({"roles": ["trainer"], "kx_public_key": base64.b64encode(b"k" * 32).decode()})


@pytest.fixture(scope="module")
def alice() -> Identity:
    return make_identity("Org1MSP")


@pytest.fixture(scope="module")
def bob() -> Identity:
    return make_identity("Org2MSP")


def ledger_with(*extra: tuple[str, object]) -> InMemoryLedger:
    """A ledger whose contract also has the given test transactions."""
    router = build_router()
    for name, function in extra:
        router.add(name, function)  # type: ignore[arg-type]
    return InMemoryLedger(clock=ManualClock(), router=router)


def test_in_memory_contract_satisfies_the_contract_interface(alice: Identity) -> None:
    contract: Contract = InMemoryLedger().contract(alice)

    assert json.loads(contract.evaluate("ListParties")) == []


def test_submit_commits_one_block_and_evaluate_commits_nothing(alice: Identity) -> None:
    ledger = InMemoryLedger(clock=ManualClock())
    contract = ledger.contract(alice)

    contract.evaluate("RegisterParty", PARTY)
    after_evaluate = (ledger.height, contract.evaluate("ListParties"), ledger.event_log())
    contract.submit("RegisterParty", PARTY)

    assert after_evaluate == (1, b"[]", [])
    assert ledger.height == 2
    assert len(json.loads(contract.evaluate("ListParties"))) == 1


def test_failed_transaction_discards_its_buffered_writes(alice: Identity) -> None:
    async def write_then_reject(ctx: TransactionContext, key: str) -> bytes:
        from fedledger.protocol.errors import ProtocolError

        ctx.put_state(key, b"written")
        ctx.set_event("Written", b"")
        raise ProtocolError(f"rejected after writing {key}")

    ledger = ledger_with(("WriteThenReject", write_then_reject))

    with pytest.raises(ContractError) as rejected:
        ledger.contract(alice).submit("WriteThenReject", "k1")

    assert rejected.value.message == "rejected after writing k1"
    assert rejected.value.stage == "endorse"
    assert (ledger.get_state("k1"), ledger.height, ledger.event_log()) == (b"", 1, [])


def test_reads_see_committed_state_not_pending_writes(alice: Identity) -> None:
    async def write_then_read(ctx: TransactionContext) -> bytes:
        before = await ctx.get_state("k")
        ctx.put_state("k", b"new")
        after = await ctx.get_state("k")
        return before + b"|" + after

    ledger = ledger_with(("WriteThenRead", write_then_read))
    contract = ledger.contract(alice)

    first = contract.submit("WriteThenRead")
    second = contract.submit("WriteThenRead")

    assert (first, second) == (b"|", b"new|new")


def test_writes_of_one_transaction_commit_together_with_history(alice: Identity) -> None:
    async def write_two(ctx: TransactionContext, value: str) -> bytes:
        ctx.put_state("a", value.encode())
        ctx.put_state("b", value.encode())
        return b""

    ledger = ledger_with(("WriteTwo", write_two))
    contract = ledger.contract(alice)

    contract.submit("WriteTwo", "1")
    contract.submit("WriteTwo", "2")

    assert (ledger.get_state("a"), ledger.get_state("b")) == (b"2", b"2")
    assert [r.value for r in ledger.history("a")] == [b"2", b"1"]
    assert ledger.history("a")[0].tx_id == ledger.history("b")[0].tx_id


def test_rejection_carries_the_tx_id_and_the_evaluate_stage(alice: Identity) -> None:
    contract = InMemoryLedger().contract(alice)

    with pytest.raises(ContractError) as rejected:
        contract.evaluate("Nope")

    assert rejected.value.message == "unknown function 'Nope'"
    assert rejected.value.stage == "evaluate"
    assert len(rejected.value.tx_id) == 64


def test_transaction_id_is_sha256_of_nonce_and_serialized_creator(alice: Identity) -> None:
    nonce = b"\x01" * 24
    creator = identities_pb2.SerializedIdentity(
        mspid="Org1MSP", id_bytes=alice.certificate_pem
    ).SerializeToString()

    assert transaction_id(nonce, alice) == hashlib.sha256(nonce + creator).hexdigest()


def test_each_transaction_gets_a_fresh_tx_id(alice: Identity) -> None:
    ledger = InMemoryLedger()
    contract = ledger.contract(alice)
    contract.submit("RegisterParty", PARTY)

    with pytest.raises(ContractError) as first:
        contract.submit("RegisterParty", PARTY)
    with pytest.raises(ContractError) as second:
        contract.submit("RegisterParty", PARTY)

    assert first.value.tx_id != second.value.tx_id


def test_timestamps_come_from_the_injected_clock(alice: Identity) -> None:
    clock = ManualClock(start_seconds=2_000_000_000)
    ledger = InMemoryLedger(clock=clock)
    clock.advance(seconds=30, nanos=5)

    stored = json.loads(ledger.contract(alice).submit("RegisterParty", PARTY))

    assert stored["registered_at"] == 2_000_000_030
    key = ledger.range("", "\U0010ffff")[0][0]
    assert ledger.history(key)[0].timestamp.nanos == 5


def test_manual_clock_never_goes_back() -> None:
    with pytest.raises(ValueError, match="only moves forward"):
        ManualClock().advance(seconds=-1)


def test_events_are_numbered_by_block_and_filtered_by_start_block(
    alice: Identity, bob: Identity
) -> None:
    ledger = InMemoryLedger()
    ledger.contract(alice).submit("RegisterParty", PARTY)
    ledger.contract(bob).submit("RegisterParty", PARTY)

    everything = list(ledger.contract(alice).events(0, follow=False))
    later = list(ledger.contract(alice).events(2, follow=False))

    assert [(e.block_number, e.name) for e in everything] == [
        (1, "PartyRegistered"),
        (2, "PartyRegistered"),
    ]
    assert later == everything[1:]


def test_following_events_blocks_until_a_new_commit(alice: Identity, bob: Identity) -> None:
    ledger = InMemoryLedger()
    ledger.contract(alice).submit("RegisterParty", PARTY)
    stream = ledger.contract(alice).events(0)
    first = next(stream)
    committer = threading.Thread(target=lambda: ledger.contract(bob).submit("RegisterParty", PARTY))

    committer.start()
    second = next(stream)
    committer.join()
    ledger.close()

    assert (first.block_number, second.block_number) == (1, 2)
    assert list(itertools.islice(stream, 5)) == []


def test_non_string_arguments_are_refused(alice: Identity) -> None:
    with pytest.raises(TypeError, match="contract arguments are str, got bytes"):
        InMemoryLedger().contract(alice).submit("RegisterParty", b"{}")  # type: ignore[arg-type]


def test_contract_code_that_awaits_real_io_is_refused(alice: Identity) -> None:
    import asyncio

    async def sleeps(ctx: TransactionContext) -> bytes:
        await asyncio.sleep(0)
        return b""

    ledger = ledger_with(("Sleeps", sleeps))

    with pytest.raises(RuntimeError, match="awaited something other than ledger reads"):
        ledger.contract(alice).submit("Sleeps")
    assert ledger.height == 1


def test_a_client_clock_beyond_the_time_window_is_refused_like_a_peer_would() -> None:
    clock = ManualClock(start_seconds=1_800_000_000)
    ledger = InMemoryLedger(clock=clock, config=ContractConfig(time_window_seconds=60))
    client = ledger.contract(make_identity("Org1MSP", "User1@org1"))
    before = ledger.height

    within = client.skewed(60)
    within.submit("RegisterParty", PARTY)
    with pytest.raises(GatewayError, match=r"peer\.authentication\.timewindow 60s") as caught:
        client.skewed(-61).evaluate("ListParties")

    assert ledger.height == before + 1
    assert caught.value.stage == "evaluate"
    assert "incorrect timestamp 1799999939, peer time 1800000000" in caught.value.details
