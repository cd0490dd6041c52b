"""Schemas of a training round's assets and the round's acceptance rule, shared with the chaincode.

Object types (composite keys; ``<round>`` is six zero-padded digits, see :func:`round_key`)::

    Round                (task, round)          the round: open → closed → accepted | rejected,
                                                or open | closed → failed (FailRound, or a
                                                majority reporting an undecodable aggregate)
    Update               (task, round, party)   summary of one encrypted update (no vector)
    UpdateVector         (task, round, party)   GradientPerIterationValue: the vector and proof
    Aggregate            (task, round)          AggregateGradientsOutput: the homomorphic product
    DecryptionShare      (task, round, party)   summary of one verified decryption share
    DecryptionShareData  (task, round, party)   the share itself (values and proof)
    AccuracyReport       (task, round, party)   one contributor's outcome: weights hash and
                                                accuracy, or why the aggregate did not decode
    ModelWeights         (task,)                the initial global weights (float32 little-endian)
    KeyEnvelope          (task, recipient)      key material sealed to the recipient

Summaries and vectors live under separate keys so that a range read (CloseRound's check that
everyone submitted, GetRound) never carries vectors: Fabric batches range results 100 at a time
with no byte limit, and a batch of vectors could exceed the chaincode stream's message limit.

Results by majority (:func:`majority_outcome`): every contributor reports an outcome, the digest
of the global weights it derived (with its validation accuracy) or "undecodable" (with the
reason). As soon as one outcome is reported by a strict majority of the round's contributors the
round is decided by it and nothing can overturn it: for a weights digest, the acceptance rule
(:func:`decide`, integer-only: the lower median of the majority's accuracies, in basis points,
must not fall below the base round's median minus the tolerance); for "undecodable", the round
fails with the reason. Contributors that reported something else are named as dissenters. Without
a majority by the decision deadline (a tie, a split, or reports withheld) the round can only
fail. So a single contributor can neither veto a round nor decide one unless it is the majority.

A round that can no longer succeed by these rules may be failed by anyone (FailRound), so no round
stalls for ever: an open round once its deadline has passed with fewer than the quorum of updates
(it can never close), and a closed round still undecided after its *decision deadline*. The
decision deadline (:func:`decision_deadline`) is the round's deadline plus the task's
``round_seconds``: the decryption shares and accuracy reports get as long as the updates did. A
failed round is final like a rejected one: the next round starts from the last accepted round, and
failing the task's last round finishes the task. A failed round record adds ``"failed_at"``,
``"failed_tx"`` and ``"reason"`` (a sentence saying what was missing).
"""

from __future__ import annotations

import re
from typing import Any

from fedledger.protocol.canonical import show
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import decode_base64

__all__ = [
    "ACCURACY_REPORT_TYPE",
    "AGGREGATE_TYPE",
    "DECRYPTION_SHARE_TYPE",
    "FINAL_STATUSES",
    "KEY_ENVELOPE_TYPE",
    "MAX_DECODE_ERROR_CHARS",
    "MAX_ENVELOPE_CHARS",
    "MAX_ROUNDS",
    "MODEL_WEIGHTS_TYPE",
    "OUTCOME_UNDECODABLE",
    "ROUND_ACCEPTED",
    "ROUND_CLOSED",
    "ROUND_FAILED",
    "ROUND_OPEN",
    "ROUND_REJECTED",
    "ROUND_TYPE",
    "SHARE_DATA_TYPE",
    "UPDATE_TYPE",
    "UPDATE_VECTOR_TYPE",
    "decide",
    "decision_deadline",
    "lower_median",
    "majority_outcome",
    "parse_round",
    "read_blob",
    "read_hex64",
    "round_key",
]

ROUND_TYPE = "Round"
UPDATE_TYPE = "Update"
UPDATE_VECTOR_TYPE = "UpdateVector"
AGGREGATE_TYPE = "Aggregate"
DECRYPTION_SHARE_TYPE = "DecryptionShare"
SHARE_DATA_TYPE = "DecryptionShareData"
ACCURACY_REPORT_TYPE = "AccuracyReport"
MODEL_WEIGHTS_TYPE = "ModelWeights"
KEY_ENVELOPE_TYPE = "KeyEnvelope"

