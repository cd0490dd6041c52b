"""Canonical bytes of threshold key material: exact round trips, strict rejection with messages."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.crypto.keys import PrivateKey
from fedledger.crypto.threshold import DecryptionShare, KeyShare, ThresholdKey, deal
from fedledger.crypto.wire import (
    decryption_share_from_base64,
    decryption_share_from_bytes,
    decryption_share_to_base64,
    decryption_share_to_bytes,
    from_base64,
    key_share_from_bytes,
    key_share_to_bytes,
    threshold_key_from_base64,
    threshold_key_from_bytes,
    threshold_key_to_base64,
    threshold_key_to_bytes,
)
from fedledger.errors import CryptoError

Dealing = tuple[ThresholdKey, list[KeyShare]]


@pytest.fixture(scope="module")
def tkey(dealing2048: Dealing) -> ThresholdKey:
    return dealing2048[0]


@pytest.fixture(scope="module")
def other_tkey(other_key2048: PrivateKey) -> ThresholdKey:
    return deal(other_key2048, threshold=2, parties=3)[0]


def _dshare(tkey: ThresholdKey, data: st.DataObject) -> DecryptionShare:
    nsquare = tkey.public_key.nsquare
    bound = nsquare.bit_length() + tkey.delta.bit_length() + 3 * 256 + 1
    return DecryptionShare(
        data.draw(st.integers(1, tkey.parties)),
        tuple(data.draw(st.lists(st.integers(0, nsquare - 1), min_size=1, max_size=5))),
        data.draw(st.integers(0, (1 << 256) - 1)),
        data.draw(st.integers(0, (1 << bound) - 1)),
    )


def test_threshold_public_round_trips_exactly(tkey: ThresholdKey) -> None:
    # Execute
    raw = threshold_key_to_bytes(tkey)
    parsed = threshold_key_from_bytes(raw)
    # Assert
    assert parsed == tkey
    assert parsed.verification_keys == tkey.verification_keys
    assert threshold_key_to_bytes(parsed) == raw
    assert threshold_key_from_base64(threshold_key_to_base64(tkey)) == tkey


@given(st.data())
@settings(max_examples=30, deadline=None)
def test_key_share_round_trips_exactly(tkey: ThresholdKey, data: st.DataObject) -> None:
    # Prepare
    share = KeyShare(
        data.draw(st.integers(1, tkey.parties)),
        data.draw(st.integers(0, tkey.public_key.nsquare - 1)),
    )
    # Execute
    raw = key_share_to_bytes(tkey, share)
    # Assert
    assert key_share_from_bytes(raw, tkey) == share
    assert len(raw) == 5 + 32 + 4 + 512


@given(st.data())
@settings(max_examples=30, deadline=None)
def test_decryption_share_round_trips_exactly(tkey: ThresholdKey, data: st.DataObject) -> None:
    # Prepare
    dshare = _dshare(tkey, data)
    # Execute
    raw = decryption_share_to_bytes(tkey, dshare)
    # Assert
    assert decryption_share_from_bytes(raw, tkey) == dshare
    assert decryption_share_from_base64(decryption_share_to_base64(tkey, dshare), tkey) == dshare


def test_decryption_share_values_take_the_width_of_n_squared(tkey: ThresholdKey) -> None:
    # Prepare
    one, three = (DecryptionShare(1, (5,) * k, 7, 9) for k in (1, 3))
    # Execute
    growth = len(decryption_share_to_bytes(tkey, three)) - len(decryption_share_to_bytes(tkey, one))
    # Assert
    assert growth == 2 * 512


def _encodings(tkey: ThresholdKey) -> dict[str, tuple[bytes, object]]:
    return {
        "threshold public key": (threshold_key_to_bytes(tkey), threshold_key_from_bytes),
        "key share": (
            key_share_to_bytes(tkey, KeyShare(2, 12345)),
            lambda raw: key_share_from_bytes(raw, tkey),
        ),
        "decryption share": (
            decryption_share_to_bytes(tkey, DecryptionShare(3, (4, 5), 6, 7)),
            lambda raw: decryption_share_from_bytes(raw, tkey),
        ),
    }


@pytest.mark.parametrize("what", ["threshold public key", "key share", "decryption share"])
@given(st.data())
@settings(max_examples=15, deadline=None)
def test_truncated_bytes_are_rejected(tkey: ThresholdKey, what: str, data: st.DataObject) -> None:
    # Prepare
    raw, parse = _encodings(tkey)[what]
    cut = data.draw(st.integers(0, len(raw) - 1))
    # Execute / Assert
    with pytest.raises(CryptoError, match="truncated"):
        parse(raw[:cut])  # type: ignore[operator]


@pytest.mark.parametrize("what", ["threshold public key", "key share", "decryption share"])
@given(st.binary(min_size=1, max_size=600))
@settings(max_examples=10, deadline=None)
def test_trailing_bytes_are_rejected(tkey: ThresholdKey, what: str, extra: bytes) -> None:
    raw, parse = _encodings(tkey)[what]
    with pytest.raises(CryptoError, match=f"{what} has {len(extra)} trailing bytes"):
        parse(raw + extra)  # type: ignore[operator]


@pytest.mark.parametrize("what", ["threshold public key", "key share", "decryption share"])
def test_unknown_version_is_rejected(tkey: ThresholdKey, what: str) -> None:
    raw, parse = _encodings(tkey)[what]
    with pytest.raises(CryptoError, match=f"unknown {what} format version 2"):
        parse(raw[:4] + b"\x02" + raw[5:])  # type: ignore[operator]


def test_one_kind_is_not_read_as_another(tkey: ThresholdKey) -> None:
    raw = key_share_to_bytes(tkey, KeyShare(1, 1))
    with pytest.raises(CryptoError, match="not a serialised decryption share: bad magic"):
        decryption_share_from_bytes(raw, tkey)


def test_threshold_public_with_a_small_modulus_is_refused(tiny_dealing: Dealing) -> None:
    raw = threshold_key_to_bytes(tiny_dealing[0])
    with pytest.raises(CryptoError, match="refusing a 256-bit Paillier modulus"):
        threshold_key_from_bytes(raw)


def _public_fields(tkey: ThresholdKey, **changes: int) -> bytes:
    raw = threshold_key_to_bytes(tkey)
    at = 5 + 2 + 256
    threshold, parties, width = struct.unpack_from(">HHH", raw, at)
    fields = {"threshold": threshold, "parties": parties, "width": width} | changes
    return raw[:at] + struct.pack(">HHH", *fields.values()) + raw[at + 6 :]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"threshold": 0}, "threshold 0 of 3 parties"),
        ({"threshold": 4}, "threshold 4 of 3 parties"),
        ({"width": 511}, "uses 511-byte integers, n² needs 512"),
        ({"parties": 4}, "truncated"),
        ({"parties": 2}, "trailing bytes"),
    ],
)
def test_threshold_public_with_inconsistent_fields_is_rejected(
    tkey: ThresholdKey, changes: dict[str, int], message: str
) -> None:
    with pytest.raises(CryptoError, match=message):
        threshold_key_from_bytes(_public_fields(tkey, **changes))


def test_threshold_public_with_a_padded_modulus_is_rejected(tkey: ThresholdKey) -> None:
    raw = threshold_key_to_bytes(tkey)
    padded = raw[:5] + struct.pack(">H", 257) + b"\x00" + raw[7:]
    with pytest.raises(CryptoError, match="leading zero byte"):
        threshold_key_from_bytes(padded)


def test_threshold_public_with_a_verification_key_outside_the_group_is_rejected(
    tkey: ThresholdKey,
) -> None:
    raw = threshold_key_to_bytes(tkey)
    zeroed = raw[: len(raw) - 512] + bytes(512)
    with pytest.raises(CryptoError, match=r"verification key 3 is not in Z\*\(n\^2\)"):
        threshold_key_from_bytes(zeroed)


def test_shares_under_another_key_are_rejected(
    tkey: ThresholdKey, other_tkey: ThresholdKey
) -> None:
    # Prepare
    key_share = key_share_to_bytes(other_tkey, KeyShare(1, 1))
    dshare = decryption_share_to_bytes(other_tkey, DecryptionShare(1, (2,), 3, 4))
    # Execute / Assert
    with pytest.raises(CryptoError, match="key share is for key"):
        key_share_from_bytes(key_share, tkey)
    with pytest.raises(CryptoError, match="decryption share is for key"):
        decryption_share_from_bytes(dshare, tkey)


@pytest.mark.parametrize("index", [0, 4])
def test_decryption_share_of_an_unknown_party_is_rejected(tkey: ThresholdKey, index: int) -> None:
    # Prepare: patch the index field (after magic, version and fingerprint).
    raw = decryption_share_to_bytes(tkey, DecryptionShare(1, (2,), 3, 4))
    patched = raw[:37] + struct.pack(">H", index) + raw[39:]
    # Execute / Assert
    with pytest.raises(CryptoError, match=f"names party index {index}, not in 1..3"):
        decryption_share_from_bytes(patched, tkey)


def test_decryption_share_without_values_is_rejected(tkey: ThresholdKey) -> None:
    raw = decryption_share_to_bytes(tkey, DecryptionShare(1, (2,), 3, 4))
    empty = raw[:41] + struct.pack(">I", 0) + raw[45 : len(raw) - 512]
    with pytest.raises(CryptoError, match="announces no values"):
        decryption_share_from_bytes(empty, tkey)


def test_serialising_a_value_wider_than_n_squared_is_refused(tkey: ThresholdKey) -> None:
    with pytest.raises(CryptoError, match="does not fit the width of n²"):
        decryption_share_to_bytes(tkey, DecryptionShare(1, (1 << 4096,), 3, 4))


@pytest.mark.parametrize(
    ("text", "message"),
    [("AAA", "not valid base64"), ("AB==", "not canonical"), ("A*==", "not valid base64")],
)
def test_non_canonical_base64_is_rejected(text: str, message: str) -> None:
    with pytest.raises(CryptoError, match=f"decryption share (is|base64 is) {message}"):
        from_base64(text, "decryption share")


def test_non_bytes_input_is_rejected(tkey: ThresholdKey) -> None:
    with pytest.raises(CryptoError, match="must be bytes, got str"):
        decryption_share_from_bytes("FLDS", tkey)  # type: ignore[arg-type]
