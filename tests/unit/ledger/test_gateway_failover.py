"""GatewayContract over several gateway peers: failover, and no transaction committed twice.

Fake transports stand in for each peer's Gateway service (no gRPC server): they share one fake
ordering service and ledger, so a transaction submitted through any peer is known to the
CommitStatus of every peer that is up, as on Fabric. A peer that is down answers every call
with UNAVAILABLE, as gRPC does for a refused connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fabric_protos.gateway import gateway_pb2
from fabric_protos.peer import chaincode_event_pb2, proposal_response_pb2, transaction_pb2
from support.envelopes import prepared_envelope

from fedledger.errors import GatewayError, LedgerError
from fedledger.ledger.failover import GatewayPeer, PeerList
from fedledger.ledger.gateway import GatewayContract, RetryCounts, RetryPolicy
from fedledger.ledger.identity import Identity
from fedledger.ledger.profile import load_profile
from fedledger.ledger.signing import signer_for

IDENTITY = Identity(
    "Org1MSP",
    b"-----BEGIN CERTIFICATE-----\nfake\n",
    signer_for(ec.generate_private_key(ec.SECP256R1())),
)
VALID = transaction_pb2.TxValidationCode.Value("VALID")
MVCC = transaction_pb2.TxValidationCode.Value("MVCC_READ_CONFLICT")
RESULT = b'{"ok":true}'


class FakeRpcError(grpc.RpcError):
    """A failed call as grpc raises it: a status code and details."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[()]:
        return ()


@dataclass
class Ledger:
    """The fake ordering service and ledger behind every peer."""

    blocks: list[str] = field(default_factory=list)  # one transaction id per block
    codes: list[int] = field(default_factory=list)  # validation codes to hand out, then VALID
    status: dict[str, tuple[int, int]] = field(default_factory=dict)  # tx id -> (code, block)

    def order(self, tx_id: str) -> None:
        self.blocks.append(tx_id)
        if tx_id not in self.status:  # a second copy of a tx id is invalid (DUPLICATE_TXID)
            code = self.codes.pop(0) if self.codes else VALID
            self.status[tx_id] = (code, len(self.blocks))


@dataclass
class FakePeer:
    """One peer's Gateway service; ``up`` False makes every call UNAVAILABLE."""

    name: str
    ledger: Ledger
    log: list[tuple[str, str]]
    up: bool = True
    crash_before_submit: bool = False  # dies before the transaction reaches it
    crash_after_submit: bool = False  # forwards the transaction, then dies before replying
    crash_while_waiting: bool = False  # dies during CommitStatus (the transaction is ordered)
    evaluate_code: grpc.StatusCode | None = None
    endorse_failure: tuple[grpc.StatusCode, str] | None = None
    events: list[gateway_pb2.ChaincodeEventsResponse] = field(default_factory=list)
    event_requests: list[int] = field(default_factory=list)
    fail_events_after: int | None = None
    commit_timeouts: list[float | None] = field(default_factory=list)

    def _call(self, name: str) -> None:
        self.log.append((self.name, name))
        if not self.up:
            raise FakeRpcError(grpc.StatusCode.UNAVAILABLE, f"{self.name}: connection refused")

    def evaluate(self, request: Any) -> Any:
        self._call("evaluate")
        if self.evaluate_code is not None:
            raise FakeRpcError(self.evaluate_code, "evaluate failed")
        response = proposal_response_pb2.Response(status=200, payload=self.name.encode())
        return gateway_pb2.EvaluateResponse(result=response)

    def endorse(self, request: Any) -> Any:
        self._call("endorse")
        if self.endorse_failure is not None:
            raise FakeRpcError(*self.endorse_failure)
        envelope = prepared_envelope(request.proposed_transaction.proposal_bytes, RESULT)
        return gateway_pb2.EndorseResponse(prepared_transaction=envelope)

    def submit(self, request: Any) -> Any:
        if self.crash_before_submit:
            self.up = False
        self._call("submit")
        self.ledger.order(request.transaction_id)
        if self.crash_after_submit:
            self.up = False
            raise FakeRpcError(grpc.StatusCode.UNAVAILABLE, f"{self.name}: connection reset")
        return gateway_pb2.SubmitResponse()

    def commit_status(self, request: Any, timeout: float | None = None) -> Any:
        self._call("commit")
        self.commit_timeouts.append(timeout)
        if self.crash_while_waiting:
            self.up = False
            raise FakeRpcError(grpc.StatusCode.UNAVAILABLE, f"{self.name}: connection reset")
        tx_id = gateway_pb2.CommitStatusRequest.FromString(request.request).transaction_id
        if tx_id not in self.ledger.status:
            raise FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "not committed in time")
        code, block = self.ledger.status[tx_id]
        return gateway_pb2.CommitStatusResponse(result=code, block_number=block)

    def chaincode_events(self, request: Any, timeout: float | None = None) -> Any:
        self._call("events")
        start = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
        self.event_requests.append(start.start_position.specified.number)
        return _Stream(self, start.start_position.specified.number)

    def close(self) -> None:
        self.log.append((self.name, "close"))


