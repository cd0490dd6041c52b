"""Loading client identities from cryptogen-style MSP folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from support.identities import new_key, private_key_pem, self_signed_pem, write_msp
from support.profiles import org1_profile

from fedledger.errors import LedgerError
from fedledger.ledger.identity import Identity, identity_from_profile, load_identity
from fedledger.ledger.profile import load_profile
from fedledger.ledger.signing import is_low_s, sha256, verify_digest


def _write_msp(root: Path, key: ec.EllipticCurvePrivateKey | None = None) -> Path:
    """Write an MSP folder laid out like cryptogen's and return it."""
    msp = root / "User1@org1.fedledger.local" / "msp"
    return write_msp(msp, key or new_key(), "User1@org1", "User1@org1.fedledger.local-cert.pem")


def test_load_identity_reads_the_certificate_and_signs_with_the_key(tmp_path: Path) -> None:
    # Prepare
    key = new_key()
    msp = _write_msp(tmp_path, key)
    digest = sha256(b"proposal")

    # Execute
    identity = load_identity(msp, "Org1MSP")
    signature = identity.sign(digest)

    # Assert
    assert identity.msp_id == "Org1MSP"
    assert identity.certificate_pem == _certificate_pem_of(msp)
    assert verify_digest(key.public_key(), digest, signature)
    assert is_low_s(signature)


def _certificate_pem_of(msp: Path) -> bytes:
    return next((msp / "signcerts").glob("*.pem")).read_bytes()


def test_load_identity_names_a_missing_msp_folder(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match=r"MSP folder not found: .*nowhere"):
        load_identity(tmp_path / "nowhere", "Org1MSP")


def test_load_identity_names_a_missing_signcerts_folder(tmp_path: Path) -> None:
    # Prepare
    msp = _write_msp(tmp_path)
    for path in (msp / "signcerts").iterdir():
        path.unlink()
    (msp / "signcerts").rmdir()

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"signing certificate folder not found: .*signcerts"):
        load_identity(msp, "Org1MSP")


def test_load_identity_names_an_empty_keystore(tmp_path: Path) -> None:
    # Prepare
    msp = _write_msp(tmp_path)
    (msp / "keystore" / "priv_sk").unlink()

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"no private key file .* in .*keystore"):
        load_identity(msp, "Org1MSP")


def test_load_identity_refuses_two_certificates(tmp_path: Path) -> None:
    # Prepare
    msp = _write_msp(tmp_path)
    other = self_signed_pem(new_key(), "User1@org1")
    (msp / "signcerts" / "other-cert.pem").write_bytes(other)

    # Execute / Assert
    with pytest.raises(LedgerError, match="more than one signing certificate file"):
        load_identity(msp, "Org1MSP")


def test_load_identity_refuses_a_key_that_does_not_match_the_certificate(tmp_path: Path) -> None:
    # Prepare
    msp = _write_msp(tmp_path)
    (msp / "keystore" / "priv_sk").write_bytes(private_key_pem(new_key()))

    # Execute / Assert
    with pytest.raises(LedgerError, match="does not match certificate"):
        load_identity(msp, "Org1MSP")


def test_load_identity_refuses_a_key_on_another_curve(tmp_path: Path) -> None:
    # Prepare
    msp = _write_msp(tmp_path)
    (msp / "keystore" / "priv_sk").write_bytes(private_key_pem(new_key(ec.SECP384R1())))

    # Execute / Assert
    with pytest.raises(LedgerError, match="P-256"):
        load_identity(msp, "Org1MSP")


def test_load_identity_names_an_unreadable_certificate(tmp_path: Path) -> None:
    # Prepare
    msp = _write_msp(tmp_path)
    next((msp / "signcerts").glob("*.pem")).write_bytes(b"not a certificate")

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"cannot read certificate .*-cert.pem"):
        load_identity(msp, "Org1MSP")


def test_identity_without_signer_cannot_sign() -> None:
    # Prepare
    identity = Identity(msp_id="Org1MSP", certificate_pem=b"pem")

    # Execute / Assert
    with pytest.raises(LedgerError, match="Org1MSP has no signer"):
        identity.sign(sha256(b"x"))


def _profile(tmp_path: Path, users: dict[str, str]) -> dict[str, object]:
    node = {"host": "peer0.org1.fedledger.local", "address": "127.0.0.1:7051", "tls_ca": "ca.pem"}
    return org1_profile(node, users)


def test_identity_from_profile_loads_the_named_user(tmp_path: Path) -> None:
    # Prepare
    msp = _write_msp(tmp_path)
    profile = load_profile(_profile(tmp_path, {"User1": str(msp)}))

    # Execute
    identity = identity_from_profile(profile, "Org1", "User1")

    # Assert
    assert identity.msp_id == "Org1MSP"
    assert identity.certificate_pem == _certificate_pem_of(msp)


def test_identity_from_profile_names_an_unknown_org_and_the_known_ones(tmp_path: Path) -> None:
    # Prepare
    profile = load_profile(_profile(tmp_path, {"User1": str(tmp_path)}))

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"no org 'Org7' \(known orgs: Org1\)"):
        identity_from_profile(profile, "Org7", "User1")


def test_identity_from_profile_names_an_unknown_user_and_the_known_ones(tmp_path: Path) -> None:
    # Prepare
    profile = load_profile(_profile(tmp_path, {"Admin": "a", "User1": "b"}))

    # Execute / Assert
    message = r"Org1 has no user 'User2' \(known users: Admin, User1\)"
    with pytest.raises(LedgerError, match=message):
        identity_from_profile(profile, "Org1", "User2")


def test_identity_from_profile_names_a_missing_msp_folder(tmp_path: Path) -> None:
    # Prepare
    profile = load_profile(_profile(tmp_path, {"User1": str(tmp_path / "gone" / "msp")}))

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"MSP folder not found: .*gone"):
        identity_from_profile(profile, "Org1", "User1")
