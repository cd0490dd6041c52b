"""The Fabric protobuf modules fedledger's chaincode uses, typed as ``Any``.

The generated ``*_pb2`` modules build their classes at import time and ship no type stubs, so a
type checker sees none of their attributes; importing them through here keeps the rest typed.
"""

from typing import Any

from fabric_protos.common import common_pb2 as _common_pb2
from fabric_protos.ledger.queryresult import kv_query_result_pb2 as _kv_query_result_pb2
from fabric_protos.msp import identities_pb2 as _identities_pb2
from fabric_protos.peer import chaincode_event_pb2 as _chaincode_event_pb2
from fabric_protos.peer import chaincode_pb2 as _chaincode_pb2
from fabric_protos.peer import chaincode_shim_pb2 as _chaincode_shim_pb2
from fabric_protos.peer import proposal_pb2 as _proposal_pb2
from fabric_protos.peer import proposal_response_pb2 as _proposal_response_pb2

__all__ = [
    "chaincode_event_pb2",
    "chaincode_pb2",
    "chaincode_shim_pb2",
    "common_pb2",
    "identities_pb2",
    "kv_query_result_pb2",
    "proposal_pb2",
    "proposal_response_pb2",
]

common_pb2: Any = _common_pb2
kv_query_result_pb2: Any = _kv_query_result_pb2
identities_pb2: Any = _identities_pb2
chaincode_event_pb2: Any = _chaincode_event_pb2
chaincode_pb2: Any = _chaincode_pb2
chaincode_shim_pb2: Any = _chaincode_shim_pb2
proposal_pb2: Any = _proposal_pb2
proposal_response_pb2: Any = _proposal_response_pb2