class _Stream:
    def __init__(self, peer: FakePeer, start: int) -> None:
        self._peer = peer
        self._start = start

    def __iter__(self) -> Iterator[gateway_pb2.ChaincodeEventsResponse]:
        sent = 0
        for response in self._peer.events:
            if response.block_number < self._start:
                continue
            if self._peer.fail_events_after is not None and sent >= self._peer.fail_events_after:
                self._peer.up = False
                raise FakeRpcError(grpc.StatusCode.UNAVAILABLE, "stream broken")
            sent += 1
            yield response

    def cancel(self) -> bool:
        return True


@dataclass
class Network:
    ledger: Ledger
    peers: list[FakePeer]
    log: list[tuple[str, str]]
    sleeps: list[float]
    contract: GatewayContract

    def calls(self) -> list[tuple[str, str]]:
        return [entry for entry in self.log if entry[1] != "close"]


@pytest.fixture
def net() -> Network:
    ledger, log, sleeps = Ledger(), [], []
    peers = [FakePeer(name, ledger, log) for name in ("org1", "org2", "org3")]
    retry = RetryPolicy(resend_attempts=4, conflict_attempts=3, backoff_seconds=0.25)
    contract = GatewayContract(
        [GatewayPeer(p.name, p) for p in peers],
        IDENTITY,
        "fedledger",
        "fedcc",
        retry=retry,
        sleep=sleeps.append,
    )
    return Network(ledger, peers, log, sleeps, contract)


def _event(block: int, tx_id: str) -> gateway_pb2.ChaincodeEventsResponse:
    event = chaincode_event_pb2.ChaincodeEvent(tx_id=tx_id, event_name="E")
    return gateway_pb2.ChaincodeEventsResponse(block_number=block, events=[event])


# ------------------------------------------------------------------ reads and endorsements


def test_evaluate_moves_to_the_next_peer_when_its_own_is_unreachable_and_stays_there(
    net: Network,
) -> None:
    # Prepare
    net.peers[0].up = False

    # Execute
    first = net.contract.evaluate("GetParty", "x")
    second = net.contract.evaluate("GetParty", "y")

    # Assert
    assert (first, second) == (b"org2", b"org2")
    assert net.calls() == [("org1", "evaluate"), ("org2", "evaluate"), ("org2", "evaluate")]
    assert net.contract.gateway == "org2"


def test_evaluate_tries_every_peer_once_and_then_names_the_failure(net: Network) -> None:
    # Prepare
    for peer in net.peers:
        peer.up = False

    # Execute
    with pytest.raises(GatewayError) as caught:
        net.contract.evaluate("GetParty", "x")

    # Assert
    assert caught.value.stage == "evaluate"
    assert "UNAVAILABLE" in caught.value.details and "org3" in caught.value.details
    assert [peer for peer, _ in net.calls()] == ["org1", "org2", "org3"]


def test_an_evaluate_error_other_than_unreachable_does_not_move_to_another_peer(
    net: Network,
) -> None:
    # Prepare
    net.peers[0].evaluate_code = grpc.StatusCode.DEADLINE_EXCEEDED

    # Execute
    with pytest.raises(GatewayError, match="DEADLINE_EXCEEDED"):
        net.contract.evaluate("GetParty", "x")

    # Assert
    assert net.calls() == [("org1", "evaluate")]
    assert net.contract.gateway == "org1"


def test_a_submit_through_an_unreachable_own_peer_is_endorsed_and_ordered_by_the_next(
    net: Network,
) -> None:
    # Prepare
    net.peers[0].up = False

    # Execute
    result = net.contract.submit("CreateAdvertisement", "{}")

    # Assert
    assert result == RESULT
    assert net.calls() == [
        ("org1", "endorse"),
        ("org2", "endorse"),
        ("org2", "submit"),
        ("org2", "commit"),
    ]
    assert len(net.ledger.blocks) == 1


