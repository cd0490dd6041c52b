"""Attack 2: a member of an MSP acts as another identity of the same MSP.

Org1's User2 sends its own certificate under another PEM label followed by User1's certificate.
Fabric verifies User2's signature against the first block and ignores the rest, so only the
contract can refuse; it must, in every transaction, before anything is read or written. The same
trick would give one certificate many party ids (one per trailing certificate). The real-network
version of this test is tests/integration/test_identity_live.py.
"""

from __future__ import annotations

import pytest
from cc_helpers import party_json, reject
from training_helpers import Setup

from fedledger.errors import ContractError
from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger

ONE_BLOCK = (
    "creator id bytes must be exactly one PEM CERTIFICATE block, with nothing before or after it"
)


def _impostor(attacker: Identity, victim: Identity, label: bytes = b"X509 DATA") -> Identity:
    own = attacker.certificate_pem.replace(b"CERTIFICATE", label)
    return Identity(attacker.msp_id, own + victim.certificate_pem)


def test_user2_cannot_register_or_act_as_user1(
    setup: Setup, org1: Identity, org1_other_user: Identity
) -> None:
    task = setup.active_task()
    impostor = setup.ledger.contract(_impostor(org1_other_user, org1))

    acts = {
        "register": reject(setup.ledger, impostor, "RegisterParty", party_json(seed=3)),
        "approve": reject(setup.ledger, impostor, "ApproveTask", task),
        "open": reject(setup.ledger, impostor, "OpenRound", task, "1"),
        "advertise": reject(setup.ledger, impostor, "CreateAdvertisement", '{"description": "x"}'),
    }
    with pytest.raises(ContractError) as query:
        impostor.evaluate("GetTask", task)

    assert set(acts.values()) == {ONE_BLOCK}
    assert query.value.message == ONE_BLOCK


def test_one_certificate_cannot_collect_party_ids_by_appending_others(
    ledger: InMemoryLedger, org1: Identity, org2: Identity, org1_other_user: Identity
) -> None:
    for trailing in (org1, org2, org1_other_user):
        for label in (b"X509 DATA", b"CERTIFICATE REQUEST", b"TRUSTED CERTIFICATE"):
            impostor = ledger.contract(_impostor(org1_other_user, trailing, label))
            assert reject(ledger, impostor, "RegisterParty", party_json()) == ONE_BLOCK
    assert ledger.contract(org1).evaluate("ListParties") == b"[]"
