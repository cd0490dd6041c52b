"""Raw Paillier: round trips, python-paillier interoperability, fixed tiny-key vectors."""

from __future__ import annotations

import phe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.crypto import paillier
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.errors import CryptoError

# Regression vectors for the tiny safe-prime key p = 23, q = 47 (n = 1081): (m, r, ciphertext)
# with ciphertext = (1 + n)^m * r^n mod n^2, computed independently of fedledger.
TINY_P, TINY_Q = 23, 47
TINY_VECTORS = [(42, 5, 741001), (0, 2, 625148), (1080, 1000, 250697)]


def _tiny() -> PrivateKey:
    return PrivateKey(PublicKey(TINY_P * TINY_Q, _allow_insecure_test_key=True), TINY_P, TINY_Q)


@pytest.mark.parametrize(("m", "r", "expected"), TINY_VECTORS)
def test_tiny_key_encryption_matches_the_regression_vector(m: int, r: int, expected: int) -> None:
    # Prepare
    key = _tiny().public_key
    # Execute
    c = paillier.encrypt_with(key, m, pow(r, key.n, key.nsquare))
    # Assert
    assert c == expected


@pytest.mark.parametrize(("m", "r", "ciphertext"), TINY_VECTORS)
def test_tiny_key_decryption_matches_the_regression_vector(m: int, r: int, ciphertext: int) -> None:
    assert paillier.decrypt(_tiny(), ciphertext) == m


@given(st.integers(min_value=-(1 << 300), max_value=1 << 300))
@settings(max_examples=25, deadline=None)
def test_encrypt_then_decrypt_round_trips_modulo_n(
    key2048: PrivateKey, pool2048: RandomnessPool, m: int
) -> None:
    # Execute
    (c,) = paillier.encrypt(key2048.public_key, [m], pool2048)
    # Assert
    assert paillier.decrypt(key2048, c) == m % key2048.public_key.n


def test_same_plaintext_encrypts_differently(key2048: PrivateKey, pool2048: RandomnessPool) -> None:
    # Execute
    c1, c2 = paillier.encrypt(key2048.public_key, [7, 7], pool2048)
    # Assert
    assert c1 != c2
    assert paillier.decrypt(key2048, c1) == paillier.decrypt(key2048, c2) == 7


def test_python_paillier_decrypts_our_ciphertexts(
    key2048: PrivateKey, pool2048: RandomnessPool
) -> None:
    # Prepare
    public = key2048.public_key
    phe_public = phe.PaillierPublicKey(public.n)
    phe_private = phe.PaillierPrivateKey(phe_public, key2048.p, key2048.q)
    plaintexts = [0, 1, 123456789, public.n - 1]
    # Execute
    ciphertexts = paillier.encrypt(public, plaintexts, pool2048)
    # Assert
    assert [phe_private.raw_decrypt(c) for c in ciphertexts] == plaintexts


def test_we_decrypt_python_paillier_ciphertexts(key2048: PrivateKey) -> None:
    # Prepare
    phe_public = phe.PaillierPublicKey(key2048.public_key.n)
    numbers = [-5, 0, 3, 2**40]
    # Execute
    ciphertexts = [phe_public.encrypt(x, precision=1).ciphertext(be_secure=True) for x in numbers]
    # Assert
    decrypted = [paillier.decrypt(key2048, c) for c in ciphertexts]
    assert decrypted == [x % key2048.public_key.n for x in numbers]


def test_product_of_ciphertexts_decrypts_to_the_sum(
    key2048: PrivateKey, pool2048: RandomnessPool
) -> None:
    # Prepare
    public = key2048.public_key
    ciphertexts = paillier.encrypt(public, [10, -3, 1000], pool2048)
    # Execute
    total = paillier.raw_add(public, *ciphertexts)
    # Assert
    assert paillier.decrypt(key2048, total) == 1007


@pytest.mark.parametrize("bad", ["zero", "nsquare", "multiple_of_p"])
def test_decrypt_rejects_ciphertexts_outside_the_group(key2048: PrivateKey, bad: str) -> None:
    # Prepare
    public = key2048.public_key
    c = {"zero": 0, "nsquare": public.nsquare, "multiple_of_p": key2048.p * 12345}[bad]
    # Execute / Assert
    with pytest.raises(CryptoError, match=r"not in Z\*\(n\^2\)"):
        paillier.decrypt(key2048, c)


def test_encrypt_refuses_a_pool_of_another_key(
    key2048: PrivateKey, other_key2048: PrivateKey
) -> None:
    # Prepare
    pool = RandomnessPool(other_key2048.public_key)
    # Execute / Assert
    with pytest.raises(CryptoError, match="different public key"):
        paillier.encrypt(key2048.public_key, [1], pool)
