"""Decrypt a round's aggregate from the decryption shares published by the participants.

The shares come from the ledger as (party id, serialised share) pairs. Each is parsed and
verified against the task's threshold key; a share whose index is not the one its party was
dealt (:func:`fedledger.crypto.ceremony.share_indices`) is refused, since the index inside the
bytes is chosen by the sender. Invalid shares are never combined: when at least t shares are
valid the first t valid ones (in the given order) are combined and the invalid ones are
reported in the result; otherwise the first invalid share is raised, naming its party id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fedledger.crypto.threshold import DecryptionShare, ThresholdKey, verify_share
from fedledger.crypto.vectors import decrypt_vector_with_shares
from fedledger.crypto.wire import decryption_share_from_base64, decryption_share_from_bytes
from fedledger.errors import CryptoError, InvalidShareError
from fedledger.protocol.ciphervec import CipherVector

__all__ = ["QuorumDecryption", "decrypt_aggregate"]


@dataclass(frozen=True)
class QuorumDecryption:
    """The decrypted sum, the party ids whose shares were combined, and the rejected ones."""

    values: list[float]
    combined: tuple[str, ...]
    rejected: Mapping[str, str]


def decrypt_aggregate(
    tkey: ThresholdKey,
    aggregate: CipherVector,
    shares: Sequence[tuple[str, bytes | str]],
    *,
    indices: Mapping[str, int],
    summands: int,
) -> QuorumDecryption:
    """Return the float sum of ``summands`` updates in ``aggregate`` from ≥ t valid shares.

    ``shares`` holds (party id, share bytes or their base64); ``indices`` maps each participant
    to its share index. Every share is verified; invalid ones are listed in ``rejected`` (party
    id → reason) and skipped. Raises InvalidShareError naming the first invalid party id when
    fewer than t shares are valid, CryptoError when fewer than t were given at all, when a party
    id appears twice or the aggregate is under another key, EncodingError if the result is not
    a packing of ``summands`` updates.
    """
    if aggregate.key_fingerprint != tkey.public_key.fingerprint:
        raise CryptoError("the aggregate was encrypted under a different key")
    _check_distinct([party_id for party_id, _ in shares])
    valid: list[tuple[str, DecryptionShare]] = []
    rejected: dict[str, str] = {}
    for party_id, raw in shares:
        try:
            valid.append((party_id, _accept(tkey, aggregate, party_id, raw, indices)))
        except CryptoError as exc:
            rejected[party_id] = exc.reason if isinstance(exc, InvalidShareError) else str(exc)
    if len(valid) < tkey.threshold:
        if rejected:
            party_id, reason = next(iter(rejected.items()))
            raise InvalidShareError(
                party_id, f"{reason} (only {len(valid)} valid shares, {tkey.threshold} needed)"
            )
        raise CryptoError(
            f"need decryption shares from {tkey.threshold} parties, got {len(valid)}: "
            "fewer than the threshold decrypt nothing"
        )
    chosen = valid[: tkey.threshold]
    values = decrypt_vector_with_shares(
        tkey, aggregate, [share for _, share in chosen], summands=summands, verify=False
    )
    return QuorumDecryption(values, tuple(party_id for party_id, _ in chosen), rejected)


def _check_distinct(party_ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for party_id in party_ids:
        if party_id in seen:
            raise CryptoError(f"party {party_id!r} submitted two decryption shares")
        seen.add(party_id)


def _accept(
    tkey: ThresholdKey,
    aggregate: CipherVector,
    party_id: str,
    raw: bytes | str,
    indices: Mapping[str, int],
) -> DecryptionShare:
    """Return the parsed share if it is valid for ``party_id``; raise CryptoError otherwise."""
    if party_id not in indices:
        raise CryptoError("not a participant of the task")
    if isinstance(raw, str):
        dshare = decryption_share_from_base64(raw, tkey)
    else:
        dshare = decryption_share_from_bytes(raw, tkey)
    if dshare.index != indices[party_id]:
        raise CryptoError(
            f"the share claims index {dshare.index}, the party was dealt index {indices[party_id]}"
        )
    verify_share(tkey, aggregate.ciphertexts, dshare)
    return dshare
