"""Advertisements: created by registered parties, changed only by the owner, withdrawn not lost."""

from __future__ import annotations

import hashlib
import json

import pytest
from cc_helpers import ad_json, party_json, reject

from fedledger.errors import ContractError
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger, ManualClock
from fedledger.protocol.assets import party_id


@pytest.fixture
def owner(ledger: InMemoryLedger, org1: Identity) -> InMemoryContract:
    contract = ledger.contract(org1)
    contract.submit("RegisterParty", party_json())
    return contract


@pytest.fixture
def other(ledger: InMemoryLedger, org2: Identity) -> InMemoryContract:
    contract = ledger.contract(org2)
    contract.submit("RegisterParty", party_json())
    return contract


def test_create_advertisement_stores_owner_and_times_and_returns_the_record(
    ledger: InMemoryLedger, owner: InMemoryContract, org1: Identity, clock: ManualClock
) -> None:
    digest = hashlib.sha256(b"full description").hexdigest()

    stored = json.loads(owner.submit("CreateAdvertisement", ad_json(description_hash=digest)))

    assert stored["id"].startswith("adv-") and len(stored["id"]) == 36
    assert stored["owner_msp"] == "Org1MSP"
    assert stored["owner_party"] == party_id("Org1MSP", org1.certificate_pem)
    assert (stored["samples"], stored["labels"]) == (1200, {"normal": 700, "pneumonia": 500})
    assert stored["description_hash"] == digest
    assert (stored["status"], stored["version"]) == ("active", 1)
    assert stored["created_at"] == stored["updated_at"] == clock() // 10**9
    assert stored["created_tx"] == ledger.event_log()[-1].tx_id
    assert json.loads(owner.evaluate("GetAdvertisement", stored["id"])) == stored


def test_optional_fields_default_to_no_labels_and_no_hash(owner: InMemoryContract) -> None:
    stored = json.loads(owner.submit("CreateAdvertisement", ad_json(labels=None)))

    assert (stored["labels"], stored["description_hash"]) == ({}, None)


def test_list_advertisements_names_each_owner_msp(
    owner: InMemoryContract, other: InMemoryContract
) -> None:
    owner.submit("CreateAdvertisement", ad_json())
    other.submit("CreateAdvertisement", ad_json(samples=50))

    listed = json.loads(owner.evaluate("ListAdvertisements"))

    assert sorted((a["owner_msp"], a["samples"]) for a in listed) == [
        ("Org1MSP", 1200),
        ("Org2MSP", 50),
    ]
    assert [a["id"] for a in listed] == sorted(a["id"] for a in listed)


def test_unregistered_caller_cannot_advertise(ledger: InMemoryLedger, org3: Identity) -> None:
    contract = ledger.contract(org3)
    caller = party_id("Org3MSP", org3.certificate_pem)

    message = reject(ledger, contract, "CreateAdvertisement", ad_json())

    assert message == f"caller {caller} is not a registered party; call RegisterParty first"
    assert contract.evaluate("ListAdvertisements") == b"[]"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"samples": -3}, "samples must be a positive integer, got -3"),
        ({"samples": 0}, "samples must be a positive integer, got 0"),
        ({"samples": 1.5}, "advertisement.samples must be an integer, got 1.5"),
        ({"samples": 1e3}, "advertisement.samples must be an integer, got 1000.0"),
        ({"samples": True}, "advertisement.samples must be an integer, got true"),
        ({"samples": "12"}, 'advertisement.samples must be an integer, got "12"'),
        (
            {"samples": 2**63},
            "samples must be at most 9223372036854775807, got 9223372036854775808",
        ),
        ({"description": ""}, "description must not be empty"),
        ({"description": "   "}, "description must not be empty"),
        ({"description": 5}, "advertisement.description must be a string, got 5"),
        ({"description": "x" * 4097}, "description must be at most 4096 characters, got 4097"),
        ({"goal": "g" * 1025}, "goal must be at most 1024 characters, got 1025"),
        ({"goal": "a\x00b"}, "goal must not contain NUL characters"),
        ({"labels": [1, 2]}, "advertisement.labels must be an object, got an array"),
        ({"labels": {"cat": -1}}, 'labels["cat"] must be a non-negative integer, got -1'),
        ({"labels": {"": 1}}, 'label name "" must not be empty'),
        (
            {"description_hash": "ABC"},
            'description_hash must be 64 lowercase hex digits (SHA-256), got "ABC"',
        ),
        ({"price": 3}, "advertisement has unknown field 'price'"),
        ({"goal": None}, "advertisement is missing field 'goal'"),
    ],
)
def test_malformed_advertisements_are_rejected_with_exact_messages(
    ledger: InMemoryLedger, owner: InMemoryContract, overrides: dict[str, object], message: str
) -> None:
    assert reject(ledger, owner, "CreateAdvertisement", ad_json(**overrides)) == message
    assert owner.evaluate("ListAdvertisements") == b"[]"


def test_too_many_labels_are_rejected(ledger: InMemoryLedger, owner: InMemoryContract) -> None:
    labels = {f"l{i}": 1 for i in range(1025)}

    message = reject(ledger, owner, "CreateAdvertisement", ad_json(labels=labels))

    assert message == "labels must have at most 1024 entries, got 1025"
    assert owner.evaluate("ListAdvertisements") == b"[]"


