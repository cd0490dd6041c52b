"""RegisterParty, GetParty, ListParties: bound to the caller, strict, exact in their errors."""

from __future__ import annotations

import json

import pytest
from cc_helpers import kx_key, party_json, reject

from fedledger.errors import ContractError
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger, ManualClock
from fedledger.protocol.assets import party_id


def test_register_party_stores_the_caller_bound_party_and_returns_it(
    ledger: InMemoryLedger, org1: Identity, clock: ManualClock
) -> None:
    # Prepare
    contract = ledger.contract(org1)
    expected_id = party_id("Org1MSP", org1.certificate_pem)

    # Execute
    stored = json.loads(contract.submit("RegisterParty", party_json(["trainer", "coordinator"])))

    # Assert
    assert stored["id"] == expected_id
    assert stored["msp_id"] == "Org1MSP"
    assert stored["cert_fingerprint"] == expected_id.split("/")[1]
    assert stored["roles"] == ["coordinator", "trainer"]
    assert stored["kx_public_key"] == kx_key()
    assert stored["registered_at"] == clock() // 1_000_000_000
    assert json.loads(contract.evaluate("GetParty", expected_id)) == stored


def test_register_party_emits_party_registered_with_the_stored_party(
    ledger: InMemoryLedger, org1: Identity
) -> None:
    payload = ledger.contract(org1).submit("RegisterParty", party_json())

    events = ledger.event_log()

    assert [(e.name, e.payload, e.block_number) for e in events] == [
        ("PartyRegistered", payload, 1)
    ]


def test_second_registration_of_the_same_identity_is_rejected(
    ledger: InMemoryLedger, org1: Identity
) -> None:
    contract = ledger.contract(org1)
    first = contract.submit("RegisterParty", party_json(seed=1))
    pid = party_id("Org1MSP", org1.certificate_pem)

    message = reject(ledger, contract, "RegisterParty", party_json(seed=2))

    assert message == f"party {pid} is already registered"
    assert contract.evaluate("GetParty", pid) == first


def test_two_users_of_one_org_are_two_parties(
    ledger: InMemoryLedger, org1: Identity, org1_other_user: Identity
) -> None:
    ledger.contract(org1).submit("RegisterParty", party_json())
    ledger.contract(org1_other_user).submit("RegisterParty", party_json())

    parties = json.loads(ledger.contract(org1).evaluate("ListParties"))

    assert {p["id"] for p in parties} == {
        party_id("Org1MSP", org1.certificate_pem),
        party_id("Org1MSP", org1_other_user.certificate_pem),
    }


def test_list_parties_orders_by_msp_then_fingerprint(
    ledger: InMemoryLedger, org1: Identity, org2: Identity, org3: Identity
) -> None:
    for identity in (org3, org1, org2):
        ledger.contract(identity).submit("RegisterParty", party_json())

    parties = json.loads(ledger.contract(org1).evaluate("ListParties"))

    assert [p["msp_id"] for p in parties] == ["Org1MSP", "Org2MSP", "Org3MSP"]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("", "argument 1 must be a JSON object: Expecting value: line 1 column 1 (char 0)"),
        ("[]", "argument 1 must be a JSON object, got an array"),
        ('"x"', 'argument 1 must be a JSON object, got "x"'),
        (
            '{"roles": ["trainer"], "roles": ["trainer"], "kx_public_key": "x"}',
            "argument 1 must be a JSON object: duplicate key 'roles'",
        ),
        ('{"roles": NaN}', "argument 1 must be a JSON object: NaN is not allowed"),
        ('{"roles": ["trainer"]}', "party is missing field 'kx_public_key'"),
        (
            json.dumps({"roles": ["trainer"], "kx_public_key": kx_key(), "name": "x"}),
            "party has unknown field 'name'",
        ),
        (
            json.dumps({"roles": "trainer", "kx_public_key": kx_key()}),
            'party.roles must be an array, got "trainer"',
        ),
        (json.dumps({"roles": [], "kx_public_key": kx_key()}), "roles must not be empty"),
        (
            json.dumps({"roles": ["admin"], "kx_public_key": kx_key()}),
            'unknown role "admin"; roles are consumer, coordinator, enricher, provider, trainer',
        ),
        (
            json.dumps({"roles": ["trainer", "trainer"], "kx_public_key": kx_key()}),
            "role 'trainer' is listed twice",
        ),
        (
            json.dumps({"roles": ["trainer"], "kx_public_key": 12}),
            "party.kx_public_key must be a string, got 12",
        ),
        (
            json.dumps({"roles": ["trainer"], "kx_public_key": "not base64!"}),
            "kx_public_key is not valid base64",
        ),
        (
            json.dumps({"roles": ["trainer"], "kx_public_key": "AB=="}),
            "kx_public_key is not canonical base64",
        ),
        (
            json.dumps({"roles": ["trainer"], "kx_public_key": "AAAA"}),
            "kx_public_key must decode to 32 bytes, got 3",
        ),
    ],
)
def test_malformed_party_requests_are_rejected_with_exact_messages(
    ledger: InMemoryLedger, org1: Identity, argument: str, message: str
) -> None:
    contract = ledger.contract(org1)

    assert reject(ledger, contract, "RegisterParty", argument) == message
    assert contract.evaluate("ListParties") == b"[]"


