"""Packed threshold Paillier as a task's encryption scheme: the clients' :class:`TaskScheme`.

Key set-up: the coordinator deals (DESIGN.md, Cryptography): it generates a safe-prime key,
seals each participant's Shoup share to the X25519 key the participant registered (associated
data :func:`key_share_context` binds the envelope to the task's key, and inside to the party),
publishes the envelopes and drops the factorisation at once. Trust assumption: the dealer does not
keep the key. The task stores the encoding (packed slots with headroom for every participant's
summand, :func:`encoding_for`), the modulus and the threshold verification data.

A participant refuses a modulus under 2048 bits, a fingerprint that is not its modulus's, and
threshold data that does not parse or is for another key, threshold or number of participants.
Its round: randomness r^n prepared ahead (:class:`~fedledger.crypto.randomness.RandomnessPool`),
encryption with a proof of plaintext knowledge bound to the round and the submitter
(:func:`~fedledger.crypto.vectors.encrypt_update`), a verifiable decryption share, and the
combination of t shares each verified against the index its party was dealt
(:func:`~fedledger.crypto.quorum.decrypt_aggregate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from fedledger.crypto.ceremony import deal_from_private_key, open_key_share, share_indices
from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.keys import MIN_MODULUS_BITS, PrivateKey, PublicKey, generate_keypair
from fedledger.crypto.quorum import decrypt_aggregate
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.scheme import (
    DealtKeys,
    EncryptedUpdate,
    Progress,
    SchemePlan,
    SchemeRefusal,
    TaskKeys,
    TaskPublic,
    TaskScheme,
)
from fedledger.crypto.threshold import KeyShare, ThresholdKey
from fedledger.crypto.vectors import encrypt_update, partial_decrypt_vector
from fedledger.crypto.wire import decryption_share_to_base64, threshold_key_from_base64
from fedledger.errors import CryptoError, FedLedgerError
from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.keyid import key_fingerprint
from fedledger.protocol.popk import ProofContext
from fedledger.protocol.task_records import TaskRecord
from fedledger.protocol.training import MAX_ROUND_BYTES, update_base64_chars

__all__ = [
    "PaillierScheme",
    "PaillierTaskKeys",
    "PaillierTaskPublic",
    "encoding_for",
    "key_share_context",
]


def key_share_context(fingerprint: str) -> bytes:
    """Associated data binding a sealed key share to the task's key (and, inside, the party)."""
    return f"fedledger key share for key {fingerprint}".encode()


def encoding_for(plan: SchemePlan, participants: int) -> EncodingParams:
    """Encoding with headroom for every participant's update in one encrypted sum."""
    return EncodingParams.create(
        frac_bits=plan.frac_bits,
        clip=plan.clip,
        max_summands=participants,
        modulus_bits=plan.key_bits,
    )


def _aggregate(aggregate: object) -> CipherVector:
    if not isinstance(aggregate, CipherVector):
        raise CryptoError(f"a Paillier aggregate is a CipherVector, got {type(aggregate).__name__}")
    return aggregate


@dataclass
class PaillierTaskKeys(TaskKeys):
    """One participant's threshold key share of a task, its encoding and its randomness pool."""

    task: TaskRecord
    tkey: ThresholdKey
    share: KeyShare
    encoding: EncodingParams
    pool: RandomnessPool = field(init=False)

    def __post_init__(self) -> None:
        self.pool = RandomnessPool(self.tkey.public_key)

    @property
    def public_key(self) -> PublicKey:
        """The task's Paillier key."""
        return self.tkey.public_key

    @cached_property
    def indices(self) -> dict[str, int]:
        """Share index of every participant."""
        return share_indices(list(self.task.participant_ids))

    def prepare(self) -> None:
        """Top the pool up to one update's r^n (the expensive half of every encryption)."""
        self.pool.fill(self.task.ciphertext_count - len(self.pool))

    def encrypt_update(self, values: Sequence[float], number: int, party: str) -> EncryptedUpdate:
        """Encrypt with pooled randomness and prove plaintext knowledge for (task, round, party,
        key); values beyond ±clip are clipped (and counted). Raises EncodingError, CryptoError."""
        values = list(values)
        clip = self.encoding.clip
        clipped = sum(1 for value in values if abs(value) > clip)
        context = ProofContext(self.task.id, number, party, self.task.public_key.fingerprint)
        vector, proof = encrypt_update(values, self.public_key, self.encoding, self.pool, context)
        return EncryptedUpdate(vector.to_base64(), proof.to_base64(), clipped)

    def decryption_share(self, aggregate: object) -> str:
        """This party's verifiable decryption share of the aggregate (base64); raises
        CryptoError."""
        dshare = partial_decrypt_vector(self.tkey, self.share, _aggregate(aggregate))
        return decryption_share_to_base64(self.tkey, dshare)

    def combine(
        self, aggregate: object, shares: Sequence[tuple[str, str]], summands: int
    ) -> list[float]:
        """Verify the shares and decrypt the sum (:func:`decrypt_aggregate` raises)."""
        decrypted = decrypt_aggregate(
            self.tkey, _aggregate(aggregate), shares, indices=self.indices, summands=summands
        )
        return decrypted.values


