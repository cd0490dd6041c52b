"""Threshold decryption: any t verified shares decrypt, fewer do not, bad shares are named."""

from __future__ import annotations

import dataclasses

import gmpy2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.crypto import paillier
from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import (
    DecryptionShare,
    KeyShare,
    ThresholdKey,
    _lagrange_combine,
    combine_shares,
    deal,
    partial_decrypt,
    verify_share,
)
from fedledger.errors import CryptoError, InvalidShareError

Dealing = tuple[ThresholdKey, list[KeyShare]]


def _encrypt(key: PrivateKey, plaintexts: list[int]) -> list[int]:
    return paillier.encrypt(key.public_key, plaintexts, RandomnessPool(key.public_key))


@given(
    st.lists(st.integers(0, (1 << 250)), min_size=1, max_size=4),
    st.lists(st.sampled_from([1, 2, 3, 4, 5]), min_size=3, max_size=5, unique=True),
)
@settings(max_examples=15, deadline=None)
def test_any_t_of_n_shares_decrypt(
    tiny_key: PrivateKey, tiny_dealing: Dealing, plaintexts: list[int], parties: list[int]
) -> None:
    # Prepare (tiny key: 3-of-5)
    tkey, shares = tiny_dealing
    ciphertexts = _encrypt(tiny_key, plaintexts)
    # Execute
    dshares = [partial_decrypt(tkey, shares[i - 1], ciphertexts) for i in parties]
    # Assert
    assert combine_shares(tkey, ciphertexts, dshares) == [m % tkey.public_key.n for m in plaintexts]


def test_two_of_three_with_a_2048_bit_key(key2048: PrivateKey, dealing2048: Dealing) -> None:
    # Prepare
    tkey, shares = dealing2048
    plaintexts = [0, 99, key2048.public_key.n - 1]
    ciphertexts = _encrypt(key2048, plaintexts)
    # Execute
    dshares = [partial_decrypt(tkey, share, ciphertexts) for share in (shares[2], shares[0])]
    # Assert
    assert combine_shares(tkey, ciphertexts, dshares) == plaintexts


def test_fewer_than_t_shares_are_refused(tiny_key: PrivateKey, tiny_dealing: Dealing) -> None:
    # Prepare
    tkey, shares = tiny_dealing
    ciphertexts = _encrypt(tiny_key, [5])
    dshares = [partial_decrypt(tkey, share, ciphertexts) for share in shares[:2]]
    # Execute / Assert
    with pytest.raises(CryptoError, match="need decryption shares from 3 parties, got 2"):
        combine_shares(tkey, ciphertexts, dshares)


@given(st.integers(0, 1 << 200), st.lists(st.sampled_from([1, 2, 3, 4, 5]), min_size=2,
                                          max_size=2, unique=True))  # fmt: skip
@settings(max_examples=15, deadline=None)
def test_forcing_a_combination_of_t_minus_1_shares_does_not_decrypt(
    tiny_key: PrivateKey, tiny_dealing: Dealing, plaintext: int, parties: list[int]
) -> None:
    # Prepare
    tkey, shares = tiny_dealing
    ciphertexts = _encrypt(tiny_key, [plaintext])
    dshares = [partial_decrypt(tkey, shares[i - 1], ciphertexts) for i in parties]
    # Execute: bypass the count check and interpolate from t - 1 shares anyway.
    result = _lagrange_combine(tkey, dshares, 1)
    # Assert
    assert result != [plaintext]


def test_a_corrupted_share_is_detected_and_its_party_named(
    tiny_key: PrivateKey, tiny_dealing: Dealing
) -> None:
    # Prepare
    tkey, shares = tiny_dealing
    ciphertexts = _encrypt(tiny_key, [1, 2, 3])
    dshares = [partial_decrypt(tkey, share, ciphertexts) for share in shares[:3]]
    nsquare = tkey.public_key.nsquare
    bad_values = (dshares[1].values[0], dshares[1].values[1] * 4 % nsquare, dshares[1].values[2])
    dshares[1] = dataclasses.replace(dshares[1], values=bad_values)
    # Execute / Assert
    with pytest.raises(InvalidShareError, match="party 2") as caught:
        combine_shares(tkey, ciphertexts, dshares)
    assert caught.value.party == 2