ONE_BLOCK = (
    "creator id bytes must be exactly one PEM CERTIFICATE block, with nothing before or after it"
)
NOT_CANONICAL = (
    "creator certificate is not canonical PEM: 64-character base64 lines, no headers, one "
    "newline after each line"
)


def _reflowed(pem: bytes) -> bytes:
    """The same certificate with 76-character base64 lines (valid PEM, another spelling)."""
    body = b"".join(pem.splitlines()[1:-1])
    lines = [body[i : i + 76] for i in range(0, len(body), 76)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    ("spell", "message"),
    [
        (lambda pem: b"not a certificate", ONE_BLOCK),
        (lambda pem: b"\n" + pem, ONE_BLOCK),
        (lambda pem: pem + b"\n", ONE_BLOCK),
        (lambda pem: pem + pem, ONE_BLOCK),
        (lambda pem: pem.replace(b"CERTIFICATE", b"PUBLIC KEY"), ONE_BLOCK),
        (lambda pem: pem.replace(b"\n", b"\r\n"), ONE_BLOCK),
        (_reflowed, NOT_CANONICAL),
        (lambda pem: pem.replace(b"-----\n", b"-----\nProc-Type: 4\n\n", 1), NOT_CANONICAL),
        (
            lambda pem: b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "creator certificate is not a DER certificate",
        ),
    ],
)
def test_a_creator_whose_id_bytes_are_not_one_canonical_certificate_cannot_register(
    ledger: InMemoryLedger, org1: Identity, spell: object, message: str
) -> None:
    pem = spell(org1.certificate_pem)  # type: ignore[operator]
    contract = ledger.contract(Identity(msp_id="Org1MSP", certificate_pem=pem))

    assert reject(ledger, contract, "RegisterParty", party_json()) == message
    with pytest.raises(ContractError) as query:
        contract.evaluate("ListParties")
    assert query.value.message == message
    assert ledger.contract(org1).evaluate("ListParties") == b"[]"


def test_get_party_rejects_unknown_and_malformed_ids(
    ledger: InMemoryLedger, org1: Identity, org2: Identity
) -> None:
    contract = ledger.contract(org1)
    contract.submit("RegisterParty", party_json())
    absent = party_id("Org2MSP", org2.certificate_pem)

    with pytest.raises(ContractError) as unknown:
        contract.evaluate("GetParty", absent)
    with pytest.raises(ContractError) as malformed:
        contract.evaluate("GetParty", "Org1MSP")

    assert unknown.value.message == f"party {absent} is not registered"
    assert unknown.value.stage == "evaluate"
    assert malformed.value.message == (
        'party id must look like <MSP id>/<64 hex digits>, got "Org1MSP"'
    )
