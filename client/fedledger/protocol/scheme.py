"""The task's encryption scheme as the chaincode sees it: the interface every scheme provides.

The training contract (SubmitUpdate, CloseRound, SubmitDecryptionShare) never names a scheme: it
resolves the task's scheme (:func:`fedledger.protocol.schemes.ledger_scheme`) and asks it three
questions, each deterministic and standard-library only, so that every endorsing peer computes
the same answer and the same bytes:

- :meth:`LedgerScheme.check_update`: is this the decoded update a participant may submit for
  this task and round (format, parameters, key id, size, and the proof that binds it to its
  submitter)? An update that would poison the aggregate must be refused here;
- :meth:`LedgerScheme.aggregate`: the bytes of the round's aggregate, from the stored updates in
  the order given (party-id order);
- :meth:`LedgerScheme.check_share`: is this a valid decryption share of the stored aggregate by
  this party (format, the index the party was dealt, its proof of correct decryption)?

Each raises ``ProtocolError`` with a message that is part of the contract's interface; the
messages start with what was wrong ("vector is invalid: …", "proof is invalid: …", "share is
invalid: …"). A scheme must be safe against a deviating submitter on its own: the chaincode adds
no check of its own to what a scheme accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fedledger.protocol.task_records import TaskRecord

__all__ = ["LedgerScheme"]


class LedgerScheme(Protocol):
    """What the chaincode needs of an encryption scheme (module docstring)."""

    @property
    def name(self) -> str:
        """The scheme's registered name."""
        ...

    def check_update(
        self, task: TaskRecord, number: int, party: str, update: bytes, proof: str
    ) -> None:
        """Check ``party``'s decoded update for round ``number`` and its base64 ``proof``.

        Raises ``ProtocolError`` naming the first problem.
        """
        ...

    def aggregate(self, task: TaskRecord, updates: Sequence[str]) -> bytes:
        """Return the bytes of the aggregate of stored (checked, base64) updates."""
        ...

    def check_share(self, task: TaskRecord, party: str, share: bytes, aggregate: str) -> None:
        """Check ``party``'s decoded decryption share of the stored base64 ``aggregate``.

        Raises ``ProtocolError`` naming the first problem.
        """
        ...
