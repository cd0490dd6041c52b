"""Server configuration from the environment, gRPC options, TLS wiring and binding."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cc_helpers import MSG, party_json, transaction
from fabric_protos.peer import chaincode_shim_pb2_grpc
from support.identities import make_identity, new_key, private_key_pem, self_signed_pem

from fedledger.ledger.identity import Identity
from fedledger_chaincode.fabric import server
from fedledger_chaincode.fabric.protos import proposal_response_pb2
from fedledger_chaincode.fabric.server import (
    MAX_MESSAGE_BYTES,
    ServerConfig,
    ServerConfigError,
    build_server,
    config_from_env,
    grpc_options,
    server_credentials,
)

BASE = {"CHAINCODE_ID": "fedledger:0123", "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:0"}


def write_tls_pair(folder: Path) -> tuple[Path, Path]:
    key = new_key()
    key_path, cert_path = folder / "server.key", folder / "server.crt"
    key_path.write_bytes(private_key_pem(key))
    cert_path.write_bytes(self_signed_pem(key, "localhost"))
    return key_path, cert_path


@pytest.mark.parametrize("missing", ["CHAINCODE_ID", "CHAINCODE_SERVER_ADDRESS"])
def test_missing_required_variables_are_named(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}

    with pytest.raises(ServerConfigError) as rejected:
        config_from_env(env)

    assert str(rejected.value) == f"{missing} is not set: the chaincode server needs it to start"


def test_plain_configuration_has_no_tls() -> None:
    config = config_from_env(BASE)

    assert config == ServerConfig(chaincode_id="fedledger:0123", address="127.0.0.1:0")
    assert server_credentials(config) is None


def test_tls_files_are_read_and_mutual_tls_needs_the_pair(tmp_path: Path) -> None:
    key, cert = write_tls_pair(tmp_path)
    env = {
        **BASE,
        "FEDLEDGER_CC_TLS_KEY_FILE": str(key),
        "FEDLEDGER_CC_TLS_CERT_FILE": str(cert),
        "FEDLEDGER_CC_TLS_CLIENT_CA_FILE": str(cert),
    }

    config = config_from_env(env)

    assert (config.tls_key, config.tls_cert) == (key.read_bytes(), cert.read_bytes())
    assert config.tls_client_ca == cert.read_bytes()
    assert server_credentials(config) is not None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"FEDLEDGER_CC_TLS_KEY_FILE": "KEY"},
            "FEDLEDGER_CC_TLS_KEY_FILE and FEDLEDGER_CC_TLS_CERT_FILE must be set together",
        ),
        (
            {"FEDLEDGER_CC_TLS_CLIENT_CA_FILE": "KEY"},
            "FEDLEDGER_CC_TLS_CLIENT_CA_FILE needs FEDLEDGER_CC_TLS_KEY_FILE and "
            "FEDLEDGER_CC_TLS_CERT_FILE (mutual TLS is TLS first)",
        ),
        (
            {"FEDLEDGER_CC_LOG_LEVEL": "loud"},
            "FEDLEDGER_CC_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got 'LOUD'",
        ),
    ],
)
def test_inconsistent_tls_or_log_settings_are_rejected(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    key, _ = write_tls_pair(tmp_path)
    env = {**BASE, **{k: str(key) if v == "KEY" else v for k, v in extra.items()}}

    with pytest.raises(ServerConfigError) as rejected:
        config_from_env(env)

    assert str(rejected.value) == message


def test_unreadable_tls_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.key"
    env = {**BASE, "FEDLEDGER_CC_TLS_KEY_FILE": str(missing)}

    with pytest.raises(ServerConfigError) as rejected:
        config_from_env(env)

    assert str(rejected.value).startswith(f"FEDLEDGER_CC_TLS_KEY_FILE: cannot read {missing}")


def test_grpc_limits_are_raised_well_above_the_default() -> None:
    options = dict(grpc_options())

    assert options["grpc.max_receive_message_length"] == MAX_MESSAGE_BYTES
    assert options["grpc.max_send_message_length"] == MAX_MESSAGE_BYTES
    assert MAX_MESSAGE_BYTES >= 64 * 1024 * 1024


def test_build_server_uses_the_options_and_binds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Prepare: record what grpc.aio.server is given.
    seen: dict[str, object] = {}
    real_server = server.grpc.aio.server

    def recording_server(**kwargs: object) -> object:
        seen.update(kwargs)
        return real_server(**kwargs)

    monkeypatch.setattr(server.grpc.aio, "server", recording_server)
    key, cert = write_tls_pair(tmp_path)
    tls = config_from_env(
        {**BASE, "FEDLEDGER_CC_TLS_KEY_FILE": str(key), "FEDLEDGER_CC_TLS_CERT_FILE": str(cert)}
    )

    async def bind(config: ServerConfig) -> int:
        grpc_server, port = build_server(config)
        await grpc_server.stop(None)
        return port

    # Execute
    plain_port = asyncio.run(bind(config_from_env(BASE)))
    tls_port = asyncio.run(bind(tls))

    # Assert
    assert seen["options"] == grpc_options()
    assert plain_port > 0 and tls_port > 0


def test_module_entry_point_fails_clearly_without_configuration() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fedledger_chaincode"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "CHAINCODE_ID is not set: the chaincode server needs it to start" in result.stderr


def test_a_peer_stream_over_real_grpc_gets_an_event_and_accepts_a_5_mib_message(
    org1_pem: bytes,
) -> None:
    # Prepare: the server on a free port; this test plays the peer end of the stream and sends
    # a transaction message over 5 MiB, which gRPC's default 4 MiB limit would refuse.
    identity = Identity("Org1MSP", org1_pem)
    message = transaction(identity, b"RegisterParty", party_json().encode())
    message.proposal.signature = b"x" * (5 * 1024 * 1024)

    async def converse() -> list[Any]:
        grpc_server, port = build_server(config_from_env(BASE))
        await grpc_server.start()
        outbox: asyncio.Queue[Any] = asyncio.Queue()

        async def to_chaincode() -> AsyncIterator[Any]:
            while (item := await outbox.get()) is not None:
                yield item

        try:
            address = f"127.0.0.1:{port}"
            async with grpc.aio.insecure_channel(address, options=grpc_options()) as channel:
                call = chaincode_shim_pb2_grpc.ChaincodeStub(channel).Connect(to_chaincode())
                received = [await call.read()]
                for first in (MSG(type=MSG.REGISTERED), MSG(type=MSG.READY), message):
                    await outbox.put(first)
                while received[-1].type != MSG.COMPLETED:
                    request = await call.read()
                    received.append(request)
                    # An empty ledger: every GET_STATE and PUT_STATE gets an empty RESPONSE.
                    await outbox.put(
                        MSG(type=MSG.RESPONSE, txid=request.txid, channel_id=request.channel_id)
                    )
                await outbox.put(None)
                return received
        finally:
            await grpc_server.stop(None)

    # Execute
    received = asyncio.run(converse())

    # Assert
    completed = received[-1]
    assert received[0].type == MSG.REGISTER
    assert [m.type for m in received[1:-1]] == [MSG.GET_STATE, MSG.PUT_STATE]
    assert proposal_response_pb2.Response.FromString(completed.payload).status == 200
    assert completed.chaincode_event.event_name == "PartyRegistered"


@pytest.fixture(scope="module")
def org1_pem() -> bytes:
    return make_identity("Org1MSP", "User1@org1").certificate_pem
