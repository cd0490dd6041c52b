"""ECDSA P-256 signatures over SHA-256 digests, in the low-S form Fabric's peers insist on.

Security reasoning: an ECDSA signature (r, s) is equally valid as (r, n - s), so a third party could
rewrite a signed transaction's signature without the key and change its bytes. Fabric closes that
malleability by accepting only s <= n/2 ("low-S"); a signature with a high s is rejected by the
peer. Every signature made here is therefore normalised before it leaves this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from fedledger.errors import LedgerError

__all__ = [
    "P256_ORDER",
    "Signer",
    "is_low_s",
    "load_private_key",
    "normalise_low_s",
    "sha256",
    "sign_digest",
    "signer_for",
    "verify_digest",
]

# Order n of the P-256 (secp256r1) base point, from SEC 2 / FIPS 186-4.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF_ORDER = P256_ORDER // 2
_DIGEST_SIZE = 32

Signer = Callable[[bytes], bytes]
"""Takes a SHA-256 digest, returns a DER-encoded low-S ECDSA signature."""


def sha256(data: bytes) -> bytes:
    """Return the SHA-256 digest of ``data``: what every Fabric signature covers."""
    return hashlib.sha256(data).digest()


def normalise_low_s(der_signature: bytes) -> bytes:
    """Return ``der_signature`` with s replaced by n - s when s > n/2 (DER encoded).

    Raises LedgerError when the bytes are not a DER ECDSA signature.
    """
    try:
        r, s = decode_dss_signature(der_signature)
    except ValueError as exc:
        raise LedgerError(f"not a DER ECDSA signature: {exc}") from exc
    if s > _HALF_ORDER:
        s = P256_ORDER - s
    return encode_dss_signature(r, s)


def is_low_s(der_signature: bytes) -> bool:
    """Return True when the DER signature's s is at most n/2 (what the peer accepts)."""
    _, s = decode_dss_signature(der_signature)
    return s <= _HALF_ORDER


def _require_p256(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> None:
    if not isinstance(key.curve, ec.SECP256R1):
        raise LedgerError(f"Fabric identities use P-256 keys, got curve {key.curve.name}")


def _require_digest(digest: bytes) -> None:
    if len(digest) != _DIGEST_SIZE:
        raise LedgerError(f"expected a {_DIGEST_SIZE}-byte SHA-256 digest, got {len(digest)} bytes")


def sign_digest(private_key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """Sign a SHA-256 ``digest`` with a P-256 key; return the DER signature in low-S form.

    Raises LedgerError for a digest that is not 32 bytes or a key on another curve.
    """
    _require_p256(private_key)
    _require_digest(digest)
    signature = private_key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    return normalise_low_s(signature)


def verify_digest(public_key: ec.EllipticCurvePublicKey, digest: bytes, signature: bytes) -> bool:
    """Return True when ``signature`` (DER) is a valid ECDSA signature of ``digest``."""
    try:
        public_key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        return False
    return True


def signer_for(private_key: ec.EllipticCurvePrivateKey) -> Signer:
    """Return a closure that signs digests with ``private_key``; the key stays inside it.

    Raises LedgerError when the key is not a P-256 key.
    """
    _require_p256(private_key)

    def sign(digest: bytes) -> bytes:
        return sign_digest(private_key, digest)

    return sign


def load_private_key(pem: bytes, *, source: str = "private key") -> ec.EllipticCurvePrivateKey:
    """Parse an unencrypted PEM private key (PKCS#8 or SEC1) and return it as a P-256 key.

    ``source`` names the file in error messages. Raises LedgerError when the PEM cannot be parsed,
    is encrypted, or is not a P-256 EC key.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise LedgerError(f"cannot read {source}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise LedgerError(f"{source} is not an EC private key ({type(key).__name__})")
    _require_p256(key)
    return key
