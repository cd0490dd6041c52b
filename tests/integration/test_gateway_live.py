"""The Gateway client against the real local Fabric network: evaluate, submit, commit, events.

Needs the ``fabric_profile`` fixture (the path of the running network's network.json). Every
rejected transaction is followed by a query proving it changed nothing.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fedledger.errors import ContractError
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.protocol.assets import party_id
from fedledger.protocol.canonical import quote

pytestmark = pytest.mark.fabric

EVENT_WAIT_SECONDS = 60.0


@pytest.fixture
def org1(fabric_profile: str | Path) -> Iterator[GatewayContract]:
    with connect(fabric_profile, org="Org1", user="User1") as contract:
        yield contract


@pytest.fixture
def org2(fabric_profile: str | Path) -> Iterator[GatewayContract]:
    with connect(fabric_profile, org="Org2", user="User1") as contract:
        yield contract


def _ensure_registered(contract: GatewayContract) -> str:
    """Register the contract's identity unless an earlier run did; return its party id."""
    me = party_id(contract.identity.msp_id, contract.identity.certificate_pem)
    request = {
        "roles": ["provider", "trainer"],
        "kx_public_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    try:
        contract.submit("RegisterParty", json.dumps(request))
    except ContractError as exc:
        assert exc.message == f"party {me} is already registered"
    return me


def _create_advertisement(contract: GatewayContract, samples: int) -> dict[str, Any]:
    ad = {"description": "live gateway test", "samples": samples, "goal": "classification"}
    record: dict[str, Any] = json.loads(contract.submit("CreateAdvertisement", json.dumps(ad)))
    return record


def _wait_until_visible(contract: GatewayContract, ad_id: str) -> None:
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while True:
        try:
            contract.evaluate("GetAdvertisement", ad_id)
            return
        except ContractError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_evaluate_of_an_unknown_function_returns_the_contracts_exact_message(
    org1: GatewayContract,
) -> None:
    with pytest.raises(ContractError) as caught:
        org1.evaluate("NoSuchFunction")
    assert caught.value.message == f"unknown function {quote('NoSuchFunction')}"
    assert caught.value.stage == "evaluate"
    assert len(caught.value.tx_id) == 64


def test_submit_commits_and_a_query_on_another_org_sees_it(
    org1: GatewayContract, org2: GatewayContract
) -> None:
    # Prepare
    me = _ensure_registered(org1)
    samples = 1 + secrets.randbelow(10_000)

    # Execute
    record = _create_advertisement(org1, samples)

    # Assert: the result came back through the prepared envelope and the commit is visible
    assert record["owner_party"] == me
    assert record["samples"] == samples
    stored = json.loads(org2.evaluate("GetAdvertisement", record["id"]))
    assert stored == record
    party = json.loads(org2.evaluate("GetParty", me))
    assert party["msp_id"] == org1.identity.msp_id


def test_a_rejected_submit_raises_the_contracts_message_and_changes_nothing(
    org1: GatewayContract, org2: GatewayContract
) -> None:
    # Prepare
    owner = _ensure_registered(org1)
    intruder = _ensure_registered(org2)
    record = _create_advertisement(org1, 10)
    change = {"description": "hijacked", "samples": 1, "goal": "x"}
    # Org1's commit does not wait for Org2's peer: the intruder must see the record first, or
    # its endorsement would read that the advertisement does not exist yet.
    _wait_until_visible(org2, record["id"])

    # Execute
    with pytest.raises(ContractError) as caught:
        org2.submit("UpdateAdvertisement", record["id"], json.dumps(change))

    # Assert
    assert caught.value.message == (
        f"advertisement {record['id']} is owned by {owner}; {intruder} may not update it"
    )
    assert caught.value.stage == "endorse"
    assert json.loads(org1.evaluate("GetAdvertisement", record["id"])) == record


def test_events_deliver_the_event_of_a_committed_transaction(org1: GatewayContract) -> None:
    # Prepare
    _ensure_registered(org1)
    record = _create_advertisement(org1, 42)

    # Execute: replay from the genesis block until the transaction's event shows up
    found = None
    for event in org1.events(start_block=0, timeout=EVENT_WAIT_SECONDS):
        if event.tx_id == record["created_tx"]:
            found = event
            break

    # Assert
    assert found is not None, "the AdvertisementCreated event never arrived"
    assert found.name == "AdvertisementCreated"
    assert json.loads(found.payload) == record
    assert found.block_number > 0
