"""connect(): from a network profile to a TLS connection with the org's user, without Fabric.

A one-call fake gateway serves TLS with a certificate for the peer's host name only, so a call
that succeeds through 127.0.0.1 proves the host-name override and the org's TLS CA are used.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.msp import identities_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2
from support.identities import new_key, private_key_pem, self_signed_pem, write_msp
from support.profiles import org1_profile

from fedledger.errors import GatewayError, LedgerError
from fedledger.ledger.gateway import connect

PEER_HOST = "peer0.org1.fedledger.local"


class WhoAmI(gateway_pb2_grpc.GatewayServicer):
    """Evaluate answers with the creator's MSP id, as read from the signed proposal."""

    def Evaluate(self, request: Any, context: grpc.ServicerContext) -> Any:
        proposal = proposal_pb2.Proposal.FromString(request.proposed_transaction.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        creator = common_pb2.SignatureHeader.FromString(header.signature_header)
        mspid = identities_pb2.SerializedIdentity.FromString(creator.creator).mspid
        payload = f"{request.channel_id}:{mspid}".encode()
        return gateway_pb2.EvaluateResponse(
            result=proposal_response_pb2.Response(status=200, payload=payload)
        )


@pytest.fixture
def network(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A TLS fake peer (certificate for PEER_HOST only) and the profile that describes it."""
    tls_key = new_key()
    tls_cert = self_signed_pem(tls_key, PEER_HOST, ca=True, dns_names=[PEER_HOST])
    (tmp_path / "tlsca.pem").write_bytes(tls_cert)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    gateway_pb2_grpc.add_GatewayServicer_to_server(WhoAmI(), server)
    credentials = grpc.ssl_server_credentials([(private_key_pem(tls_key), tls_cert)])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    msp = write_msp(tmp_path / "User1" / "msp", new_key(), "User1")
    tls_ca = str(tmp_path / "tlsca.pem")
    peer = {"host": PEER_HOST, "address": f"127.0.0.1:{port}", "tls_ca": tls_ca}
    yield org1_profile(peer, {"User1": str(msp)})
    server.stop(None)


def test_connect_reaches_the_peer_over_tls_by_ip_with_the_peers_host_name(
    network: dict[str, Any],
) -> None:
    # Execute
    with connect(network, org="Org1", user="User1") as contract:
        result = contract.evaluate("WhoAmI")

    # Assert
    assert result == b"fedledger:Org1MSP"


def test_connect_reads_the_profile_from_its_file(network: dict[str, Any], tmp_path: Path) -> None:
    # Prepare
    (tmp_path / "network.json").write_text(json.dumps(network), encoding="utf-8")

    # Execute
    with connect(tmp_path / "network.json") as contract:
        result = contract.evaluate("WhoAmI")

    # Assert
    assert result == b"fedledger:Org1MSP"


def test_connect_refuses_a_peer_whose_certificate_the_org_ca_did_not_issue(
    network: dict[str, Any], tmp_path: Path
) -> None:
    # Prepare: trust another CA than the one that signed the peer's certificate
    other = tmp_path / "other-ca.pem"
    other.write_bytes(self_signed_pem(new_key(), PEER_HOST, ca=True, dns_names=[PEER_HOST]))
    network["orgs"]["Org1"]["peer"]["tls_ca"] = str(other)

    # Execute
    with pytest.raises(GatewayError) as caught, connect(network) as contract:
        contract.evaluate("WhoAmI")

    # Assert
    assert caught.value.stage == "evaluate"
    assert "UNAVAILABLE" in caught.value.details


def test_connect_names_a_missing_tls_ca_certificate(network: dict[str, Any]) -> None:
    # Prepare
    network["orgs"]["Org1"]["peer"]["tls_ca"] = "/nonexistent/tlsca.pem"

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"TLS CA certificate of Org1: /nonexistent/tlsca\.pem"):
        connect(network)


def test_connect_names_an_unknown_org(network: dict[str, Any]) -> None:
    with pytest.raises(LedgerError, match="no org 'Org9'"):
        connect(network, org="Org9")


def _with_unreachable_org1(network: dict[str, Any]) -> dict[str, Any]:
    """Move the fake peer to Org2 and point Org1's peer at a port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    org2 = json.loads(json.dumps(network["orgs"]["Org1"]))
    org2.update(msp_id="Org2MSP", domain="org2.fedledger.local", users={})
    network["orgs"]["Org2"] = org2
    network["orgs"]["Org1"]["peer"] = {
        **network["orgs"]["Org1"]["peer"],
        "address": f"127.0.0.1:{closed}",
    }
    return network


def test_connect_fails_over_to_another_orgs_gateway_when_its_own_is_unreachable(
    network: dict[str, Any],
) -> None:
    # Prepare
    profile = _with_unreachable_org1(network)

    # Execute
    with connect(profile, org="Org1", user="User1") as contract:
        result = contract.evaluate("WhoAmI")
        gateway = contract.gateway

    # Assert: still signed as Org1's user, served by Org2's gateway
    assert result == b"fedledger:Org1MSP"
    assert gateway == profile["orgs"]["Org2"]["peer"]["address"]


def test_connect_pinned_to_its_own_gateway_does_not_fail_over(network: dict[str, Any]) -> None:
    # Prepare
    profile = _with_unreachable_org1(network)

    # Execute
    with (
        pytest.raises(GatewayError, match="UNAVAILABLE"),
        connect(profile, org="Org1", user="User1", gateway_orgs=["Org1"]) as contract,
    ):
        contract.evaluate("WhoAmI")
