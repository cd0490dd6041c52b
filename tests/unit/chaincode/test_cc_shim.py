"""The shim side: proposal decoding, the peer-backed context, and events on COMPLETED.

A fake peer answers the handler's state requests from a dict, so real ChaincodeMessages flow
through FedLedgerHandler and FedLedgerChaincode exactly as on a Fabric peer stream.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from cc_helpers import MSG, TX_ID, party_json, signed_proposal, transaction

from fedledger.ledger.identity import Identity
from fedledger.protocol.assets import party_id
from fedledger.protocol.errors import ProtocolError
from fedledger_chaincode.fabric.chaincode import FedLedgerChaincode
from fedledger_chaincode.fabric.handler import FedLedgerHandler
from fedledger_chaincode.fabric.protos import (
    chaincode_pb2,
    chaincode_shim_pb2,
    kv_query_result_pb2,
    proposal_pb2,
)
from fedledger_chaincode.fabric.shim_context import ShimContext, decode_proposal


class FakePeer:
    """The peer end of a chaincode stream: answers state requests, records what it was sent."""

    def __init__(self, handler: FedLedgerHandler, page_size: int = 2) -> None:
        self.handler = handler
        self.state: dict[str, bytes] = {}
        self.sent: list[Any] = []
        self.fail: set[int] = set()
        self.page_size = page_size
        self._pages: dict[str, list[Any]] = {}

    async def write(self, msg: Any) -> None:
        self.sent.append(msg)
        if msg.type in (MSG.COMPLETED, MSG.REGISTER):
            return
        reply = self._answer(msg)
        respond = self.handler.msg_queue_handler.handle_msg_response
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(respond(reply)))

    def _page(self, query_id: str) -> bytes:
        pending = self._pages[query_id]
        page, self._pages[query_id] = pending[: self.page_size], pending[self.page_size :]
        return chaincode_shim_pb2.QueryResponse(
            results=page, has_more=bool(self._pages[query_id]), id=query_id
        ).SerializeToString()

    def _answer(self, msg: Any) -> Any:
        def reply(payload: bytes = b"") -> Any:
            return MSG(type=MSG.RESPONSE, payload=payload, txid=msg.txid, channel_id=msg.channel_id)

        if msg.type in self.fail:
            return MSG(type=MSG.ERROR, payload=b"boom", txid=msg.txid, channel_id=msg.channel_id)
        if msg.type == MSG.GET_STATE:
            key = chaincode_shim_pb2.GetState.FromString(msg.payload).key
            return reply(self.state.get(key, b""))
        if msg.type == MSG.PUT_STATE:
            request = chaincode_shim_pb2.PutState.FromString(msg.payload)
            self.state[request.key] = request.value
            return reply()
        if msg.type == MSG.GET_STATE_BY_RANGE:
            request = chaincode_shim_pb2.GetStateByRange.FromString(msg.payload)
            keys = sorted(k for k in self.state if request.startKey <= k < request.endKey)
            self._pages["q"] = [
                chaincode_shim_pb2.QueryResultBytes(
                    resultBytes=kv_query_result_pb2.KV(
                        key=k, value=self.state[k]
                    ).SerializeToString()
                )
                for k in keys
            ]
            return reply(self._page("q"))
        if msg.type == MSG.QUERY_STATE_NEXT:
            return reply(self._page(chaincode_shim_pb2.QueryStateNext.FromString(msg.payload).id))
        return reply(chaincode_shim_pb2.QueryResponse(id="q").SerializeToString())

    def completed(self) -> Any:
        (message,) = [m for m in self.sent if m.type == MSG.COMPLETED]
        return message

    def requests(self, msg_type: int) -> list[Any]:
        return [m for m in self.sent if m.type == msg_type]


def register(identity: Identity) -> Any:
    return transaction(identity, b"RegisterParty", party_json().encode())


def connect(chaincode: Any | None = None) -> tuple[FedLedgerHandler, FakePeer]:
    from fabric_chaincode_python.fabric_shim.msg_queue_handler import MsgQueueHandler

    handler = FedLedgerHandler("fedledger:abc", chaincode or FedLedgerChaincode())
    peer = FakePeer(handler)
    handler.context = peer
    handler.msg_queue_handler = MsgQueueHandler(handler)
    return handler, peer


def response_of(message: Any) -> Any:
    from fedledger_chaincode.fabric.protos import proposal_response_pb2

    return proposal_response_pb2.Response.FromString(message.payload)


def test_decode_proposal_reads_creator_and_channel_header_timestamp(org1: Identity) -> None:
    proposal = proposal_pb2.Proposal.FromString(signed_proposal(org1, 7, 9).proposal_bytes)

    creator, timestamp = decode_proposal(proposal)

    assert (creator.msp_id, creator.certificate_pem) == ("Org1MSP", org1.certificate_pem)
    assert (timestamp.seconds, timestamp.nanos) == (7, 9)


def test_decode_proposal_rejects_garbage() -> None:
    with pytest.raises(ProtocolError, match=r"^the transaction proposal cannot be decoded"):
        decode_proposal(b"\xff\xff\xff")
    with pytest.raises(ProtocolError, match=r"no header$"):
        decode_proposal(None)


def test_successful_invoke_writes_and_carries_its_event_on_completed(org1: Identity) -> None:
    handler, peer = connect()

    asyncio.run(handler.handle_stub_interaction(register(org1)))

    completed = peer.completed()
    response = response_of(completed)
    assert response.status == 200
    assert completed.chaincode_event.event_name == "PartyRegistered"
    assert completed.chaincode_event.payload == response.payload
    assert completed.chaincode_event.tx_id == TX_ID
    stored = json.loads(response.payload)
    assert stored["id"] == party_id("Org1MSP", org1.certificate_pem)
    assert stored["registered_at"] == 1_900_000_000
    assert list(peer.state.values()) == [response.payload]


def test_rejected_invoke_sends_its_exact_message_no_writes_and_no_event(org1: Identity) -> None:
    handler, peer = connect()

    asyncio.run(handler.handle_stub_interaction(transaction(org1, b"RegisterParty", b"[]")))

    completed = peer.completed()
    response = response_of(completed)
    assert (response.status, response.message) == (
        500,
        "argument 1 must be a JSON object, got an array",
    )
    assert not completed.HasField("chaincode_event")
    assert peer.requests(MSG.PUT_STATE) == []


def test_second_registration_on_the_peer_sees_committed_state(org1: Identity) -> None:
    handler, peer = connect()
    message = register(org1)
    asyncio.run(handler.handle_stub_interaction(message))
    peer.sent.clear()

    asyncio.run(handler.handle_stub_interaction(message))

    assert response_of(peer.completed()).message.endswith("is already registered")


def test_an_error_reply_from_the_peer_fails_the_transaction_without_details(
    org1: Identity,
) -> None:
    handler, peer = connect()
    peer.fail.add(MSG.GET_STATE)

    asyncio.run(handler.handle_stub_interaction(register(org1)))

    response = response_of(peer.completed())
    assert (response.status, response.message) == (
        500,
        "RegisterParty failed: internal error in the chaincode",
    )
    assert peer.requests(MSG.PUT_STATE) == []


def test_a_refused_write_fails_the_transaction_and_drops_the_event(org1: Identity) -> None:
    handler, peer = connect()
    peer.fail.add(MSG.PUT_STATE)

    asyncio.run(handler.handle_stub_interaction(register(org1)))

    completed = peer.completed()
    assert response_of(completed).message == (
        "RegisterParty failed: the peer did not accept its writes"
    )
    assert not completed.HasField("chaincode_event")


def test_undecodable_transaction_message_gets_an_error_response(org1: Identity) -> None:
    handler, peer = connect()
    message = transaction(org1, b"ListParties")
    message.proposal.proposal_bytes = b"\xff\xff"

    asyncio.run(handler.handle_stub_interaction(message))

    response = response_of(peer.completed())
    assert (response.status, response.message) == (
        500,
        "the chaincode cannot decode the transaction message",
    )


def test_range_reads_page_through_the_peer_and_keep_key_order(
    org1: Identity, org2: Identity, org3: Identity
) -> None:
    handler, peer = connect()
    for identity in (org3, org1, org2):
        peer.sent.clear()
        asyncio.run(handler.handle_stub_interaction(register(identity)))
    peer.sent.clear()

    asyncio.run(handler.handle_stub_interaction(transaction(org1, b"ListParties")))

    listed = json.loads(response_of(peer.completed()).payload)
    assert [p["msp_id"] for p in listed] == ["Org1MSP", "Org2MSP", "Org3MSP"]
    assert len(peer.requests(MSG.QUERY_STATE_NEXT)) == 1  # three results in pages of two


def test_shim_context_rejects_a_stub_without_a_proposal() -> None:
    class Stub:
        proposal = None

    with pytest.raises(ProtocolError, match=r"no header$"):
        ShimContext.from_stub(Stub())


def test_chat_registers_then_reaches_ready() -> None:
    handler = FedLedgerHandler("fedledger:abc", FedLedgerChaincode())
    sent: list[Any] = []

    class Stream:
        async def write(self, msg: Any) -> None:
            sent.append(msg)

    async def messages() -> Any:
        yield MSG(type=MSG.REGISTERED)
        await asyncio.sleep(0)
        yield MSG(type=MSG.READY)
        await asyncio.sleep(0)

    asyncio.run(handler.chat_with_peer(messages(), Stream()))

    assert sent[0].type == MSG.REGISTER
    assert chaincode_pb2.ChaincodeID.FromString(sent[0].payload).name == "fedledger:abc"
    assert handler.state == "ready"


def test_serial_writer_never_has_two_writes_outstanding_on_one_stream() -> None:
    import asyncio

    from fedledger_chaincode.fabric.handler import SerialWriter

    class OneWriteAtATime:
        def __init__(self) -> None:
            self.active = 0
            self.written: list[int] = []

        async def write(self, message: int) -> None:
            if self.active:
                raise RuntimeError("GRPC_CALL_ERROR_TOO_MANY_OPERATIONS")
            self.active += 1
            await asyncio.sleep(0)
            self.written.append(message)
            self.active -= 1

    stream = OneWriteAtATime()
    writer = SerialWriter(stream)

    async def many() -> None:
        await asyncio.gather(*(writer.write(i) for i in range(20)))

    asyncio.run(many())

    assert sorted(stream.written) == list(range(20))
