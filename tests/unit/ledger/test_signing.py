"""Digest signing: ECDSA P-256 over SHA-256, DER, always low-S."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.errors import LedgerError
from fedledger.ledger.signing import (
    P256_ORDER,
    is_low_s,
    load_private_key,
    normalise_low_s,
    sha256,
    sign_digest,
    signer_for,
    verify_digest,
)

KEY = ec.generate_private_key(ec.SECP256R1())


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_signatures_are_low_s_and_verify(digest: bytes) -> None:
    # Execute
    signature = sign_digest(KEY, digest)

    # Assert
    _, s = decode_dss_signature(signature)
    assert s <= P256_ORDER // 2
    assert verify_digest(KEY.public_key(), digest, signature)


def test_many_signatures_of_one_digest_are_all_low_s() -> None:
    # Prepare: about half of raw ECDSA signatures have a high s, so 64 would all but surely hit one
    digest = sha256(b"fedledger")
    raw = [KEY.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))) for _ in range(64)]

    # Execute
    signed = [sign_digest(KEY, digest) for _ in range(64)]

    # Assert
    assert any(not is_low_s(signature) for signature in raw)
    assert all(is_low_s(signature) for signature in signed)


def test_normalise_low_s_replaces_high_s_by_n_minus_s_and_keeps_validity() -> None:
    # Prepare
    digest = sha256(b"round 3")
    r, s = decode_dss_signature(KEY.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    high_s = s if s > P256_ORDER // 2 else P256_ORDER - s
    high = encode_dss_signature(r, high_s)

    # Execute
    low = normalise_low_s(high)

    # Assert
    assert decode_dss_signature(low) == (r, P256_ORDER - high_s)
    assert verify_digest(KEY.public_key(), digest, high)
    assert verify_digest(KEY.public_key(), digest, low)


def test_normalise_low_s_leaves_a_low_s_signature_unchanged() -> None:
    # Prepare
    low = encode_dss_signature(12345, P256_ORDER // 2)

    # Execute / Assert
    assert normalise_low_s(low) == low


def test_normalise_low_s_rejects_bytes_that_are_not_der() -> None:
    with pytest.raises(LedgerError, match="not a DER ECDSA signature"):
        normalise_low_s(b"\x01\x02\x03")


@pytest.mark.parametrize("size", [0, 20, 31, 33, 64])
def test_sign_digest_rejects_a_digest_that_is_not_32_bytes(size: int) -> None:
    with pytest.raises(LedgerError, match=f"got {size} bytes"):
        sign_digest(KEY, bytes(size))


def test_verify_digest_rejects_a_signature_of_another_digest() -> None:
    # Prepare
    signature = sign_digest(KEY, sha256(b"a"))

    # Execute / Assert
    assert not verify_digest(KEY.public_key(), sha256(b"b"), signature)


def test_signer_for_returns_a_closure_that_signs_digests() -> None:
    # Prepare
    sign = signer_for(KEY)
    digest = sha256(b"proposal bytes")

    # Execute
    signature = sign(digest)

    # Assert
    assert verify_digest(KEY.public_key(), digest, signature)
    assert is_low_s(signature)


def test_signer_for_rejects_a_key_on_another_curve() -> None:
    with pytest.raises(LedgerError, match="P-256"):
        signer_for(ec.generate_private_key(ec.SECP384R1()))


def test_load_private_key_reads_pkcs8_pem() -> None:
    # Prepare
    pem = KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    # Execute
    loaded = load_private_key(pem)

    # Assert
    assert loaded.public_key().public_numbers() == KEY.public_key().public_numbers()


def test_load_private_key_rejects_an_rsa_key_naming_the_source() -> None:
    # Prepare
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    # Execute / Assert
    with pytest.raises(LedgerError, match="keystore/priv_sk is not an EC private key"):
        load_private_key(pem, source="keystore/priv_sk")


def test_load_private_key_rejects_garbage_naming_the_source() -> None:
    with pytest.raises(LedgerError, match="cannot read keystore/priv_sk"):
        load_private_key(b"not a pem", source="keystore/priv_sk")