def test_an_endorse_its_own_org_cannot_make_moves_to_another_orgs_gateway(net: Network) -> None:
    # Prepare: Fabric's gateway endorses on its own org first; org1's chaincode server is down
    net.peers[0].endorse_failure = (
        grpc.StatusCode.ABORTED,
        "failed to endorse transaction, see attached details for more info",
    )

    # Execute
    result = net.contract.submit("CreateAdvertisement", "{}")

    # Assert
    assert result == RESULT
    assert net.calls()[:3] == [("org1", "endorse"), ("org2", "endorse"), ("org2", "submit")]


@pytest.mark.parametrize(
    "failure",
    [
        (grpc.StatusCode.UNKNOWN, "chaincode response 500, samples must be positive"),
        (grpc.StatusCode.ABORTED, "chaincode response 500, samples must be positive"),
        (grpc.StatusCode.ABORTED, "failed: ProposalResponsePayloads do not match"),
        (grpc.StatusCode.INVALID_ARGUMENT, "bad proposal"),
    ],
)
def test_a_rejection_or_disagreeing_endorsers_do_not_move_to_another_gateway(
    net: Network, failure: tuple[grpc.StatusCode, str]
) -> None:
    # Prepare
    net.peers[0].endorse_failure = failure

    # Execute
    with pytest.raises(LedgerError):
        net.contract.endorse_only("CreateAdvertisement", "{}")

    # Assert
    assert net.calls() == [("org1", "endorse")]


# ------------------------------------------------------------------ after the submit


def test_a_peer_that_dies_after_forwarding_the_transaction_is_not_followed_by_a_resubmit(
    net: Network,
) -> None:
    # Prepare: org1 forwards the transaction to the orderer, then dies before it replies
    net.peers[0].crash_after_submit = True

    # Execute
    result = net.contract.submit("CreateAdvertisement", "{}")

    # Assert: the next peer is asked for the commit status first, which finds it committed
    assert result == RESULT
    assert net.calls() == [
        ("org1", "endorse"),
        ("org1", "submit"),
        ("org2", "commit"),
    ]
    assert net.peers[1].commit_timeouts == [5.0]  # a bounded probe, not the full wait
    assert len(net.ledger.blocks) == 1 and net.sleeps == [0.25]
    assert net.contract.retries == RetryCounts(probes=1, failovers=1)


def test_a_transaction_the_orderer_never_got_is_resubmitted_unchanged_after_the_probe(
    net: Network,
) -> None:
    # Prepare: org1 endorses, then dies before the transaction reaches it
    net.peers[0].crash_before_submit = True

    # Execute
    result = net.contract.submit("CreateAdvertisement", "{}")

    # Assert: probe on org2 (unknown), then the same transaction id through org2
    assert result == RESULT
    assert net.calls() == [
        ("org1", "endorse"),
        ("org1", "submit"),
        ("org2", "commit"),
        ("org2", "submit"),
        ("org2", "commit"),
    ]
    assert len(net.ledger.blocks) == 1
    assert net.peers[1].commit_timeouts == [5.0, None]
    assert net.contract.retries == RetryCounts(probes=1, resubmits=1, failovers=1)


def test_a_peer_that_dies_while_the_client_waits_for_the_commit_is_replaced_by_a_probe(
    net: Network,
) -> None:
    # Prepare
    net.peers[0].crash_while_waiting = True

    # Execute
    result = net.contract.submit("CreateAdvertisement", "{}")

    # Assert
    assert result == RESULT
    assert net.calls() == [
        ("org1", "endorse"),
        ("org1", "submit"),
        ("org1", "commit"),
        ("org2", "commit"),
    ]
    assert len(net.ledger.blocks) == 1


def test_an_unreachable_probe_peer_hands_the_probe_to_the_one_after(net: Network) -> None:
    # Prepare
    net.peers[0].crash_after_submit = True
    net.peers[1].up = False

    # Execute
    net.contract.submit("CreateAdvertisement", "{}")

    # Assert
    assert net.calls()[1:] == [("org1", "submit"), ("org2", "commit"), ("org3", "commit")]
    assert len(net.ledger.blocks) == 1
    assert net.contract.gateway == "org3"


def test_a_conflict_found_by_the_probe_builds_a_new_transaction(net: Network) -> None:
    # Prepare: the first transaction reached the ledger, invalid with an MVCC conflict
    net.peers[0].crash_after_submit = True
    net.ledger.codes = [MVCC]

    # Execute
    result = net.contract.submit("CreateAdvertisement", "{}")

    # Assert
    assert result == RESULT
    first, second = net.ledger.blocks
    assert first != second
    assert net.ledger.status[first][0] == MVCC and net.ledger.status[second][0] == VALID
    assert net.contract.retries == RetryCounts(conflicts=1, probes=1, failovers=1)


