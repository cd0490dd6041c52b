"""Keys: refusal of small moduli, safe-prime generation, fingerprints, factor checks."""

from __future__ import annotations

import gmpy2
import pytest

from fedledger.crypto.keys import (
    PrivateKey,
    PublicKey,
    generate_insecure_test_keypair,
    generate_keypair,
    generate_safe_prime,
)
from fedledger.errors import CryptoError
from fedledger.protocol.keyid import key_fingerprint


def test_public_key_refuses_a_modulus_under_2048_bits(key2048: PrivateKey) -> None:
    # Prepare: a real 1024-bit product of primes.
    small = key2048.p * int(gmpy2.next_prime(1 << 40))
    # Execute / Assert
    with pytest.raises(CryptoError, match="at least 2048 bits are required"):
        PublicKey(small)


def test_generate_keypair_refuses_1024_bits() -> None:
    with pytest.raises(CryptoError, match="≥ 2048"):
        generate_keypair(1024)


def test_tiny_keys_need_the_explicit_insecure_flag() -> None:
    # Execute
    public, private = generate_insecure_test_keypair(64)
    # Assert
    assert public.bits == 64
    assert private.is_safe
    with pytest.raises(CryptoError, match="refusing a 64-bit"):
        PublicKey(public.n)


@pytest.mark.parametrize("bits", [16, 64, 256])
def test_generate_safe_prime_returns_a_safe_prime_of_the_requested_size(bits: int) -> None:
    # Execute
    p = generate_safe_prime(bits)
    # Assert
    assert p.bit_length() == bits
    assert gmpy2.is_prime(p, 30) and gmpy2.is_prime((p - 1) // 2, 30)


def test_fixture_key_has_safe_primes_and_the_protocol_fingerprint(key2048: PrivateKey) -> None:
    # Assert
    assert key2048.is_safe
    assert key2048.public_key.bits == 2048
    assert key2048.public_key.fingerprint == key_fingerprint(key2048.public_key.n)


def test_private_key_rejects_factors_of_another_modulus(
    key2048: PrivateKey, other_key2048: PrivateKey
) -> None:
    with pytest.raises(CryptoError, match="not two distinct odd factors"):
        PrivateKey(key2048.public_key, other_key2048.p, key2048.q)


def test_public_key_rejects_an_even_modulus() -> None:
    with pytest.raises(CryptoError, match="odd integer"):
        PublicKey(1 << 2048)