ROUND_OPEN = "open"
ROUND_CLOSED = "closed"
ROUND_ACCEPTED = "accepted"
ROUND_REJECTED = "rejected"
ROUND_FAILED = "failed"
# A round in one of these states is over: the next round may open.
FINAL_STATUSES = (ROUND_ACCEPTED, ROUND_REJECTED, ROUND_FAILED)

MAX_ROUNDS = 999_999
MAX_ENVELOPE_CHARS = 64 * 1024
MAX_DECODE_ERROR_CHARS = 512
OUTCOME_UNDECODABLE = "undecodable"
_ROUND = re.compile(r"[1-9][0-9]{0,5}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def read_hex64(value: Any, name: str) -> str:
    """Read a SHA-256 digest: 64 lowercase hex digits; raises ``ProtocolError`` naming ``name``."""
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ProtocolError(f"{name} must be 64 lowercase hex digits (SHA-256), got {show(value)}")
    return value


def read_blob(value: Any, name: str, *, max_chars: int) -> bytes:
    """Read non-empty, canonical, padded base64 text of at most ``max_chars`` characters.

    The length is checked before decoding so that an oversized payload costs nothing. Returns the
    decoded bytes. Raises ``ProtocolError``: "<name> must be base64 text, got 12", "<name> must not
    be empty", "<name> is 5000 base64 characters, more than the limit of 4096", "<name> is not
    valid base64", "<name> is not canonical base64".
    """
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be base64 text, got {show(value)}")
    if not value:
        raise ProtocolError(f"{name} must not be empty")
    if len(value) > max_chars:
        raise ProtocolError(
            f"{name} is {len(value)} base64 characters, more than the limit of {max_chars}"
        )
    return decode_base64(value, name)


def parse_round(text: str) -> int:
    """Read a round-number argument: decimal, 1..999999, no sign or leading zeros.

    Returns the number. Raises ``ProtocolError`` 'round must be a positive integer of at most
    999999, got "0"'.
    """
    if not _ROUND.fullmatch(text):
        raise ProtocolError(
            f"round must be a positive integer of at most {MAX_ROUNDS}, got {show(text)}"
        )
    return int(text)


def round_key(number: int) -> str:
    """Return the composite-key attribute of round ``number``: six digits, so keys sort by round."""
    return f"{number:06d}"


def majority_outcome(outcomes: dict[str, str], contributors: int) -> str | None:
    """Return the outcome that a strict majority of ``contributors`` reported, else None.

    ``outcomes`` maps each reporting party to its outcome (a weights digest or "undecodable").
    """
    tally: dict[str, int] = {}
    for outcome in outcomes.values():
        tally[outcome] = tally.get(outcome, 0) + 1
    for outcome, votes in sorted(tally.items()):
        if 2 * votes > contributors:
            return outcome
    return None


def lower_median(values: list[int]) -> int:
    """Return the lower median of a non-empty list of integers; ``ValueError`` if it is empty."""
    if not values:
        raise ValueError("the median of no values is undefined")
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def decide(gains: list[int], tolerance_bp: int) -> tuple[str, int]:
    """Apply the acceptance rule to the majority's paired gains (each reporter's accuracy of the
    new model minus its accuracy of the base model, on the same validation data); return
    (``"accepted"`` or ``"rejected"``, the lower median gain in bp).

    A round is rejected when the median reporter saw the model get worse by more than the
    tolerance. Comparing each reporter with itself cancels most of the sampling noise of small
    validation sets, which comparing medians of different reporters across rounds does not.
    """
    gain = lower_median(gains)
    return (ROUND_ACCEPTED if gain >= -tolerance_bp else ROUND_REJECTED), gain


def decision_deadline(deadline: int, round_seconds: int) -> int:
    """Return the second after which a closed, undecided round may be failed.

    It is the round's ``deadline`` plus the task's ``round_seconds``: the shares and reports that
    decide a round get as long as its updates had.
    """
    return deadline + round_seconds
