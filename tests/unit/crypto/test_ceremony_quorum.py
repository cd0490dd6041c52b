"""Decrypting a round's aggregate from published shares: t valid shares, bad ones named by id."""

from __future__ import annotations

import pytest

from fedledger.crypto.encoding import EncodingParams, quantise
from fedledger.crypto.keys import PrivateKey
from fedledger.crypto.quorum import decrypt_aggregate
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.threshold import KeyShare, ThresholdKey
from fedledger.crypto.vectors import encrypt_vector, partial_decrypt_vector
from fedledger.crypto.wire import (
    decryption_share_from_bytes,
    decryption_share_to_base64,
    decryption_share_to_bytes,
)
from fedledger.errors import CryptoError, InvalidShareError
from fedledger.protocol.ciphervec import CipherVector, homomorphic_sum

PARAMS = EncodingParams.create(frac_bits=16, clip=0.5, max_summands=3, modulus_bits=2048)
IDS = ["Org1MSP/alice", "Org2MSP/bob", "Org3MSP/carol"]
INDICES = {party_id: i for i, party_id in enumerate(IDS, 1)}
ROWS = [[((i * k * 37) % 101 - 50) / 100 for i in range(150)] for k in (1, 2, 3)]

Round = tuple[ThresholdKey, CipherVector, dict[str, bytes]]


@pytest.fixture(scope="module")
def round_(
    key2048: PrivateKey, pool2048: RandomnessPool, dealing2048: tuple[ThresholdKey, list[KeyShare]]
) -> Round:
    tkey, shares = dealing2048
    vectors = [encrypt_vector(row, key2048.public_key, PARAMS, pool2048) for row in ROWS]
    aggregate = homomorphic_sum(vectors, key2048.public_key.n)
    published = {
        party_id: decryption_share_to_bytes(tkey, partial_decrypt_vector(tkey, share, aggregate))
        for party_id, share in zip(IDS, shares, strict=True)
    }
    return tkey, aggregate, published


def _corrupt(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 1])  # the low byte of the last partial decryption


def _expected() -> list[float]:
    columns = zip(*(quantise(row, PARAMS) for row in ROWS), strict=True)
    return [sum(column) / (1 << PARAMS.frac_bits) for column in columns]


def test_two_of_three_decrypt_the_sum_of_three_updates(round_: Round) -> None:
    # Prepare
    tkey, aggregate, published = round_
    shares = [(IDS[2], published[IDS[2]]), (IDS[0], published[IDS[0]])]
    # Execute
    result = decrypt_aggregate(tkey, aggregate, shares, indices=INDICES, summands=3)
    # Assert
    assert result.values == _expected()
    exact = [sum(column) for column in zip(*ROWS, strict=True)]
    assert max(abs(a - b) for a, b in zip(result.values, exact, strict=True)) <= 3 * 2**-17
    assert result.combined == (IDS[2], IDS[0])
    assert result.rejected == {}


def test_base64_shares_from_the_ledger_are_accepted(round_: Round) -> None:
    tkey, aggregate, published = round_
    shares = [
        (p, decryption_share_to_base64(tkey, decryption_share_from_bytes(published[p], tkey)))
        for p in IDS[:2]
    ]
    result = decrypt_aggregate(tkey, aggregate, shares, indices=INDICES, summands=3)
    assert result.values == _expected()


def test_a_corrupted_share_is_skipped_and_reported_when_enough_remain(round_: Round) -> None:
    # Prepare
    tkey, aggregate, published = round_
    shares = [(IDS[0], _corrupt(published[IDS[0]])), (IDS[1], published[IDS[1]]),
              (IDS[2], published[IDS[2]])]  # fmt: skip
    # Execute
    result = decrypt_aggregate(tkey, aggregate, shares, indices=INDICES, summands=3)
    # Assert
    assert result.values == _expected()
    assert result.combined == (IDS[1], IDS[2])
    assert list(result.rejected) == [IDS[0]]
    assert "does not verify" in result.rejected[IDS[0]]


def test_a_corrupted_share_names_its_party_id_when_too_few_remain(round_: Round) -> None:
    # Prepare
    tkey, aggregate, published = round_
    shares = [(IDS[0], published[IDS[0]]), (IDS[1], _corrupt(published[IDS[1]]))]
    # Execute / Assert
    with pytest.raises(InvalidShareError, match="party Org2MSP/bob is invalid") as caught:
        decrypt_aggregate(tkey, aggregate, shares, indices=INDICES, summands=3)
    assert caught.value.party == IDS[1]
    assert "only 1 valid shares, 2 needed" in str(caught.value)


def test_a_share_published_under_another_partys_id_is_rejected(round_: Round) -> None:
    # Prepare: Bob re-publishes Alice's share as his own.
    tkey, aggregate, published = round_
    shares = [(IDS[1], published[IDS[0]]), (IDS[2], published[IDS[2]])]
    # Execute / Assert
    with pytest.raises(InvalidShareError, match="claims index 1, the party was dealt index 2"):
        decrypt_aggregate(tkey, aggregate, shares, indices=INDICES, summands=3)


def test_a_share_from_an_outsider_is_rejected(round_: Round) -> None:
    tkey, aggregate, published = round_
    shares = [("Org9MSP/mallory", published[IDS[0]]), (IDS[2], published[IDS[2]]),
              (IDS[1], published[IDS[1]])]  # fmt: skip
    result = decrypt_aggregate(tkey, aggregate, shares, indices=INDICES, summands=3)
    assert result.rejected == {"Org9MSP/mallory": "not a participant of the task"}


def test_a_party_listed_twice_is_refused(round_: Round) -> None:
    tkey, aggregate, published = round_
    shares = [(IDS[0], published[IDS[0]]), (IDS[0], published[IDS[0]])]
    with pytest.raises(CryptoError, match="submitted two decryption shares"):
        decrypt_aggregate(tkey, aggregate, shares, indices=INDICES, summands=3)


def test_fewer_than_t_shares_decrypt_nothing(round_: Round) -> None:
    tkey, aggregate, published = round_
    with pytest.raises(CryptoError, match="need decryption shares from 2 parties, got 1"):
        decrypt_aggregate(tkey, aggregate, [(IDS[0], published[IDS[0]])], indices=INDICES,
                          summands=3)  # fmt: skip
