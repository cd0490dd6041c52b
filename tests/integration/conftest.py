"""The real local Fabric network for integration tests, started once per test session.

The network lives in a temporary state folder on its own port range (base port 27050, or
FEDLEDGER_TEST_BASE_PORT), so a developer's own network on the default ports is left alone. When
it cannot start, the tests are skipped, unless FEDLEDGER_REQUIRE_FABRIC=1 (as in CI), in which
case they fail with the reason.

The modules share that one network, so each uses client identities of its own: a user one test
registers with its roles and key-exchange key cannot be another test's participant. Who uses
which (cryptogen makes User1-User24 and Admin in every org):

    User1            gateway, identity, token, prediction_paid (participants), consortium_by_hand
    User2            identity, training (participants)
    User3            faults (workload writers)
    User4, User5     consortium_by_hand (participants, coordinator)
    User7, User8     enrichment (participants, enricher)
    User13-User17    role_faults (participants of its five tasks)
    User18-User20    role_faults (coordinators)
    User21           prediction_paid (the CLI's buyer, Org3)
    Admin            network_cli, training (coordinator), prediction_paid (consumer)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedledger.errors import NetworkError
from fedledger.network.local import LocalNetwork

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = REPO / ".fedledger" / "bin"
BUILDER_DIR = REPO / "network" / "builder"
TEST_ORGS = 3


def _unavailable(reason: str) -> None:
    if os.environ.get("FEDLEDGER_REQUIRE_FABRIC") == "1":
        pytest.fail(f"the Fabric network is required but cannot start: {reason}", pytrace=False)
    pytest.skip(f"Fabric network not available: {reason}")


@pytest.fixture(scope="session")
def fabric_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    """A running 3-org network with the chaincode committed; stopped and purged afterwards."""
    base_port = int(os.environ.get("FEDLEDGER_TEST_BASE_PORT", "27050"))
    state = tmp_path_factory.mktemp("fabric") / "network"
    try:
        network = LocalNetwork.open(
            state, BIN_DIR, BUILDER_DIR, orgs=TEST_ORGS, base_port=base_port
        )
    except NetworkError as exc:
        _unavailable(str(exc))
    try:
        network.up()
    except NetworkError as exc:
        network.down(purge=False)
        _unavailable(str(exc))
    try:
        yield network
    finally:
        network.down(purge=False)


@pytest.fixture(scope="session")
def fabric_profile(fabric_network: LocalNetwork) -> Path:
    """The path of the running test network's connection profile (network.json)."""
    return fabric_network.layout.profile_file


@pytest.fixture
def fault_seconds(request: pytest.FixtureRequest) -> float:
    """How long a fault test keeps a node down (``--fault-seconds``)."""
    seconds = float(request.config.getoption("--fault-seconds"))
    if seconds <= 0:
        pytest.fail("--fault-seconds must be positive", pytrace=False)
    return seconds
