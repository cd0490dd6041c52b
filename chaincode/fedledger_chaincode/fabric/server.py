"""The chaincode-as-a-service server: a grpc.aio server we configure, with the shim's servicer.

Started by ``python -m fedledger_chaincode``; configured only through the environment:

``CHAINCODE_ID`` (required)
    the package id the peer knows the chaincode by (``<label>:<sha256>``).
``CHAINCODE_SERVER_ADDRESS`` (required)
    the listen address, ``host:port`` (e.g. ``0.0.0.0:9999``).
``FEDLEDGER_CC_TLS_KEY_FILE``, ``FEDLEDGER_CC_TLS_CERT_FILE`` (optional, both or neither)
    PEM private key and certificate of the server; with them the server listens with TLS.
``FEDLEDGER_CC_TLS_CLIENT_CA_FILE`` (optional, needs the key and certificate)
    PEM CA certificate(s); with it the server requires and verifies the peer's client certificate
    (mutual TLS).
``FEDLEDGER_CC_LOG_LEVEL`` (optional, default ``INFO``)
    level of fedledger's chaincode log; the shim's own chatty logger is held at WARNING.
``FEDLEDGER_TIME_WINDOW_SECONDS`` and the contract's other settings
    see :mod:`fedledger_chaincode.core.config`; every org's server must be given the same values.

Only :func:`main` reads the environment; :func:`build_server` takes a :class:`ServerConfig`.
Message limits are raised to :data:`MAX_MESSAGE_BYTES` (gRPC's default of 4 MiB is too small: the
peer sends a transaction's arguments twice per message), and keepalive pings from the peer are
permitted so that an idle stream is not closed for "too many pings".
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from fabric_protos.peer import chaincode_shim_pb2_grpc

from fedledger.protocol.errors import FedLedgerError, ProtocolError
from fedledger_chaincode.core.config import ContractConfig, contract_config_from_env
from fedledger_chaincode.fabric.chaincode import FedLedgerChaincode
from fedledger_chaincode.fabric.handler import FedLedgerService

__all__ = [
    "MAX_MESSAGE_BYTES",
    "ServerConfig",
    "ServerConfigError",
    "build_server",
    "config_from_env",
    "grpc_options",
    "main",
    "serve",
]

LOGGER = logging.getLogger("fedledger_chaincode")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_SHIM_LOGGER = "asyncio"  # fabric-chaincode-python 2.5.4 logs through the "asyncio" logger


class ServerConfigError(FedLedgerError):
    """The server's configuration is missing or inconsistent."""


@dataclass(frozen=True)
class ServerConfig:
    """Everything the server needs; TLS material as PEM bytes."""

    chaincode_id: str
    address: str
    tls_key: bytes | None = None
    tls_cert: bytes | None = None
    tls_client_ca: bytes | None = None
    log_level: str = "INFO"
    contract: ContractConfig = field(default_factory=ContractConfig)


def _read_pem(env: Mapping[str, str], name: str) -> bytes | None:
    path = env.get(name, "")
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ServerConfigError(f"{name}: cannot read {path}: {exc.strerror}") from None


