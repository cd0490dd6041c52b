"""TransactionContext over fabric-chaincode-python's stub and our handler's peer channel.

The creator and timestamp are decoded here from the proposal (SignatureHeader → SerializedIdentity,
ChannelHeader → timestamp). State requests go through :meth:`PeerChannel.call_peer` rather than the
stub's helpers because, in shim 2.5.4, those return an ERROR reply's text as if it were the value
and format whole values into log strings; ``call_peer`` raises on ERROR instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from google.protobuf.message import DecodeError

from fedledger.protocol.errors import ProtocolError
from fedledger_chaincode.core.config import ContractConfig
from fedledger_chaincode.core.context import (
    Creator,
    HistoryRecord,
    TransactionContext,
    TxTimestamp,
    composite_key_range_end,
    create_composite_key,
    key_after,
)
from fedledger_chaincode.fabric.protos import (
    chaincode_shim_pb2,
    common_pb2,
    identities_pb2,
    kv_query_result_pb2,
    proposal_pb2,
)

__all__ = ["PeerChannel", "PeerRequestError", "ShimContext", "decode_proposal"]

_MSG = chaincode_shim_pb2.ChaincodeMessage


class PeerRequestError(Exception):
    """The peer answered a state request with an ERROR message."""


class PeerChannel(Protocol):
    """Sends one request of a transaction to the peer and returns the RESPONSE payload."""

    async def call_peer(self, msg_type: int, payload: bytes, channel_id: str, tx_id: str) -> bytes:
        """Return the response payload; raise ``PeerRequestError`` when the peer answers ERROR."""
        ...


def decode_proposal(proposal: Any) -> tuple[Creator, TxTimestamp]:
    """Return the creator and timestamp of a ``peer.Proposal`` (message or serialized bytes).

    Raises ``ProtocolError`` "the transaction proposal cannot be decoded: ..." when a header is
    missing or malformed.
    """
    try:
        if isinstance(proposal, bytes | bytearray):
            proposal = proposal_pb2.Proposal.FromString(bytes(proposal))
        if proposal is None or not proposal.header:
            raise ProtocolError("the transaction proposal cannot be decoded: no header")
        header = common_pb2.Header.FromString(proposal.header)
        signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
        identity = identities_pb2.SerializedIdentity.FromString(signature_header.creator)
        channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    except DecodeError as exc:
        raise ProtocolError(f"the transaction proposal cannot be decoded: {exc}") from None
    creator = Creator(msp_id=identity.mspid, certificate_pem=bytes(identity.id_bytes))
    stamp = channel_header.timestamp
    return creator, TxTimestamp(seconds=int(stamp.seconds), nanos=int(stamp.nanos))


class ShimContext(TransactionContext):
    """A transaction on a Fabric peer; call :meth:`flush` after the function succeeded."""

    def __init__(
        self,
        peer: PeerChannel,
        *,
        channel_id: str,
        tx_id: str,
        tx_timestamp: TxTimestamp,
        creator: Creator,
        config: ContractConfig | None = None,
    ) -> None:
        super().__init__(tx_id=tx_id, tx_timestamp=tx_timestamp, creator=creator, config=config)
        self._peer = peer
        self._channel_id = channel_id

    @classmethod
    def from_stub(cls, stub: Any, config: ContractConfig | None = None) -> ShimContext:
        """Build the context of the shim ``stub``'s transaction (its ``client`` is the handler).

        Raises ``ProtocolError`` when the proposal cannot be decoded.
        """
        creator, timestamp = decode_proposal(stub.proposal)
        return cls(
            stub.client,
            channel_id=stub.channel_id,
            tx_id=stub.tx_id,
            tx_timestamp=timestamp,
            creator=creator,
            config=config,
        )

    async def _call(self, msg_type: int, request: Any) -> bytes:
        return await self._peer.call_peer(
            msg_type, request.SerializeToString(), self._channel_id, self.tx_id
        )

    async def get_state(self, key: str) -> bytes:
        """Return the committed value of ``key`` (``b""`` when absent)."""
        return await self._call(_MSG.GET_STATE, chaincode_shim_pb2.GetState(key=key))

    async def _query(self, first_type: int, request: Any, limit: int | None = None) -> list[Any]:
        """Run a paged query to its end, or until ``limit`` results; returns QueryResultBytes."""
        reply = await self._call(first_type, request)
        response = chaincode_shim_pb2.QueryResponse.FromString(reply)
        results = list(response.results)
        while response.has_more and (limit is None or len(results) < limit):
            more = await self._call(
                _MSG.QUERY_STATE_NEXT, chaincode_shim_pb2.QueryStateNext(id=response.id)
            )
            response = chaincode_shim_pb2.QueryResponse.FromString(more)
            results.extend(response.results)
        if response.id:
            await self._call(
                _MSG.QUERY_STATE_CLOSE, chaincode_shim_pb2.QueryStateClose(id=response.id)
            )
        return results if limit is None else results[:limit]

    async def get_range(
        self, object_type: str, attributes: Sequence[str]
    ) -> list[tuple[str, bytes]]:
        """Return committed (key, value) pairs under a partial composite key, in key order."""
        start = create_composite_key(object_type, attributes)
        request = chaincode_shim_pb2.GetStateByRange(
            startKey=start, endKey=composite_key_range_end(start)
        )
        results = await self._query(_MSG.GET_STATE_BY_RANGE, request)
        return [self._pair(item) for item in results]

    async def get_range_page(
        self, object_type: str, attributes: Sequence[str], *, after: str | None, limit: int
    ) -> list[tuple[str, bytes]]:
        """Return at most ``limit`` pairs under a partial composite key after the key ``after``."""
        prefix = create_composite_key(object_type, attributes)
        start = prefix if after is None else max(prefix, key_after(after))
        request = chaincode_shim_pb2.GetStateByRange(
            startKey=start, endKey=composite_key_range_end(prefix)
        )
        results = await self._query(_MSG.GET_STATE_BY_RANGE, request, limit)
        return [self._pair(item) for item in results]

    @staticmethod
    def _pair(item: Any) -> tuple[str, bytes]:
        kv = kv_query_result_pb2.KV.FromString(item.resultBytes)
        return kv.key, bytes(kv.value)

    async def history(self, key: str) -> list[HistoryRecord]:
        """Return the committed modifications of ``key``, newest first."""
        results = await self._query(
            _MSG.GET_HISTORY_FOR_KEY, chaincode_shim_pb2.GetHistoryForKey(key=key)
        )
        records = []
        for item in results:
            mod = kv_query_result_pb2.KeyModification.FromString(item.resultBytes)
            stamp = TxTimestamp(seconds=int(mod.timestamp.seconds), nanos=int(mod.timestamp.nanos))
            records.append(HistoryRecord(mod.tx_id, stamp, bytes(mod.value), bool(mod.is_delete)))
        return records

    async def flush(self, stub: Any) -> None:
        """Send the buffered writes to the peer and hand the event to the stub.

        The handler attaches the stub's event to the COMPLETED message. Raises
        ``PeerRequestError`` when the peer refuses a write.
        """
        for key, value in self.writes.items():
            await self._call(_MSG.PUT_STATE, chaincode_shim_pb2.PutState(key=key, value=value))
        if self.event is not None:
            stub.set_event(self.event.name, self.event.payload)