@given(st.data())
@settings(max_examples=20, deadline=None)
def test_any_corrupted_value_or_proof_fails_verification(
    tiny_key: PrivateKey, tiny_dealing: Dealing, data: st.DataObject
) -> None:
    # Prepare
    tkey, shares = tiny_dealing
    ciphertexts = _encrypt(tiny_key, [11, 22, 33, 44])
    party = data.draw(st.integers(1, 5))
    good = partial_decrypt(tkey, shares[party - 1], ciphertexts)
    field = data.draw(st.sampled_from(["value", "challenge", "response", "swap"]))
    delta = data.draw(st.integers(1, 1 << 64))
    bad = _corrupt(good, field, delta, data.draw(st.integers(0, 3)), tkey.public_key)
    # Execute / Assert
    with pytest.raises(InvalidShareError) as caught:
        verify_share(tkey, ciphertexts, bad)
    assert caught.value.party == party


def _corrupt(
    share: DecryptionShare, field: str, delta: int, index: int, public: PublicKey
) -> DecryptionShare:
    if field == "challenge":
        return dataclasses.replace(
            share, challenge=share.challenge ^ (delta & ((1 << 255) - 1)) or 1
        )
    if field == "response":
        return dataclasses.replace(share, response=share.response + delta)
    values = list(share.values)
    if field == "swap":
        values[0], values[1] = values[1], values[0]
        if values[0] == values[1]:  # pragma: no cover - equal partial decryptions are negligible
            values[0] = values[0] * 2 % public.nsquare
    else:
        values[index] = values[index] * pow(1 + public.n, delta, public.nsquare) % public.nsquare
    return dataclasses.replace(share, values=tuple(values))


def test_a_share_for_other_ciphertexts_fails_verification(
    tiny_key: PrivateKey, tiny_dealing: Dealing
) -> None:
    # Prepare
    tkey, shares = tiny_dealing
    first, second = _encrypt(tiny_key, [1]), _encrypt(tiny_key, [1])
    dshare = partial_decrypt(tkey, shares[0], first)
    # Execute / Assert
    with pytest.raises(InvalidShareError, match="party 1"):
        verify_share(tkey, second, dshare)


def test_shares_of_another_dealing_are_rejected(
    tiny_key: PrivateKey, tiny_dealing: Dealing
) -> None:
    # Prepare: the same Paillier key dealt twice gives unrelated shares.
    tkey, _ = tiny_dealing
    _, foreign = deal(tiny_key, threshold=3, parties=5)
    ciphertexts = _encrypt(tiny_key, [9])
    # Execute / Assert
    with pytest.raises(CryptoError, match="does not match its verification key"):
        partial_decrypt(tkey, foreign[0], ciphertexts)


def test_two_different_shares_for_one_party_are_refused(
    tiny_key: PrivateKey, tiny_dealing: Dealing
) -> None:
    # Prepare
    tkey, shares = tiny_dealing
    ciphertexts = _encrypt(tiny_key, [9])
    a = partial_decrypt(tkey, shares[0], ciphertexts)
    b = partial_decrypt(tkey, shares[0], ciphertexts)  # fresh proof randomness
    # Execute / Assert
    with pytest.raises(CryptoError, match="claim party 1"):
        combine_shares(tkey, ciphertexts, [a, b])


def test_partial_decrypt_rejects_ciphertexts_outside_the_group(tiny_dealing: Dealing) -> None:
    tkey, shares = tiny_dealing
    with pytest.raises(CryptoError, match=r"ciphertext 1 is not in Z\*\(n\^2\)"):
        partial_decrypt(tkey, shares[0], [1, tkey.public_key.nsquare])


def test_dealer_refuses_primes_that_are_not_safe() -> None:
    # Prepare: primes p whose (p - 1) / 2 is composite.
    p = int(gmpy2.next_prime(3 << 1022))
    while gmpy2.is_prime((p - 1) // 2):  # pragma: no cover - astronomically unlikely
        p = int(gmpy2.next_prime(p))
    q = int(gmpy2.next_prime(p))
    key = PrivateKey(PublicKey(p * q), p, q)
    # Execute / Assert
    with pytest.raises(CryptoError, match="safe primes"):
        deal(key, threshold=2, parties=3)


def test_dealer_refuses_a_threshold_above_the_party_count(tiny_key: PrivateKey) -> None:
    with pytest.raises(CryptoError, match="threshold ≤ parties"):
        deal(tiny_key, threshold=4, parties=3)


def test_parallel_partial_decryption_matches_the_serial_one(
    tiny_key: PrivateKey, tiny_dealing: Dealing
) -> None:
    # Prepare
    tkey, shares = tiny_dealing
    ciphertexts = _encrypt(tiny_key, list(range(10)))
    # Execute
    serial = partial_decrypt(tkey, shares[0], ciphertexts)
    parallel = partial_decrypt(tkey, shares[0], ciphertexts, processes=2)
    # Assert
    assert parallel.values == serial.values
    verify_share(tkey, ciphertexts, parallel)
