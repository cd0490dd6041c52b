"""A stream handler and servicer that fix fabric-chaincode-python 2.5.4's gaps for fedledger.

- Events: the stock handler never puts the stub's event on the COMPLETED message, so events
  would never reach the peer; :meth:`FedLedgerHandler.handle_stub_interaction` attaches the last
  event set (Fabric keeps one per transaction) to ``ChaincodeMessage.chaincode_event``.
- Logging: the stock stream loop formats every whole proposal and payload into log strings with
  f-strings (tens of milliseconds per MiB, even with logging off); our loop logs nothing per
  message, and ``call_peer`` replaces the stub's state helpers, which format whole values.
- Errors: a proposal the stub cannot decode, or an ERROR reply to a state request, becomes an
  error response instead of a stuck transaction or a misread value.
- Concurrency: transactions run as concurrent tasks on one stream, and a gRPC stream accepts one
  write at a time (a second one fails with GRPC_CALL_ERROR_TOO_MANY_OPERATIONS), so every write
  goes through :class:`SerialWriter`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable
from typing import Any

from fabric_chaincode_python.fabric_shim.handler import STATES, Handler
from fabric_chaincode_python.fabric_shim.msg_queue_handler import MsgQueueHandler, QueueMessage
from fabric_chaincode_python.fabric_shim.response import ResponseCode, new_error_msg
from fabric_chaincode_python.fabric_shim.server import ChaincodeService
from fabric_chaincode_python.fabric_shim.stub import ChaincodeStub

from fedledger_chaincode.fabric.protos import (
    chaincode_pb2,
    chaincode_shim_pb2,
    proposal_response_pb2,
)
from fedledger_chaincode.fabric.shim_context import PeerRequestError

__all__ = ["FedLedgerHandler", "FedLedgerService", "SerialWriter"]

LOGGER = logging.getLogger("fedledger_chaincode")
_MSG = chaincode_shim_pb2.ChaincodeMessage


class SerialWriter:
    """The servicer context with writes serialised: one outstanding write per stream."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._lock = asyncio.Lock()

    async def write(self, message: Any) -> None:
        async with self._lock:
            await self._context.write(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class FedLedgerHandler(Handler):  # type: ignore[misc]  # the shim is untyped
    """One peer stream: registration, then transactions, with events and quiet logging."""

    async def call_peer(self, msg_type: int, payload: bytes, channel_id: str, tx_id: str) -> bytes:
        """Send one request of transaction ``tx_id`` and wait for the peer's answer.

        Returns the RESPONSE payload. Raises ``PeerRequestError`` with the peer's text on ERROR.
        """
        msg = _MSG(type=msg_type, payload=payload, txid=tx_id, channel_id=channel_id)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self.msg_queue_handler.queue_msg(QueueMessage(msg, _MSG.Type.Name(msg_type), future))
        reply = await future
        if reply.type == _MSG.RESPONSE:
            return bytes(reply.payload)
        text = bytes(reply.payload).decode("utf-8", errors="replace")
        raise PeerRequestError(f"{_MSG.Type.Name(msg_type)} failed: {text}")

    async def _run_chaincode(self, msg: Any, action: str) -> tuple[Any, Any]:
        """Return (response, stub); the stub is None when the message could not be decoded."""
        try:
            cc_input = chaincode_pb2.ChaincodeInput.FromString(msg.payload)
            stub = ChaincodeStub(self, msg.channel_id, msg.txid, cc_input, msg.proposal)
        except Exception:
            LOGGER.exception("transaction %s: cannot decode the transaction message", msg.txid)
            message = "the chaincode cannot decode the transaction message"
            return proposal_response_pb2.Response(status=ResponseCode.ERROR, message=message), None
        if action == "Init":
            response = await self.chaincode.init(stub)
        else:
            response = await self.chaincode.invoke(stub)
        if response is None or not response.status:
            message = f"{action} returned no response"
            response = proposal_response_pb2.Response(status=ResponseCode.ERROR, message=message)
        return response, stub

    async def handle_stub_interaction(self, msg: Any, action: str = "Invoke") -> None:
        """Run Init/Invoke and send COMPLETED, carrying the event of a successful transaction."""
        action = "Init" if (action or "").lower() == "init" else "Invoke"
        response, stub = await self._run_chaincode(msg, action)
        completed = _MSG(
            type=_MSG.COMPLETED,
            payload=response.SerializeToString(),
            txid=msg.txid,
            channel_id=msg.channel_id,
        )
        if stub is not None and response.status < ResponseCode.ERRORTHRESHOLD:
            events = stub.get_events()
            if events:
                completed.chaincode_event.CopyFrom(events[-1])
        await self.context.write(completed)

    async def handle_message(self, msg: Any) -> None:
        """Dispatch one peer message by handler state (without the stock per-message warning)."""
        if msg.type == _MSG.KEEPALIVE:
            return
        if self.state == STATES.READY:
            await self.handle_message_ready(msg)
        elif self.state == STATES.ESTABLISHED:
            await self.handle_message_established(msg)
        elif self.state == STATES.CREATED:
            await self.handle_message_created(msg)
        else:
            await self.context.write(new_error_msg(msg, self.state))

    async def chat_with_peer(self, stream: AsyncIterable[Any], context: Any) -> None:
        """Register with the peer, then handle its messages until the stream ends."""
        self.state = STATES.CREATED
        self.context = SerialWriter(context)
        self.msg_queue_handler = MsgQueueHandler(self)
        register = _MSG(type=_MSG.REGISTER, payload=self.chaincode_id.SerializeToString())
        register.timestamp.GetCurrentTime()
        await self.context.write(register)
        async for message in stream:
            if message is None:
                LOGGER.error("received an empty message; ending the chaincode stream")
                break
            # Handle concurrently: a transaction waits for replies that arrive on this stream.
            self._track_task(self.handle_message(message))
        if self._pending_tasks:
            await asyncio.gather(*self._pending_tasks, return_exceptions=True)


class FedLedgerService(ChaincodeService):  # type: ignore[misc]  # the shim is untyped
    """The shim's Chaincode servicer, with one :class:`FedLedgerHandler` per peer stream."""

    async def Connect(self, request_iterator: AsyncIterable[Any], context: Any) -> None:
        """Serve one peer stream (gRPC method name)."""
        try:
            await FedLedgerHandler(self._ccid, self._cc).chat_with_peer(request_iterator, context)
        except asyncio.CancelledError:
            LOGGER.info("peer stream cancelled")
            raise
