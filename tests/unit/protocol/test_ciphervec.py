"""Wire format, validation and homomorphic sum of cipher vectors (the chaincode's view)."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedledger.protocol.ciphervec import (
    CipherVector,
    EncodingSpec,
    homomorphic_sum,
    key_fingerprint,
    validate_cipher_vector,
)
from fedledger.protocol.errors import ProtocolError

# A toy modulus: the protocol layer never needs the factors. n = 23 * 47.
N = 1081
NSQ = N * N
WIDTH = 3  # byte length of n^2 = 1168561
FP = key_fingerprint(N)
SPEC = EncodingSpec(frac_bits=2, clip_units=4, max_summands=3, slot_bits=5, slots=2)


def _vector(ciphertexts: tuple[int, ...], value_count: int | None = None) -> CipherVector:
    count = value_count if value_count is not None else 2 * len(ciphertexts)
    return CipherVector(FP, SPEC, count, WIDTH, ciphertexts)


units = st.integers(1, NSQ - 1).filter(lambda c: c % 23 and c % 47)


def test_fingerprint_is_sha256_of_minimal_big_endian_n() -> None:
    assert key_fingerprint(N) == hashlib.sha256(N.to_bytes(2, "big")).hexdigest()


@pytest.mark.parametrize("bad", [0, -5, True, "1081"])
def test_fingerprint_rejects_non_positive_or_non_integer_moduli(bad: object) -> None:
    with pytest.raises(ProtocolError, match="positive integer"):
        key_fingerprint(bad)  # type: ignore[arg-type]


@given(st.lists(units, min_size=1, max_size=20), st.booleans())
def test_bytes_and_base64_round_trip_exactly(cts: list[int], partial: bool) -> None:
    # Prepare
    vec = _vector(tuple(cts), 2 * len(cts) - int(partial))
    # Execute
    from_bytes = CipherVector.from_bytes(vec.to_bytes())
    from_b64 = CipherVector.from_base64(vec.to_base64())
    # Assert
    assert from_bytes == vec == from_b64
    assert len(vec.to_bytes()) == 67 + WIDTH * len(cts)


def test_trailing_data_is_rejected() -> None:
    raw = _vector((5, 6)).to_bytes()
    with pytest.raises(ProtocolError, match="header announces 2 ciphertexts of 3 bytes"):
        CipherVector.from_bytes(raw + b"\x00")


def test_truncated_data_is_rejected() -> None:
    raw = _vector((5, 6)).to_bytes()
    with pytest.raises(ProtocolError, match="length mismatch"):
        CipherVector.from_bytes(raw[:-1])
    with pytest.raises(ProtocolError, match="truncated"):
        CipherVector.from_bytes(raw[:10])


def test_unknown_version_and_bad_magic_are_rejected() -> None:
    raw = bytearray(_vector((5,)).to_bytes())
    raw[4] = 2
    with pytest.raises(ProtocolError, match="unknown cipher vector format version 2"):
        CipherVector.from_bytes(bytes(raw))
    with pytest.raises(ProtocolError, match="bad magic"):
        CipherVector.from_bytes(b"XXXX" + bytes(raw[4:]))


def test_a_count_inconsistent_with_the_encoding_is_rejected() -> None:
    # Prepare: 5 values in 2-slot plaintexts need 3 ciphertexts, the header says 2.
    raw = bytearray(_vector((5, 6)).to_bytes())
    struct.pack_into(">I", raw, 4 + 1 + 32 + 2 + 8 + 4 + 2 + 4, 5)
    # Execute / Assert
    with pytest.raises(ProtocolError, match="need 3 ciphertexts, got 2"):
        CipherVector.from_bytes(bytes(raw))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s + "\n",
        lambda s: s.rstrip("="),
        lambda s: s.replace("+", "-").replace("/", "_") + "-",
        lambda s: " " + s,
    ],
)
def test_non_canonical_base64_is_rejected(mutate) -> None:  # type: ignore[no-untyped-def]
    text = _vector((5, 6, 7)).to_base64()
    with pytest.raises(ProtocolError, match="base64"):
        CipherVector.from_base64(mutate(text))


def test_base64_with_nonzero_spare_bits_is_rejected() -> None:
    # Prepare: flip a spare low bit in the last data character before the padding.
    raw = _vector((5, 6, 7)).to_bytes()
    text = base64.b64encode(raw).decode()
    assert text.endswith("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = text.rstrip("=")[-1]
    bumped = alphabet[alphabet.index(last) ^ 1]
    tampered = text.rstrip("=")[:-1] + bumped + "=" * (len(text) - len(text.rstrip("=")))
    # Execute / Assert
    with pytest.raises(ProtocolError, match="not canonical"):
        CipherVector.from_base64(tampered)


def test_validate_accepts_a_good_vector() -> None:
    validate_cipher_vector(_vector((5, 6)), n=N, expected_length=2, expected_fingerprint=FP)


def test_validate_names_both_lengths() -> None:
    with pytest.raises(ProtocolError, match="expected 3 ciphertexts, got 2"):
        validate_cipher_vector(_vector((5, 6)), n=N, expected_length=3, expected_fingerprint=FP)


def test_validate_rejects_another_key() -> None:
    other = key_fingerprint(N + 2)
    vec = CipherVector(other, SPEC, 2, WIDTH, (5,))
    with pytest.raises(ProtocolError, match="the task's key is"):
        validate_cipher_vector(vec, n=N, expected_length=1, expected_fingerprint=FP)


@pytest.mark.parametrize(("bad", "index"), [(0, 1), (NSQ, 0), (23 * 5, 1), (47, 0)])
def test_validate_rejects_ciphertexts_outside_the_group(bad: int, index: int) -> None:
    cts = [5, 6]
    cts[index] = bad
    vec = CipherVector(FP, SPEC, 4, WIDTH, tuple(cts))
    with pytest.raises(ProtocolError, match=rf"ciphertext {index} is not in Z\*\(n\^2\)"):
        validate_cipher_vector(vec, n=N, expected_length=2, expected_fingerprint=FP)


def test_validate_rejects_a_different_encoding() -> None:
    other = EncodingSpec(frac_bits=3, clip_units=4, max_summands=3, slot_bits=5, slots=2)
    with pytest.raises(ProtocolError, match="differs from the task's"):
        validate_cipher_vector(
            _vector((5,)), n=N, expected_length=1, expected_fingerprint=FP, expected_spec=other
        )


def test_spec_rejects_slots_without_headroom() -> None:
    with pytest.raises(ProtocolError, match="slot overflow: 4 summands"):
        EncodingSpec(frac_bits=2, clip_units=4, max_summands=4, slot_bits=5, slots=2)


def test_spec_dict_round_trips_and_rejects_unknown_keys() -> None:
    assert EncodingSpec.from_dict(SPEC.to_dict()) == SPEC
    with pytest.raises(ProtocolError, match="exactly the keys"):
        EncodingSpec.from_dict({**SPEC.to_dict(), "extra": 1})


@given(st.lists(st.lists(units, min_size=3, max_size=3), min_size=1, max_size=3))
def test_homomorphic_sum_is_the_slotwise_product(rows: list[list[int]]) -> None:
    # Prepare
    vectors = [_vector(tuple(r)) for r in rows]
    # Execute
    total = homomorphic_sum(vectors, N)
    # Assert
    for j, c in enumerate(total.ciphertexts):
        expected = 1
        for r in rows:
            expected = expected * r[j] % NSQ
        assert c == expected


def test_homomorphic_sum_refuses_more_summands_than_the_headroom() -> None:
    with pytest.raises(ProtocolError, match="4 summands exceed the encoding's headroom of 3"):
        homomorphic_sum([_vector((5,))] * 4, N)


def test_homomorphic_sum_refuses_mismatched_vectors() -> None:
    with pytest.raises(ProtocolError, match="vector 1 differs from vector 0"):
        homomorphic_sum([_vector((5, 6)), _vector((5,))], N)
    with pytest.raises(ProtocolError, match="empty"):
        homomorphic_sum([], N)
    with pytest.raises(ProtocolError, match="not under the given modulus"):
        homomorphic_sum([_vector((5,))], N + 2)