@dataclass(frozen=True)
class PaillierTaskPublic(TaskPublic):
    """A task's checked threshold key."""

    task: TaskRecord
    tkey: ThresholdKey

    def open_keys(self, envelope: bytes, kx_private_key: bytes, party_id: str) -> TaskKeys:
        """Open and check this party's key share (:func:`open_key_share` raises)."""
        share = open_key_share(
            envelope,
            kx_private_key,
            associated_data=key_share_context(self.task.public_key.fingerprint),
            party_id=party_id,
            threshold_key=self.tkey,
        )
        return PaillierTaskKeys(
            self.task, self.tkey, share, EncodingParams.from_spec(self.task.spec)
        )


class PaillierScheme(TaskScheme):
    """Packed threshold Paillier with a trusted dealer (module docstring)."""

    name = "paillier"

    def make_keys(self, plan: SchemePlan, progress: Progress) -> tuple[PublicKey, PrivateKey]:
        """A fresh safe-prime Paillier key (seconds to minutes: the search is random)."""
        progress(f"generating a {plan.key_bits}-bit threshold Paillier key (safe primes)")
        return generate_keypair(plan.key_bits, processes=2)

    def deal(
        self, plan: SchemePlan, keys: object, recipients: Sequence[tuple[str, bytes]]
    ) -> DealtKeys:
        """Deal ``keys`` (a (PublicKey, PrivateKey) pair) as t-of-n shares sealed to the
        recipients; the private key is not kept. Raises CryptoError, EncodingError."""
        if not (isinstance(keys, tuple) and len(keys) == 2 and isinstance(keys[1], PrivateKey)):
            raise CryptoError("Paillier key material is a (PublicKey, PrivateKey) pair")
        public, private = keys
        ceremony = deal_from_private_key(
            private,
            recipients,
            plan.threshold,
            associated_data=key_share_context(public.fingerprint),
        )
        del private, keys  # the dealer keeps no key: only sealed shares leave the ceremony
        encoding = encoding_for(plan, len(recipients))
        fields = {
            "encoding": encoding.to_spec().to_dict(),
            "public_key": {"n": str(public.n)},
            "threshold_public": ceremony.threshold_public_base64,
        }
        return DealtKeys(fields, dict(ceremony.envelopes))

    def check_parameters(self, task: TaskRecord) -> None:
        """Refuse an invalid encoding, one without headroom for every participant or that does
        not fit the modulus, and size limits that cannot carry an update in one round."""
        try:
            spec = task.spec
        except ProtocolError as exc:
            raise SchemeRefusal(f"the task's encoding is invalid: {exc}") from None
        parties = len(task.participants)
        if spec.max_summands < parties or not spec.fits_modulus(task.n):
            raise SchemeRefusal(
                "the task's encoding lacks headroom for every participant's update or does not "
                "fit its modulus"
            )
        needed = update_base64_chars(spec.ciphertext_count(task.value_count), task.n)
        if needed > task.max_update_bytes or parties * task.max_update_bytes > MAX_ROUND_BYTES:
            raise SchemeRefusal(
                "the task's update size limits cannot carry its updates in one round"
            )

    def check_key(self, task: TaskRecord) -> PaillierTaskPublic:
        """Refuse a short modulus, a wrong fingerprint and threshold data that is unusable or
        deals another key, threshold or number of shares; return the threshold key."""
        n = task.n
        if n.bit_length() < MIN_MODULUS_BITS:
            raise SchemeRefusal(f"the task's modulus has {n.bit_length()} bits, fewer than 2048")
        if task.public_key.fingerprint != key_fingerprint(n):
            raise SchemeRefusal("the task's key fingerprint is not the fingerprint of its modulus")
        try:
            tkey = threshold_key_from_base64(task.threshold_public)
        except FedLedgerError as exc:
            raise SchemeRefusal(f"the task's threshold data is unusable: {exc}") from None
        if tkey.public_key != PublicKey(n):
            raise SchemeRefusal("the task's threshold data is for another key than its own")
        parties = len(task.participants)
        if (tkey.threshold, tkey.parties) != (task.threshold, parties):
            raise SchemeRefusal(
                f"the task's threshold data deals {tkey.threshold} of {tkey.parties} shares, the "
                f"task says {task.threshold} of {parties}"
            )
        return PaillierTaskPublic(task, tkey)
