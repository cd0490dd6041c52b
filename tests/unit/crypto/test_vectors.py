"""Float vectors end to end: encrypt, add on the 'ledger', threshold-decrypt, decode exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.crypto.encoding import EncodingParams, quantise
from fedledger.crypto.keys import PrivateKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import KeyShare, ThresholdKey
from fedledger.crypto.vectors import (
    decrypt_vector,
    decrypt_vector_with_shares,
    encrypt_vector,
    partial_decrypt_vector,
)
from fedledger.errors import CryptoError, EncodingError
from fedledger.protocol.ciphervec import CipherVector, homomorphic_sum, validate_cipher_vector

TINY_PARAMS = EncodingParams.create(frac_bits=12, clip=1.0, max_summands=3, modulus_bits=256)
PARAMS_2048 = EncodingParams.create(frac_bits=16, clip=0.5, max_summands=3, modulus_bits=2048)
unit = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)


ROWS = st.integers(1, 3).flatmap(
    lambda k: st.lists(st.lists(unit, min_size=30, max_size=30), min_size=k, max_size=k)
)


@given(ROWS)
@settings(max_examples=10, deadline=None)
def test_threshold_decrypted_sum_equals_the_sum_of_quantised_vectors(
    tiny_key: PrivateKey,
    tiny_pool: RandomnessPool,
    tiny_dealing: tuple[ThresholdKey, list[KeyShare]],
    rows: list[list[float]],
) -> None:
    # Prepare
    tkey, shares = tiny_dealing
    public = tiny_key.public_key
    vectors = [encrypt_vector(r, public, TINY_PARAMS, tiny_pool) for r in rows]
    aggregate = homomorphic_sum(vectors, public.n)
    dshares = [partial_decrypt_vector(tkey, s, aggregate) for s in shares[1:4]]
    # Execute
    result = decrypt_vector_with_shares(tkey, aggregate, dshares, summands=len(rows))
    # Assert
    expected = [sum(col) for col in zip(*(quantise(r, TINY_PARAMS) for r in rows), strict=True)]
    assert [round(x * (1 << TINY_PARAMS.frac_bits)) for x in result] == expected
    exact = [sum(col) for col in zip(*rows, strict=True)]
    bound = len(rows) * TINY_PARAMS.resolution / 2
    assert max(abs(a - b) for a, b in zip(result, exact, strict=True)) <= bound


def test_2048_bit_update_round_trips_through_the_wire_format(
    key2048: PrivateKey, pool2048: RandomnessPool
) -> None:
    # Prepare
    values = [((i * 37) % 101 - 50) / 100 for i in range(300)]
    public = key2048.public_key
    # Execute
    vec = encrypt_vector(values, public, PARAMS_2048, pool2048)
    again = CipherVector.from_base64(vec.to_base64())
    # Assert
    validate_cipher_vector(
        again, n=public.n, expected_length=3, expected_fingerprint=public.fingerprint
    )
    decoded = decrypt_vector(key2048, again)
    assert max(abs(a - b) for a, b in zip(decoded, values, strict=True)) <= 2.0**-17


def test_decrypting_with_the_wrong_key_is_refused(
    key2048: PrivateKey, other_key2048: PrivateKey, pool2048: RandomnessPool
) -> None:
    # Prepare
    vec = encrypt_vector([0.25], key2048.public_key, PARAMS_2048, pool2048)
    # Execute / Assert
    with pytest.raises(CryptoError, match="different key"):
        decrypt_vector(other_key2048, vec)


def test_the_same_vector_encrypts_differently(
    tiny_key: PrivateKey, tiny_pool: RandomnessPool
) -> None:
    # Execute
    a = encrypt_vector([0.5, -0.5], tiny_key.public_key, TINY_PARAMS, tiny_pool)
    b = encrypt_vector([0.5, -0.5], tiny_key.public_key, TINY_PARAMS, tiny_pool)
    # Assert
    assert a.ciphertexts != b.ciphertexts
    assert decrypt_vector(tiny_key, a) == decrypt_vector(tiny_key, b) == [0.5, -0.5]


def test_packing_too_wide_for_the_key_is_refused(
    tiny_key: PrivateKey, tiny_pool: RandomnessPool
) -> None:
    with pytest.raises(EncodingError, match="do not fit a 256-bit n"):
        encrypt_vector([0.1], tiny_key.public_key, PARAMS_2048, tiny_pool)


def test_an_empty_vector_is_refused(tiny_key: PrivateKey, tiny_pool: RandomnessPool) -> None:
    with pytest.raises(EncodingError, match="empty"):
        encrypt_vector([], tiny_key.public_key, TINY_PARAMS, tiny_pool)
