"""The Fabric chaincode: the shim's ``Chaincode`` entry points over the shared dispatcher.

``invoke`` decodes the arguments and the proposal, runs :func:`router.execute`, and only when the
function succeeded sends its buffered writes to the peer and hands its event to the stub. It
answers ``success(payload)`` or ``error(message)``; a contract rejection's message is passed on
verbatim and anything unexpected becomes a short message naming the function.
"""

from __future__ import annotations

import logging
from typing import Any

from fabric_chaincode_python.fabric_shim.interfaces import Chaincode
from fabric_chaincode_python.fabric_shim.response import error, success
from fabric_protos.peer.proposal_response_pb2 import Response

from fedledger.protocol.errors import ProtocolError
from fedledger_chaincode.core.config import ContractConfig
from fedledger_chaincode.core.contract import build_router
from fedledger_chaincode.core.router import Router, decode_arguments, execute
from fedledger_chaincode.fabric.shim_context import ShimContext

__all__ = ["FedLedgerChaincode"]

LOGGER = logging.getLogger("fedledger_chaincode")


class FedLedgerChaincode(Chaincode):  # type: ignore[misc]  # the shim is untyped
    """fedledger's contract as a fabric-chaincode-python chaincode."""

    def __init__(self, router: Router | None = None, config: ContractConfig | None = None) -> None:
        self._router = router if router is not None else build_router()
        self._config = config if config is not None else ContractConfig()

    async def init(self, stub: Any) -> Any:  # type: ignore[override]
        """Nothing to initialise: every asset is created by a transaction."""
        return success(b"")

    async def invoke(self, stub: Any) -> Any:  # type: ignore[override]
        """Run one transaction; returns the shim's success or error Response."""
        try:
            function, args = decode_arguments(list(stub.cc_input.args))
            ctx = ShimContext.from_stub(stub, self._config)
        except ProtocolError as exc:
            return error(str(exc))
        outcome = await execute(self._router, ctx, function, args)
        if outcome.error is not None:
            return Response(status=outcome.status, message=outcome.error)
        try:
            await ctx.flush(stub)
        except Exception:
            LOGGER.exception("transaction %s (%s): writing its results failed", function, ctx.tx_id)
            return error(f"{function} failed: the peer did not accept its writes")
        return success(outcome.payload)
