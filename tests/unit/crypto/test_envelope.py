"""Sealed envelopes: only the recipient opens them; tampering is detected."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.crypto.envelope import generate_private_key, open_envelope, public_key_bytes, seal
from fedledger.errors import EnvelopeError


@given(st.binary(max_size=2000), st.binary(max_size=50))
@settings(max_examples=30)
def test_sealed_bytes_open_with_the_recipients_key(payload: bytes, aad: bytes) -> None:
    # Prepare
    private = generate_private_key()
    # Execute
    envelope = seal(public_key_bytes(private), payload, associated_data=aad)
    # Assert
    assert open_envelope(private, envelope, associated_data=aad) == payload


def test_sealing_twice_gives_different_envelopes() -> None:
    # Prepare
    public = public_key_bytes(generate_private_key())
    # Execute / Assert
    assert seal(public, b"share") != seal(public, b"share")


def test_another_recipient_cannot_open_the_envelope() -> None:
    # Prepare
    envelope = seal(public_key_bytes(generate_private_key()), b"key share")
    # Execute / Assert
    with pytest.raises(EnvelopeError, match="sealed to another recipient"):
        open_envelope(generate_private_key(), envelope)


@given(st.data())
@settings(max_examples=30)
def test_any_flipped_bit_is_detected(data: st.DataObject) -> None:
    # Prepare
    private = generate_private_key()
    envelope = bytearray(seal(public_key_bytes(private), b"model weights"))
    position = data.draw(st.integers(0, len(envelope) - 1))
    envelope[position] ^= 1 << data.draw(st.integers(0, 7))
    # Execute / Assert
    with pytest.raises(EnvelopeError):
        open_envelope(private, bytes(envelope))


def test_wrong_associated_data_is_detected() -> None:
    # Prepare
    private = generate_private_key()
    envelope = seal(public_key_bytes(private), b"x", associated_data=b"task-1")
    # Execute / Assert
    with pytest.raises(EnvelopeError, match="tampered"):
        open_envelope(private, envelope, associated_data=b"task-2")


def test_truncated_envelope_is_rejected() -> None:
    with pytest.raises(EnvelopeError, match="truncated"):
        open_envelope(generate_private_key(), b"\x01" + b"\x00" * 20)


def test_malformed_recipient_key_is_rejected() -> None:
    with pytest.raises(EnvelopeError, match="32 raw bytes"):
        seal(b"short", b"x")