def test_when_every_peer_is_gone_after_the_submit_the_error_names_the_transaction(
    net: Network,
) -> None:
    # Prepare
    net.peers[0].crash_after_submit = True
    net.peers[1].up = False
    net.peers[2].up = False

    # Execute
    with pytest.raises(GatewayError) as caught:
        net.contract.submit("CreateAdvertisement", "{}")

    # Assert
    assert caught.value.stage == "commit"
    assert caught.value.tx_id == net.ledger.blocks[0]
    assert len(net.ledger.blocks) == 1
    assert net.sleeps == [0.25, 0.5, 0.75]


def test_commit_status_by_transaction_id_reports_the_code_or_none(net: Network) -> None:
    # Prepare
    net.ledger.order("a" * 64)

    # Execute / Assert
    assert net.contract.commit_status("a" * 64) == "VALID"
    assert net.contract.commit_status("b" * 64, timeout=0.1) is None
    assert net.peers[0].commit_timeouts == [5.0, 0.1]


# ------------------------------------------------------------------ events


def test_an_event_stream_resumes_on_the_next_peer_after_the_last_block_it_delivered(
    net: Network,
) -> None:
    # Prepare: both peers hold blocks 3, 5 and 8; org1's stream breaks after two of them
    blocks = [_event(3, "a"), _event(5, "b"), _event(8, "c")]
    net.peers[0].events = blocks
    net.peers[0].fail_events_after = 2
    net.peers[1].events = blocks

    # Execute
    seen = [(e.block_number, e.tx_id) for e in net.contract.events(start_block=2)]

    # Assert
    assert seen == [(3, "a"), (5, "b"), (8, "c")]
    assert net.peers[0].event_requests == [2]
    assert net.peers[1].event_requests == [6]


def test_an_event_stream_that_fails_on_every_peer_is_a_gateway_error(net: Network) -> None:
    # Prepare
    for peer in net.peers:
        peer.up = False

    # Execute
    with pytest.raises(GatewayError) as caught:
        list(net.contract.events())

    # Assert
    assert caught.value.stage == "events"
    assert [peer for peer, _ in net.calls()] == ["org1", "org2", "org3"]


# ------------------------------------------------------------------ the peer list itself


def test_concurrent_failures_of_the_same_peer_move_the_list_once() -> None:
    # Prepare
    peers = PeerList([GatewayPeer(n, None) for n in ("a", "b", "c")])  # type: ignore[arg-type]
    failed = peers.current

    # Execute
    peers.fail_over(failed)
    peers.fail_over(failed)  # a second caller that saw the same failure

    # Assert
    assert peers.current.name == "b"
    peers.fail_over(peers.current)
    peers.fail_over(peers.current)
    assert peers.current.name == "a"  # wraps around


def test_a_peer_list_needs_a_peer_and_closing_closes_every_connection(net: Network) -> None:
    with pytest.raises(LedgerError, match="at least one gateway peer"):
        PeerList([])

    net.contract.close()

    assert [entry for entry in net.log if entry[1] == "close"] == [
        ("org1", "close"),
        ("org2", "close"),
        ("org3", "close"),
    ]


def test_the_probe_needs_positive_seconds() -> None:
    with pytest.raises(LedgerError, match="positive number of seconds"):
        RetryPolicy(probe_seconds=0)


def test_a_client_prefers_its_own_orgs_gateway_then_the_others_in_profile_order(
    tmp_path: Any,
) -> None:
    # Prepare
    def org(index: int) -> dict[str, Any]:
        peer = {"host": f"peer0.org{index}", "address": f"127.0.0.1:{7000 + index}", "tls_ca": "x"}
        return {"msp_id": f"Org{index}MSP", "domain": f"org{index}", "peer": peer, "users": {}}

    profile = load_profile(
        {
            "channel": "c",
            "chaincode": "cc",
            "orgs": {f"Org{i}": org(i) for i in (1, 2, 3)},
            "orderer": org(9)["peer"],
        }
    )

    # Execute / Assert
    assert profile.gateway_orgs("Org2") == ["Org2", "Org1", "Org3"]
    assert profile.gateway_orgs("Org1") == ["Org1", "Org2", "Org3"]
    with pytest.raises(LedgerError, match="no org 'Org7'"):
        profile.gateway_orgs("Org7")
