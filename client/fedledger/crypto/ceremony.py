"""The one-time key ceremony of a task: deal threshold shares and seal each to its participant.

Trust assumption (see :mod:`fedledger.crypto.threshold`): the dealer — whoever runs
:func:`run_ceremony` — knows the factorisation of n while it runs and could decrypt every update.
It is trusted to erase it. :func:`run_ceremony` keeps p, q and the dealer's secrets only in local
variables that are dropped before it returns; the :class:`CeremonyResult` holds public data and
sealed envelopes only, so a caller cannot keep the private key by accident. Python cannot wipe
integers from memory, so run the ceremony in a short-lived process that exits afterwards.

Each participant's share is sealed (:mod:`fedledger.crypto.envelope`) to its X25519 key with
associated data binding the caller's prefix (the task id) and the party id, so an envelope made
for one task or party fails to open as another's. Share indices are 1-based in the order of the
task's participant list (:func:`share_indices`), so everyone derives the same mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gmpy2

from fedledger.crypto.envelope import open_envelope, seal
from fedledger.crypto.keys import MIN_MODULUS_BITS, PrivateKey, PublicKey, generate_keypair
from fedledger.crypto.threshold import KeyShare, ThresholdKey, deal
from fedledger.crypto.wire import (
    key_share_from_bytes,
    key_share_to_bytes,
    threshold_key_to_base64,
    threshold_key_to_bytes,
)
from fedledger.errors import CryptoError

__all__ = [
    "CeremonyResult",
    "deal_from_private_key",
    "key_share_associated_data",
    "open_key_share",
    "run_ceremony",
    "share_indices",
]

_AAD_DOMAIN = b"fedledger/key-share/v1\x00"
_X25519_KEY_BYTES = 32


@dataclass(frozen=True)
class CeremonyResult:
    """What a ceremony publishes: public data and one sealed key share per party.

    ``envelopes`` and ``indices`` are keyed by party id, in the order of the participant list.
    """

    public_key: PublicKey
    threshold_key: ThresholdKey
    threshold_public: bytes
    envelopes: Mapping[str, bytes]
    indices: Mapping[str, int]

    @property
    def threshold_public_base64(self) -> str:
        """The base64 ``threshold_public`` the task stores on the ledger."""
        return threshold_key_to_base64(self.threshold_key)


def share_indices(party_ids: Sequence[str]) -> dict[str, int]:
    """Return {party id: 1-based share index} in the order of ``party_ids``.

    Raises CryptoError for an empty list, a party id that is not a non-empty string, or a
    duplicate (two parties cannot share an index).
    """
    if not party_ids:
        raise CryptoError("a key ceremony needs at least one party")
    indices: dict[str, int] = {}
    for position, party_id in enumerate(party_ids, start=1):
        if not isinstance(party_id, str) or not party_id:
            raise CryptoError(f"party {position} has no id: party ids are non-empty strings")
        if party_id in indices:
            raise CryptoError(f"party {party_id!r} is listed twice")
        indices[party_id] = position
    return indices


def key_share_associated_data(associated_data: bytes, party_id: str) -> bytes:
    """Return the envelope associated data binding ``associated_data`` (the task) and party id.

    Both parts are length-prefixed so no two (prefix, party) pairs give the same bytes.
    Raises CryptoError if ``associated_data`` is not bytes or ``party_id`` not a string.
    """
    if not isinstance(associated_data, bytes) or not isinstance(party_id, str):
        raise CryptoError("associated data must be bytes and the party id a string")
    party = party_id.encode("utf-8")
    return b"".join(
        [_AAD_DOMAIN, len(associated_data).to_bytes(4, "big"), associated_data,
         len(party).to_bytes(4, "big"), party]
    )  # fmt: skip


def run_ceremony(
    parties: Sequence[tuple[str, bytes]],
    threshold: int,
    *,
    associated_data: bytes = b"",
    key_bits: int = MIN_MODULUS_BITS,
    processes: int = 1,
) -> CeremonyResult:
    """Generate a fresh safe-prime key, deal t-of-n shares and seal each to its party.

    ``parties`` is the task's participant list of (party id, X25519 public key bytes);
    ``associated_data`` (the task id) is bound into every envelope. ``processes`` > 1 searches
    for the two safe primes in parallel. Returns the :class:`CeremonyResult`; the private key is
    dropped (module docstring). Raises CryptoError for bad parties, threshold or key size,
    EnvelopeError for an unusable X25519 key.
    """
    _check_parties(parties, threshold)
    _, private_key = generate_keypair(key_bits, processes=processes)
    return deal_from_private_key(private_key, parties, threshold, associated_data=associated_data)


def deal_from_private_key(
    private_key: PrivateKey,
    parties: Sequence[tuple[str, bytes]],
    threshold: int,
    *,
    associated_data: bytes = b"",
) -> CeremonyResult:
    """Deal and seal shares of an existing safe-prime key (as :func:`run_ceremony`).

    For tests (fixed keys, no safe-prime search) and for a key generated elsewhere; the caller
    must erase ``private_key`` afterwards. Raises CryptoError for bad parties or threshold or
    primes that are not safe, EnvelopeError for an unusable X25519 key.
    """
    indices = _check_parties(parties, threshold)
    tkey, shares = deal(private_key, threshold=threshold, parties=len(parties))
    envelopes = {
        party_id: seal(
            recipient,
            key_share_to_bytes(tkey, share),
            associated_data=key_share_associated_data(associated_data, party_id),
        )
        for (party_id, recipient), share in zip(parties, shares, strict=True)
    }
    del shares  # the plaintext shares never leave this function
    return CeremonyResult(tkey.public_key, tkey, threshold_key_to_bytes(tkey), envelopes, indices)


def _check_parties(parties: Sequence[tuple[str, bytes]], threshold: int) -> dict[str, int]:
    """Validate everything before any expensive or sealing step, so bad input changes nothing."""
    if not all(isinstance(entry, tuple) and len(entry) == 2 for entry in parties):
        raise CryptoError("parties must be (party id, X25519 public key bytes) pairs")
    indices = share_indices([party_id for party_id, _ in parties])
    for party_id, recipient in parties:
        if not isinstance(recipient, bytes) or len(recipient) != _X25519_KEY_BYTES:
            raise CryptoError(f"party {party_id!r}: an X25519 public key is 32 raw bytes")
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise CryptoError(f"the threshold must be an integer, got {threshold!r}")
    if not 1 <= threshold <= len(parties):
        raise CryptoError(f"need 1 ≤ threshold ≤ parties, got {threshold} of {len(parties)}")
    return indices


def open_key_share(
    envelope: bytes,
    private_key: bytes,
    *,
    associated_data: bytes,
    party_id: str,
    threshold_key: ThresholdKey,
) -> KeyShare:
    """Open this party's sealed key share and check it against the task's threshold key.

    ``private_key`` is the party's raw X25519 private key; ``associated_data`` and ``party_id``
    must be those the ceremony used. Returns the KeyShare. Raises EnvelopeError if the envelope
    was sealed to someone else, for another task or party, or tampered with; CryptoError if the
    share is malformed, for another key, or does not match its verification key.
    """
    aad = key_share_associated_data(associated_data, party_id)
    share = key_share_from_bytes(open_envelope(private_key, envelope, associated_data=aad),
                                 threshold_key)  # fmt: skip
    public = threshold_key.public_key
    expected = threshold_key.verification_key(share.index)
    if (
        gmpy2.powmod(threshold_key.v, threshold_key.delta * share.secret, public.nsquare)
        != expected
    ):
        raise CryptoError(f"key share {share.index} does not match its verification key")
    return share
