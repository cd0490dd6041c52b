"""Packed threshold Paillier as the chaincode sees it: the :class:`LedgerScheme` of the scheme.

An update is a :class:`~fedledger.protocol.ciphervec.CipherVector` under the task's key, with
every ciphertext in Z*(n²) (a bad one would poison the aggregate), and a proof of plaintext
knowledge bound to the task, round, submitter and key (:mod:`fedledger.protocol.popk`), which
makes copying, cancelling or re-randomising another party's update impossible. The aggregate is
the homomorphic product of the updates. A decryption share carries the index its party was dealt
(its place in the task's participant list) and Shoup's batched proof of correct decryption
against the task's threshold verification keys (:mod:`fedledger.protocol.threshold`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from fedledger.protocol.ciphervec import CipherVector, homomorphic_sum, validate_cipher_vector
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.popk import (
    PlaintextProof,
    ProofContext,
    proof_base64_chars,
    verify_plaintext_proof,
)
from fedledger.protocol.rounds import read_blob
from fedledger.protocol.task_records import TaskRecord
from fedledger.protocol.threshold import (
    ShareProofError,
    decryption_share_from_bytes,
    threshold_public_from_bytes,
    verify_share,
)

__all__ = ["PaillierLedgerScheme", "check_vector"]


def check_vector(task: TaskRecord, raw: bytes) -> CipherVector:
    """Check decoded cipher-vector bytes against the task; return the parsed vector.

    Raises ``ProtocolError`` "vector is invalid: <reason>" naming the first problem: format, key
    fingerprint, width, ciphertext count, value count, encoding, or "ciphertext i is not in
    Z*(n^2)".
    """
    try:
        vector = CipherVector.from_bytes(raw)
        validate_cipher_vector(
            vector,
            n=task.n,
            expected_length=task.ciphertext_count,
            expected_fingerprint=task.public_key.fingerprint,
            expected_spec=task.spec,
        )
        if vector.value_count != task.value_count:
            raise ProtocolError(
                f"it packs {vector.value_count} values, the task's model has {task.value_count}"
            )
    except ProtocolError as exc:
        raise ProtocolError(f"vector is invalid: {exc}") from None
    return vector


def _check_proof(
    task: TaskRecord, number: int, party: str, vector: CipherVector, raw: bytes, proof: str
) -> None:
    n = task.n
    read_blob(proof, "proof", max_chars=proof_base64_chars(n))
    try:
        parsed = PlaintextProof.from_base64(proof, n)
    except ProtocolError as exc:
        raise ProtocolError(f"proof is invalid: {exc}") from None
    context = ProofContext(task.id, number, party, task.public_key.fingerprint)
    digest = hashlib.sha256(raw).digest()
    verify_plaintext_proof(n, vector.ciphertexts, digest, parsed, context)


class PaillierLedgerScheme:
    """Packed threshold Paillier: validation, aggregation and share checks (module docstring)."""

    name = "paillier"

    def check_update(
        self, task: TaskRecord, number: int, party: str, update: bytes, proof: str
    ) -> None:
        """Check the vector (cheap, structural) and then its proof of plaintext knowledge.

        Raises ``ProtocolError`` "vector is invalid: …", a proof size or base64 problem,
        "proof is invalid: …" or the proof's failed verification.
        """
        vector = check_vector(task, update)
        _check_proof(task, number, party, vector, update, proof)

    def aggregate(self, task: TaskRecord, updates: Sequence[str]) -> bytes:
        """Return the bytes of the homomorphic product of the stored vectors, in the given
        order (multiplication mod n² is commutative, the order only fixes the work)."""
        vectors = [CipherVector.from_base64(update) for update in updates]
        return homomorphic_sum(vectors, task.n).to_bytes()

    def check_share(self, task: TaskRecord, party: str, share: bytes, aggregate: str) -> None:
        """Raise "share is invalid: …" unless ``share`` is ``party``'s valid share of the
        aggregate: its structure, the index it was dealt and its batched proof."""
        public = threshold_public_from_bytes(base64.b64decode(task.threshold_public))
        dealt = task.share_index(party)
        try:
            parsed = decryption_share_from_bytes(share, public)
            if parsed.index != dealt:
                raise ProtocolError(
                    f"it claims share index {parsed.index}, party {party} was dealt index {dealt}"
                )
            verify_share(public, CipherVector.from_base64(aggregate).ciphertexts, parsed)
        except ShareProofError as exc:
            raise ProtocolError(f"share is invalid: {exc.reason}") from None
        except ProtocolError as exc:
            raise ProtocolError(f"share is invalid: {exc}") from None
