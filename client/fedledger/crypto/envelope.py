"""Sealed envelopes: bytes sealed to one recipient's X25519 public key (ECIES-style).

seal: a fresh ephemeral X25519 key agrees a secret with the recipient's key; HKDF-SHA256 (info
binds both public keys) derives a 256-bit AES-GCM key and nonce; the envelope is
``version (1) | ephemeral public key (32) | AES-GCM ciphertext and tag``. A fresh ephemeral key
per envelope makes every (key, nonce) pair unique. Optional associated data is authenticated but
not carried. Only the holder of the recipient's private key can open it; any modification, or
opening with another key, fails authentication and raises :class:`EnvelopeError`.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fedledger.errors import EnvelopeError

__all__ = ["generate_private_key", "open_envelope", "public_key_bytes", "seal"]

_VERSION = 1
_KEY_BYTES = 32
_INFO = b"fedledger/envelope/v1"
_RAW = serialization.Encoding.Raw


def generate_private_key() -> bytes:
    """Return a new X25519 private key as 32 raw bytes (keep it secret)."""
    key = X25519PrivateKey.generate()
    return key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def public_key_bytes(private_key: bytes) -> bytes:
    """Return the 32-byte X25519 public key of a raw private key; raises EnvelopeError."""
    return _public_raw(_load_private(private_key).public_key())


def _public_raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(_RAW, serialization.PublicFormat.Raw)


def _load_private(raw: bytes) -> X25519PrivateKey:
    if not isinstance(raw, bytes) or len(raw) != _KEY_BYTES:
        raise EnvelopeError("an X25519 private key is 32 raw bytes")
    return X25519PrivateKey.from_private_bytes(raw)


def _derive(shared: bytes, ephemeral: bytes, recipient: bytes) -> tuple[bytes, bytes]:
    okm = HKDF(algorithm=hashes.SHA256(), length=44, salt=None, info=_INFO + ephemeral + recipient)
    material = okm.derive(shared)
    return material[:32], material[32:]


def seal(recipient_public_key: bytes, plaintext: bytes, *, associated_data: bytes = b"") -> bytes:
    """Return ``plaintext`` sealed to the 32-byte X25519 ``recipient_public_key``.

    Raises EnvelopeError for a malformed or low-order public key.
    """
    if not isinstance(recipient_public_key, bytes) or len(recipient_public_key) != _KEY_BYTES:
        raise EnvelopeError("a recipient's X25519 public key is 32 raw bytes")
    ephemeral = X25519PrivateKey.generate()
    try:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public_key))
    except ValueError as exc:  # low-order point: the shared secret would be all zeros
        raise EnvelopeError(f"unusable recipient public key: {exc}") from None
    ephemeral_raw = _public_raw(ephemeral.public_key())
    key, nonce = _derive(shared, ephemeral_raw, recipient_public_key)
    body = AESGCM(key).encrypt(nonce, bytes(plaintext), associated_data)
    return bytes([_VERSION]) + ephemeral_raw + body


def open_envelope(private_key: bytes, envelope: bytes, *, associated_data: bytes = b"") -> bytes:
    """Return the plaintext of ``envelope`` opened with the recipient's raw private key.

    Raises EnvelopeError if the envelope is malformed, of an unknown version, was tampered
    with, or was sealed to another recipient (or with other associated data).
    """
    if not isinstance(envelope, bytes) or len(envelope) < 1 + _KEY_BYTES + 16:
        raise EnvelopeError("envelope is truncated or not bytes")
    if envelope[0] != _VERSION:
        raise EnvelopeError(f"unknown envelope version {envelope[0]}")
    recipient = _load_private(private_key)
    ephemeral_raw = envelope[1 : 1 + _KEY_BYTES]
    try:
        shared = recipient.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
    except ValueError:
        raise EnvelopeError("envelope cannot be opened: invalid ephemeral key") from None
    key, nonce = _derive(shared, ephemeral_raw, _public_raw(recipient.public_key()))
    try:
        return AESGCM(key).decrypt(nonce, envelope[1 + _KEY_BYTES :], associated_data)
    except InvalidTag:
        raise EnvelopeError(
            "envelope cannot be opened: it was tampered with or sealed to another recipient"
        ) from None
