"""Impersonation within an MSP, tried on the real network as the attacker would.

Fabric's MSP verifies a proposal's signature against the *first PEM block of any type* in the
creator's id bytes and ignores the rest. Org3's User2 therefore sends its own certificate under
another PEM label, followed by User1's public certificate: Fabric verifies User2's signature and
lets the proposal through, and a contract that fingerprinted the first CERTIFICATE block would
record the act as User1's. The contract must refuse such id bytes, with its message (which proves
the proposal passed Fabric's checks and reached the chaincode), and change nothing.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest

from fedledger.errors import ContractError
from fedledger.ledger.gateway import connect
from fedledger.ledger.identity import Identity

pytestmark = pytest.mark.fabric

ONE_BLOCK = (
    "creator id bytes must be exactly one PEM CERTIFICATE block, with nothing before or after it"
)


def _relabelled(certificate_pem: bytes, label: bytes) -> bytes:
    return certificate_pem.replace(b"CERTIFICATE", label)


def test_a_member_cannot_act_as_another_identity_of_its_msp(fabric_profile: Path) -> None:
    with (
        connect(fabric_profile, org="Org3", user="User2") as attacker,
        connect(fabric_profile, org="Org3", user="User1") as victim,
    ):
        forged_pem = _relabelled(attacker.identity.certificate_pem, b"X509 DATA") + (
            victim.identity.certificate_pem
        )
        forged = Identity("Org3MSP", forged_pem, signer=attacker.identity.signer)
        request = json.dumps(
            {
                "roles": ["trainer"],
                "kx_public_key": base64.b64encode(secrets.token_bytes(32)).decode(),
            }
        )
        before = attacker.evaluate("ListParties")
        with connect(fabric_profile, org="Org3", identity=forged) as impostor:
            with pytest.raises(ContractError) as endorse:
                impostor.submit("RegisterParty", request)
            with pytest.raises(ContractError) as query:
                impostor.evaluate("ListParties")

        assert endorse.value.message == ONE_BLOCK
        assert query.value.message == ONE_BLOCK
        assert attacker.evaluate("ListParties") == before
