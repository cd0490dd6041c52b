"""GatewayContract against an in-process fake of Fabric's Gateway service (no Fabric needed).

The fake checks every signature with the client's public key and records each call, so the tests
can assert the Endorse -> Submit -> CommitStatus sequence, what is re-sent, what is rebuilt and
what is never retried.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from support.envelopes import prepared_envelope

from fedledger.errors import CommitError, ContractError, GatewayError, LedgerError
from fedledger.ledger.gateway import GatewayContract, RetryPolicy
from fedledger.ledger.identity import Identity
from fedledger.ledger.interface import ChaincodeEvent
from fedledger.ledger.proposal import serialize_identity
from fedledger.ledger.rpc_errors import STATUS_DETAILS_KEY, ErrorDetail, encode_status_details
from fedledger.ledger.signing import sha256, signer_for, verify_digest
from fedledger.ledger.transport import GatewayTransport, Timeouts, open_channel

KEY = ec.generate_private_key(ec.SECP256R1())
IDENTITY = Identity("Org1MSP", b"-----BEGIN CERTIFICATE-----\nfake\n", signer_for(KEY))
CODES = transaction_pb2.TxValidationCode
Failure = tuple[grpc.StatusCode, str, list[ErrorDetail]]


def _abort(context: grpc.ServicerContext, failure: Failure) -> None:
    code, message, details = failure
    if details:
        blob = encode_status_details(code.value[0], message, details)
        context.set_trailing_metadata(((STATUS_DETAILS_KEY, blob),))
    context.abort(code, message)


def _args(proposal_bytes: bytes) -> list[bytes]:
    proposal = proposal_pb2.Proposal.FromString(proposal_bytes)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input).chaincode_spec
    return list(spec.input.args)


class FakeGateway(gateway_pb2_grpc.GatewayServicer):
    """Scripted gateway: failures are consumed in order, then calls succeed.

    Like a peer, CommitStatus knows only transactions that reached the orderer: for any other
    it waits out the deadline. A scripted Submit failure normally means the transaction did not
    reach the orderer; with ``deliver_failed_submits`` it did and only the reply was lost.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.requests: dict[str, list[Any]] = {}
        self.bad_signatures: list[str] = []
        self.result = b'{"ok":true}'
        self.evaluate_failure: Failure | None = None
        self.endorse_failure: Failure | None = None
        self.endorse_failures: list[Failure] = []
        self.submit_failures: list[Failure] = []
        self.commit_failures: list[Failure] = []
        self.commit_codes: list[int] = []
        self.ordered: set[str] = set()
        self.deliver_failed_submits = False
        self.event_responses: list[gateway_pb2.ChaincodeEventsResponse] = []
        self.hold_events_open = False

    def _record(self, name: str, request: Any, signed: bytes, signature: bytes) -> None:
        self.calls.append(name)
        self.requests.setdefault(name, []).append(request)
        if not verify_digest(KEY.public_key(), sha256(signed), signature):
            self.bad_signatures.append(name)

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:
        proposal = request.proposed_transaction
        self._record("evaluate", request, proposal.proposal_bytes, proposal.signature)
        if self.evaluate_failure:
            _abort(context, self.evaluate_failure)
        payload = b"|".join(_args(proposal.proposal_bytes))
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=payload)
        )

    def Endorse(self, request: Any, context: grpc.ServicerContext) -> Any:
        proposal = request.proposed_transaction
        self._record("endorse", request, proposal.proposal_bytes, proposal.signature)
        if self.endorse_failure:
            _abort(context, self.endorse_failure)
        if self.endorse_failures:
            _abort(context, self.endorse_failures.pop(0))
        envelope = prepared_envelope(proposal.proposal_bytes, self.result)
        return gateway_pb2.EndorseResponse(prepared_transaction=envelope)

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:
        envelope = request.prepared_transaction
        self._record("submit", request, envelope.payload, envelope.signature)
        if self.submit_failures:
            if self.deliver_failed_submits:
                self.ordered.add(request.transaction_id)
            _abort(context, self.submit_failures.pop(0))
        self.ordered.add(request.transaction_id)
        return gateway_pb2.SubmitResponse()

    def CommitStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._record("commit", request, request.request, request.signature)
        if self.commit_failures:
            _abort(context, self.commit_failures.pop(0))
        tx_id = gateway_pb2.CommitStatusRequest.FromString(request.request).transaction_id
        if tx_id not in self.ordered:
            _abort(context, (grpc.StatusCode.DEADLINE_EXCEEDED, "not committed", []))
        code = self.commit_codes.pop(0) if self.commit_codes else CODES.Value("VALID")
        return gateway_pb2.CommitStatusResponse(result=code, block_number=len(self.calls))

    def ChaincodeEvents(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        self._record("events", request, request.request, request.signature)
        yield from self.event_responses
        stopped = threading.Event()
        context.add_callback(stopped.set)
        while self.hold_events_open and context.is_active():
            stopped.wait(0.05)


@pytest.fixture
def gateway() -> Iterator[tuple[FakeGateway, GatewayContract, list[float]]]:
    fake = FakeGateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    gateway_pb2_grpc.add_GatewayServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sleeps: list[float] = []
    transport = GatewayTransport(open_channel(f"127.0.0.1:{port}"))
    retry = RetryPolicy(resend_attempts=3, conflict_attempts=3, backoff_seconds=0.25)
    contract = GatewayContract(
        transport, IDENTITY, "fedledger", "fedcc", retry=retry, sleep=sleeps.append
    )
    yield fake, contract, sleeps
    contract.close()
    server.stop(None)


def _tx_ids(fake: FakeGateway, name: str) -> list[str]:
    return [request.transaction_id for request in fake.requests.get(name, [])]


def test_evaluate_returns_the_result_of_a_signed_proposal(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway

    # Execute
    result = contract.evaluate("ListAdvertisements", "task-1", "2")

    # Assert
    assert result == b"ListAdvertisements|task-1|2"
    assert fake.calls == ["evaluate"] and fake.bad_signatures == []
    assert fake.requests["evaluate"][0].channel_id == "fedledger"


def test_evaluate_rejection_is_a_contract_error_with_the_contracts_message(gateway: Any) -> None:
    # Prepare: the status Fabric's gateway sends for a chaincode error during Evaluate
    fake, contract, _ = gateway
    text = "chaincode response 500, party Org1MSP is not registered"
    detail = ErrorDetail("peer0.org1.fedledger.local:7051", "Org1MSP", text)
    fake.evaluate_failure = (
        grpc.StatusCode.UNKNOWN,
        f"evaluate call to endorser returned error: {text}",
        [detail],
    )

    # Execute
    with pytest.raises(ContractError) as caught:
        contract.evaluate("GetParty", "Org1MSP")

    # Assert
    assert caught.value.message == "party Org1MSP is not registered"
    assert caught.value.stage == "evaluate"
    assert caught.value.tx_id == _tx_ids(fake, "evaluate")[0]


def test_submit_endorses_submits_the_signed_envelope_and_waits_for_the_commit(
    gateway: Any,
) -> None:
    # Prepare
    fake, contract, _ = gateway
    fake.result = b'{"party":"Org1MSP"}'

    # Execute
    result = contract.submit("RegisterParty", "Org1MSP", "pubkey")

    # Assert
    assert result == b'{"party":"Org1MSP"}'
    assert fake.calls == ["endorse", "submit", "commit"]
    assert fake.bad_signatures == []
    tx_id = _tx_ids(fake, "endorse")[0]
    assert _tx_ids(fake, "submit") == [tx_id]
    status = gateway_pb2.CommitStatusRequest.FromString(fake.requests["commit"][0].request)
    assert (status.transaction_id, status.channel_id) == (tx_id, "fedledger")
    assert status.identity == serialize_identity(IDENTITY)


def test_submit_rejection_is_a_contract_error_and_is_never_retried(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway
    detail = ErrorDetail("peer0:7051", "Org1MSP", "chaincode response 500, round 2 is closed")
    fake.endorse_failure = (
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction, see attached details for more info",
        [detail],
    )

    # Execute
    with pytest.raises(ContractError) as caught:
        contract.submit("SubmitUpdate", "t1", "2")

    # Assert
    assert (caught.value.message, caught.value.stage) == ("round 2 is closed", "endorse")
    assert caught.value.tx_id == _tx_ids(fake, "endorse")[0]
    assert fake.calls == ["endorse"]


def test_a_submit_timeout_asks_the_commit_status_then_resends_the_same_transaction(
    gateway: Any,
) -> None:
    # Prepare: the transaction never reached the orderer
    fake, contract, sleeps = gateway
    fake.submit_failures = [(grpc.StatusCode.DEADLINE_EXCEEDED, "timeout", [])]

    # Execute
    contract.submit("SubmitUpdate", "t1")

    # Assert: CommitStatus first (unknown), then the same signed envelope again
    assert fake.calls == ["endorse", "submit", "commit", "submit", "commit"]
    first, second = fake.requests["submit"]
    assert first.SerializeToString() == second.SerializeToString()
    assert sleeps == [0.25]


def test_a_submit_whose_reply_was_lost_is_found_by_its_commit_status_and_not_resent(
    gateway: Any,
) -> None:
    # Prepare: the orderer got the transaction, the reply to Submit was lost
    fake, contract, _ = gateway
    fake.deliver_failed_submits = True
    fake.submit_failures = [(grpc.StatusCode.UNAVAILABLE, "connection reset", [])]

    # Execute
    result = contract.submit("SubmitUpdate", "t1")

    # Assert
    assert result == fake.result
    assert fake.calls == ["endorse", "submit", "commit"]


def test_a_commit_status_timeout_asks_again_then_resends_the_same_transaction(
    gateway: Any,
) -> None:
    # Prepare: the transaction was lost after the orderer accepted it (e.g. its leader died)
    fake, contract, _ = gateway
    fake.commit_failures = [(grpc.StatusCode.DEADLINE_EXCEEDED, "timeout", [])] * 2

    # Execute
    contract.submit("CloseRound", "t1", "1")

    # Assert
    assert fake.calls == ["endorse", "submit", "commit", "commit", "submit", "commit"]
    assert len({request.request for request in fake.requests["commit"]}) == 1
    assert len({r.SerializeToString() for r in fake.requests["submit"]}) == 1


def test_submit_gives_up_after_the_resend_attempts(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway
    detail = ErrorDetail("orderer:7050", "OrdererMSP", "connection refused")
    fake.submit_failures = [(grpc.StatusCode.UNAVAILABLE, "no orderers", [detail])] * 5

    # Execute
    with pytest.raises(GatewayError) as caught:
        contract.submit("SubmitUpdate", "t1")

    # Assert: three submits of one transaction, each retry preceded by its commit status
    assert fake.calls == ["endorse", "submit", "commit", "submit", "commit", "submit"]
    assert caught.value.stage == "submit"
    assert caught.value.tx_id == _tx_ids(fake, "endorse")[0]
    assert "OrdererMSP orderer:7050: connection refused" in caught.value.details


def test_submit_refused_by_the_orderer_is_not_resent(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway
    message = "received unsuccessful response from orderer: BAD_REQUEST"
    fake.submit_failures = [(grpc.StatusCode.ABORTED, message, [])]

    # Execute
    with pytest.raises(GatewayError, match="BAD_REQUEST") as caught:
        contract.submit("SubmitUpdate", "t1")

    # Assert
    assert fake.calls == ["endorse", "submit"]
    assert not isinstance(caught.value, ContractError)


def test_mvcc_conflict_builds_and_endorses_a_new_transaction(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway
    fake.commit_codes = [CODES.Value("MVCC_READ_CONFLICT")]

    # Execute
    result = contract.submit("CloseRound", "t1", "1")

    # Assert
    assert result == fake.result
    assert fake.calls == ["endorse", "submit", "commit"] * 2
    first, second = _tx_ids(fake, "endorse")
    assert first != second
    assert _tx_ids(fake, "submit") == [first, second]


def test_repeated_mvcc_conflicts_end_in_a_commit_error(gateway: Any) -> None:
    # Prepare
    fake, contract, sleeps = gateway
    fake.commit_codes = [CODES.Value("MVCC_READ_CONFLICT")] * 3

    # Execute
    with pytest.raises(CommitError) as caught:
        contract.submit("CloseRound", "t1", "1")

    # Assert
    assert caught.value.code == "MVCC_READ_CONFLICT"
    assert caught.value.tx_id == _tx_ids(fake, "endorse")[-1]
    assert caught.value.block_number == len(fake.calls)
    assert fake.calls.count("endorse") == 3
    # Re-endorsed almost at once: a random pause below the conflict backoff times the attempt.
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.1 and 0 <= sleeps[1] <= 0.2


def test_an_invalid_commit_other_than_a_conflict_is_not_retried(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway
    fake.commit_codes = [CODES.Value("ENDORSEMENT_POLICY_FAILURE")]

    # Execute
    with pytest.raises(CommitError, match="validation code ENDORSEMENT_POLICY_FAILURE") as caught:
        contract.submit("RegisterParty", "Org1MSP")

    # Assert
    assert caught.value.stage == "commit"
    assert fake.calls == ["endorse", "submit", "commit"]


def test_a_peer_failure_at_endorse_is_a_gateway_error_with_the_peers_message(
    gateway: Any,
) -> None:
    # Prepare
    fake, contract, _ = gateway
    detail = ErrorDetail("peer0:7051", "Org1MSP", "chaincode fedcc not found")
    fake.endorse_failure = (grpc.StatusCode.ABORTED, "failed to endorse transaction", [detail])

    # Execute
    with pytest.raises(GatewayError) as caught:
        contract.submit("RegisterParty", "Org1MSP")

    # Assert
    assert not isinstance(caught.value, ContractError)
    assert caught.value.stage == "endorse"
    assert "chaincode fedcc not found" in caught.value.details
    assert fake.calls == ["endorse"]


def test_events_yields_chaincode_events_from_the_requested_block(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway
    event = chaincode_event_pb2.ChaincodeEvent
    fake.event_responses = [
        gateway_pb2.ChaincodeEventsResponse(
            block_number=5,
            events=[
                event(chaincode_id="fedcc", tx_id="a", event_name="PartyRegistered", payload=b"1"),
                event(chaincode_id="fedcc", tx_id="b", event_name="RoundOpened", payload=b"2"),
            ],
        ),
        gateway_pb2.ChaincodeEventsResponse(
            block_number=7,
            events=[event(chaincode_id="fedcc", tx_id="c", event_name="RoundClosed")],
        ),
    ]

    # Execute
    events = list(contract.events(start_block=5))

    # Assert
    assert events == [
        ChaincodeEvent(5, "a", "PartyRegistered", b"1"),
        ChaincodeEvent(5, "b", "RoundOpened", b"2"),
        ChaincodeEvent(7, "c", "RoundClosed", b""),
    ]
    request = gateway_pb2.ChaincodeEventsRequest.FromString(fake.requests["events"][0].request)
    assert request.start_position.specified.number == 5
    assert (request.channel_id, request.chaincode_id) == ("fedledger", "fedcc")
    assert fake.bad_signatures == []


def test_closing_the_contract_ends_a_blocked_event_stream(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway
    fake.hold_events_open = True
    fake.event_responses = [
        gateway_pb2.ChaincodeEventsResponse(
            block_number=1,
            events=[chaincode_event_pb2.ChaincodeEvent(tx_id="a", event_name="E")],
        )
    ]
    stream = contract.events()

    # Execute
    first = next(stream)
    contract.close()
    rest = list(stream)

    # Assert
    assert first.tx_id == "a"
    assert rest == []


def test_events_refuses_a_negative_start_block(gateway: Any) -> None:
    _, contract, _ = gateway
    with pytest.raises(LedgerError, match="start_block must be non-negative"):
        next(contract.events(start_block=-1))


def test_an_unreachable_gateway_is_a_gateway_error_naming_the_stage() -> None:
    # Prepare: bind then release a port so nothing listens on it
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = GatewayTransport(open_channel(f"127.0.0.1:{port}"), Timeouts(evaluate=10))
    contract = GatewayContract(transport, IDENTITY, "fedledger", "fedcc")

    # Execute
    with pytest.raises(GatewayError) as caught, contract:
        contract.evaluate("GetParty", "Org1MSP")

    # Assert
    assert caught.value.stage == "evaluate"
    assert "UNAVAILABLE" in caught.value.details


def test_a_contract_needs_an_identity_that_can_sign() -> None:
    transport = GatewayTransport(open_channel("127.0.0.1:1"))
    with pytest.raises(LedgerError, match="has no signer"):
        GatewayContract(transport, Identity("Org1MSP", b"pem"), "fedledger", "fedcc")
    transport.close()


def test_retry_policy_refuses_zero_attempts() -> None:
    with pytest.raises(LedgerError, match="at least 1"):
        RetryPolicy(resend_attempts=0)


_DIVERGED = (
    grpc.StatusCode.ABORTED,
    "failed to collect enough transaction endorsements",
    [
        ErrorDetail("127.0.0.1:7151", "Org1MSP", "ProposalResponsePayloads do not match"),
        ErrorDetail("127.0.0.1:7251", "Org2MSP", "ProposalResponsePayloads do not match"),
    ],
)


def test_endorsers_that_disagree_get_a_fresh_proposal_once_they_catch_up(gateway: Any) -> None:
    # Prepare: peers at different block heights endorse different results once
    fake, contract, sleeps = gateway
    fake.endorse_failures = [_DIVERGED]

    # Execute
    result = contract.submit("SubmitDecryptionShare", "t1", "1", "c2hhcmU=")

    # Assert
    assert result == fake.result
    assert fake.calls == ["endorse", "endorse", "submit", "commit"]
    first, second = _tx_ids(fake, "endorse")
    assert first != second
    assert sleeps == [0.25]


def test_endorsers_that_keep_disagreeing_end_in_a_gateway_error(gateway: Any) -> None:
    # Prepare
    fake, contract, _ = gateway
    fake.endorse_failures = [_DIVERGED] * 3

    # Execute
    with pytest.raises(GatewayError, match="ProposalResponsePayloads do not match") as caught:
        contract.submit("SubmitDecryptionShare", "t1", "1", "c2hhcmU=")

    # Assert
    assert caught.value.stage == "endorse"
    assert fake.calls == ["endorse"] * 3