def test_update_replaces_fields_and_keeps_identity_and_creation(
    owner: InMemoryContract, clock: ManualClock
) -> None:
    created = json.loads(owner.submit("CreateAdvertisement", ad_json()))
    clock.advance(seconds=60)

    updated = json.loads(
        owner.submit("UpdateAdvertisement", created["id"], ad_json(samples=2000, labels=None))
    )

    assert (updated["samples"], updated["labels"], updated["version"]) == (2000, {}, 2)
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] == created["created_at"] + 60
    assert (updated["id"], updated["owner_party"]) == (created["id"], created["owner_party"])


def test_only_the_owner_may_update_or_withdraw(
    ledger: InMemoryLedger,
    owner: InMemoryContract,
    other: InMemoryContract,
    org1: Identity,
    org2: Identity,
) -> None:
    created = owner.submit("CreateAdvertisement", ad_json())
    ad_id = json.loads(created)["id"]
    owner_id = party_id("Org1MSP", org1.certificate_pem)
    other_id = party_id("Org2MSP", org2.certificate_pem)

    update = reject(ledger, other, "UpdateAdvertisement", ad_id, ad_json(samples=1))
    withdraw = reject(ledger, other, "WithdrawAdvertisement", ad_id)

    assert update == f"advertisement {ad_id} is owned by {owner_id}; {other_id} may not update it"
    assert withdraw == (
        f"advertisement {ad_id} is owned by {owner_id}; {other_id} may not withdraw it"
    )
    assert other.evaluate("GetAdvertisement", ad_id) == created


def test_another_user_of_the_owner_org_is_not_the_owner(
    ledger: InMemoryLedger, owner: InMemoryContract, org1_other_user: Identity
) -> None:
    created = owner.submit("CreateAdvertisement", ad_json())
    ad_id = json.loads(created)["id"]
    colleague = ledger.contract(org1_other_user)
    colleague.submit("RegisterParty", party_json())

    message = reject(ledger, colleague, "WithdrawAdvertisement", ad_id)

    assert message.endswith("may not withdraw it")
    assert colleague.evaluate("GetAdvertisement", ad_id) == created


def test_withdrawn_advertisement_is_kept_marked_and_left_out_of_the_default_list(
    owner: InMemoryContract,
) -> None:
    ad_id = json.loads(owner.submit("CreateAdvertisement", ad_json()))["id"]

    withdrawn = json.loads(owner.submit("WithdrawAdvertisement", ad_id))

    assert (withdrawn["status"], withdrawn["version"]) == ("withdrawn", 2)
    assert owner.evaluate("ListAdvertisements") == b"[]"
    everything = json.loads(owner.evaluate("ListAdvertisements", '{"include_withdrawn": true}'))
    assert [a["id"] for a in everything] == [ad_id]
    assert json.loads(owner.evaluate("GetAdvertisement", ad_id)) == withdrawn


def test_a_withdrawn_advertisement_cannot_be_updated_or_withdrawn_again(
    ledger: InMemoryLedger, owner: InMemoryContract
) -> None:
    ad_id = json.loads(owner.submit("CreateAdvertisement", ad_json()))["id"]
    withdrawn = owner.submit("WithdrawAdvertisement", ad_id)

    update = reject(ledger, owner, "UpdateAdvertisement", ad_id, ad_json())
    again = reject(ledger, owner, "WithdrawAdvertisement", ad_id)

    assert update == f"advertisement {ad_id} is withdrawn and cannot be updated"
    assert again == f"advertisement {ad_id} is already withdrawn"
    assert owner.evaluate("GetAdvertisement", ad_id) == withdrawn


def test_unknown_and_malformed_advertisement_ids_are_rejected(
    ledger: InMemoryLedger, owner: InMemoryContract
) -> None:
    absent = "adv-" + "0" * 32

    missing = reject(ledger, owner, "WithdrawAdvertisement", absent)
    malformed = reject(ledger, owner, "UpdateAdvertisement", "ad-1", ad_json())
    with pytest.raises(ContractError) as query:
        owner.evaluate("GetAdvertisement", absent)

    assert missing == f"advertisement {absent} does not exist"
    assert malformed == 'advertisement id must look like adv-<32 hex digits>, got "ad-1"'
    assert query.value.message == f"advertisement {absent} does not exist"


def test_update_validates_the_request_before_ownership(
    ledger: InMemoryLedger, owner: InMemoryContract, other: InMemoryContract
) -> None:
    ad_id = json.loads(owner.submit("CreateAdvertisement", ad_json()))["id"]

    message = reject(ledger, other, "UpdateAdvertisement", ad_id, "{")

    assert message.startswith("argument 2 must be a JSON object: ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            '{"include_withdrawn": 1}',
            "list options.include_withdrawn must be true or false, got 1",
        ),
        ('{"owner": "x"}', "list options has unknown field 'owner'"),
        ("[]", "argument 1 must be a JSON object, got an array"),
    ],
)
def test_list_options_are_strict(owner: InMemoryContract, options: str, message: str) -> None:
    with pytest.raises(ContractError) as rejected:
        owner.evaluate("ListAdvertisements", options)

    assert rejected.value.message == message


def test_advertisement_events_follow_the_lifecycle(
    ledger: InMemoryLedger, owner: InMemoryContract
) -> None:
    ad_id = json.loads(owner.submit("CreateAdvertisement", ad_json()))["id"]
    owner.submit("UpdateAdvertisement", ad_id, ad_json(goal="triage"))
    owner.submit("WithdrawAdvertisement", ad_id)

    names = [e.name for e in ledger.event_log()]

    assert names == [
        "PartyRegistered",
        "AdvertisementCreated",
        "AdvertisementUpdated",
        "AdvertisementWithdrawn",
    ]
    assert json.loads(ledger.event_log()[-1].payload)["status"] == "withdrawn"
