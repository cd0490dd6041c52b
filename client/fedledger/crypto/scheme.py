"""The task's encryption scheme as the clients see it: the interface every scheme provides.

The round flow (``roles/training``: coordinator, participant, task policy) never names a scheme:
it resolves the task's scheme (:mod:`fedledger.crypto.schemes`) and uses only what this module
declares. The chaincode's half of the same scheme is :mod:`fedledger.protocol.scheme`.

What a scheme must provide:

- key set-up, for the coordinator (:class:`TaskScheme`): :meth:`~TaskScheme.make_keys` (key
  material made ahead, possibly slow) and :meth:`~TaskScheme.deal`, which returns the scheme's
  fields of the ProposeTask request and one envelope per participant sealed to the X25519 key
  it registered. A scheme with a dealer (Paillier) deals key shares there and must drop the
  secret key; a dealer-free scheme returns what its participants need to make their own;
- joining, for a participant: :meth:`~TaskScheme.check_parameters` and
  :meth:`~TaskScheme.check_key` refuse (:class:`SchemeRefusal`, a message for people) a task
  whose parameters or key this party must not accept; :meth:`TaskPublic.open_keys` opens this
  party's envelope into its :class:`TaskKeys`;
- one round, for a participant (:class:`TaskKeys`): :meth:`~TaskKeys.prepare` work that does
  not depend on the update (ahead of time), :meth:`~TaskKeys.encrypt_update` (the update and
  the proof that binds it to its round and submitter, as the ledger stores them),
  :meth:`~TaskKeys.decryption_share` of a round's aggregate and :meth:`~TaskKeys.combine`, which
  verifies t shares and returns the plaintext sum.

An aggregate is opaque to the round: what :func:`fedledger.roles.ledger_io.get_aggregate`
returns is handed back to the scheme as it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fedledger.errors import FedLedgerError
from fedledger.protocol.task_records import TaskRecord

__all__ = [
    "DealtKeys",
    "EncryptedUpdate",
    "SchemePlan",
    "SchemeRefusal",
    "TaskKeys",
    "TaskPublic",
    "TaskScheme",
]

Progress = Callable[[str], None]


class SchemeRefusal(FedLedgerError):
    """A task's scheme parameters or key are not acceptable to a participant; says why."""


class SchemePlan(Protocol):
    """What the key set-up reads of a task plan (``roles.training.coordinator.TaskPlan``)."""

    @property
    def threshold(self) -> int:
        """Shares needed to decrypt."""
        ...

    @property
    def key_bits(self) -> int:
        """The key size."""
        ...

    @property
    def frac_bits(self) -> int:
        """Fractional bits of the fixed-point encoding."""
        ...

    @property
    def clip(self) -> float:
        """Bound on each (sample-weighted) update value."""
        ...


@dataclass(frozen=True)
class DealtKeys:
    """What the key set-up publishes: the scheme's fields of the ProposeTask request (in the
    order they appear there) and one sealed envelope per participant id."""

    task_fields: Mapping[str, Any]
    envelopes: Mapping[str, bytes]


@dataclass(frozen=True)
class EncryptedUpdate:
    """An encrypted update as the ledger stores it (base64 ``vector`` and ``proof``) and how
    many of its values the encoding clipped."""

    vector: str
    proof: str
    clipped: int


class TaskKeys(ABC):
    """What one participant holds of one task's keys, and the round's crypto steps."""

    @abstractmethod
    def prepare(self) -> None:
        """Do ahead of time what one update needs and does not depend on its values."""

    @abstractmethod
    def encrypt_update(self, values: Sequence[float], number: int, party: str) -> EncryptedUpdate:
        """Return ``values`` encrypted for round ``number`` with the proof binding them to
        ``party``. Raises EncodingError or CryptoError."""

    @abstractmethod
    def decryption_share(self, aggregate: object) -> str:
        """Return this party's decryption share of a round's aggregate, as the ledger stores
        it. Raises CryptoError."""

    @abstractmethod
    def combine(
        self, aggregate: object, shares: Sequence[tuple[str, str]], summands: int
    ) -> list[float]:
        """Return the plaintext sum of ``summands`` updates from (party id, share) pairs.

        Raises InvalidShareError or CryptoError when fewer than t valid shares are given,
        EncodingError when the result is not a sum of ``summands`` updates.
        """


class TaskPublic(ABC):
    """A task's checked public key material, from which a participant opens its keys."""

    @abstractmethod
    def open_keys(self, envelope: bytes, kx_private_key: bytes, party_id: str) -> TaskKeys:
        """Open this party's sealed envelope; return its keys for the task.

        Raises EnvelopeError or CryptoError when it cannot be opened or does not match.
        """


class TaskScheme(ABC):
    """An encryption scheme for a task's updates (module docstring)."""

    name: str

    @abstractmethod
    def make_keys(self, plan: SchemePlan, progress: Progress) -> object:
        """Return fresh key material for :meth:`deal` (may take minutes)."""

    @abstractmethod
    def deal(
        self, plan: SchemePlan, keys: object, recipients: Sequence[tuple[str, bytes]]
    ) -> DealtKeys:
        """Deal ``keys`` to (party id, X25519 public key) recipients; return what to publish.

        Raises CryptoError or EncodingError for unusable keys, recipients or parameters.
        """

    @abstractmethod
    def check_parameters(self, task: TaskRecord) -> None:
        """Raise SchemeRefusal unless the task's encoding and sizes suit its updates."""

    @abstractmethod
    def check_key(self, task: TaskRecord) -> TaskPublic:
        """Return the task's checked public key material; raise SchemeRefusal when it is
        unusable or not what the task says."""