def config_from_env(env: Mapping[str, str]) -> ServerConfig:
    """Build the configuration from environment variables (see the module docstring).

    Returns the config. Raises ``ServerConfigError`` naming the missing variable, a TLS file that
    cannot be read, or an inconsistent TLS combination.
    """
    for name in ("CHAINCODE_ID", "CHAINCODE_SERVER_ADDRESS"):
        if not env.get(name, "").strip():
            raise ServerConfigError(f"{name} is not set: the chaincode server needs it to start")
    key = _read_pem(env, "FEDLEDGER_CC_TLS_KEY_FILE")
    cert = _read_pem(env, "FEDLEDGER_CC_TLS_CERT_FILE")
    client_ca = _read_pem(env, "FEDLEDGER_CC_TLS_CLIENT_CA_FILE")
    if (key is None) != (cert is None):
        raise ServerConfigError(
            "FEDLEDGER_CC_TLS_KEY_FILE and FEDLEDGER_CC_TLS_CERT_FILE must be set together"
        )
    if client_ca is not None and key is None:
        raise ServerConfigError(
            "FEDLEDGER_CC_TLS_CLIENT_CA_FILE needs FEDLEDGER_CC_TLS_KEY_FILE and "
            "FEDLEDGER_CC_TLS_CERT_FILE (mutual TLS is TLS first)"
        )
    level = env.get("FEDLEDGER_CC_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ServerConfigError(
            f"FEDLEDGER_CC_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}"
        )
    try:
        contract = contract_config_from_env(env)
    except ProtocolError as exc:
        raise ServerConfigError(str(exc)) from None
    return ServerConfig(
        contract=contract,
        chaincode_id=env["CHAINCODE_ID"].strip(),
        address=env["CHAINCODE_SERVER_ADDRESS"].strip(),
        tls_key=key,
        tls_cert=cert,
        tls_client_ca=client_ca,
        log_level=level,
    )


def grpc_options() -> list[tuple[str, int]]:
    """Return the gRPC server options: raised message limits and permissive keepalive."""
    return [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 0),
    ]


def server_credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    """Return TLS credentials (mutual when a client CA is configured), or None without TLS."""
    if config.tls_key is None or config.tls_cert is None:
        return None
    return grpc.ssl_server_credentials(
        [(config.tls_key, config.tls_cert)],
        root_certificates=config.tls_client_ca,
        require_client_auth=config.tls_client_ca is not None,
    )


def build_server(config: ServerConfig, chaincode: Any | None = None) -> tuple[grpc.aio.Server, int]:
    """Create (not start) the server with fedledger's servicer bound to ``config.address``.

    Returns (server, bound port). Raises ``ServerConfigError`` when the address cannot be bound.
    Must be called with a running event loop or before one is started by ``serve``.
    """
    server = grpc.aio.server(options=grpc_options())
    service = FedLedgerService(
        config.chaincode_id, chaincode or FedLedgerChaincode(config=config.contract)
    )
    chaincode_shim_pb2_grpc.add_ChaincodeServicer_to_server(service, server)
    credentials = server_credentials(config)
    try:
        if credentials is None:
            port = server.add_insecure_port(config.address)
        else:
            port = server.add_secure_port(config.address, credentials)
    except RuntimeError as exc:
        raise ServerConfigError(f"cannot listen on {config.address}: {exc}") from None
    if port == 0:
        raise ServerConfigError(f"cannot listen on {config.address}")
    return server, port


async def serve(config: ServerConfig) -> None:
    """Run the server until SIGTERM or SIGINT, then stop it with a short grace period."""
    server, port = build_server(config)
    await server.start()
    mode = "mutual TLS" if config.tls_client_ca else "TLS" if config.tls_key else "plaintext"
    LOGGER.info(
        "chaincode %s listening on %s (port %d, %s)",
        config.chaincode_id,
        config.address,
        port,
        mode,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    LOGGER.info("stopping chaincode server")
    await server.stop(3)


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; hold the shim's per-message logger at WARNING."""
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        level = "INFO"  # config_from_env reports the bad value
    root = logging.getLogger()
    # Importing the shim already called basicConfig(level=DEBUG); reset the level it set.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    root.setLevel(level)
    logging.getLogger("fedledger_chaincode").setLevel(level)
    logging.getLogger(_SHIM_LOGGER).setLevel(logging.WARNING)


def main(env: Mapping[str, str]) -> int:
    """Entry point: configure from ``env`` and serve. Returns the process exit status."""
    configure_logging(env.get("FEDLEDGER_CC_LOG_LEVEL", "INFO").upper())
    try:
        config = config_from_env(env)
    except ServerConfigError as exc:
        LOGGER.error("%s", exc)
        return 2
    try:
        asyncio.run(serve(config))
    except ServerConfigError as exc:
        LOGGER.error("%s", exc)
        return 2
    return 0
