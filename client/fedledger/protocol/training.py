"""Schema of a TrainingTask, shared by client and chaincode: the request, its checks, the record.

A task fixes everything a round needs before the first round opens: the model (name and hashes of
architecture and initial weights), the packed encoding, the Paillier modulus (by value and by
fingerprint), the threshold verification data (parsed and checked against the modulus, the
threshold and the participant count), the participants with their sample counts, threshold t,
quorum and the round schedule. The proposer is its coordinator and key dealer.

Bounds that protect the participants (a task that breaks one is refused at ProposeTask):
- t ≥ 2 and quorum ≥ t: with t = 1 one key holder decrypts every update, and a "sum" of one
  update is that update;
- round_seconds ≥ :func:`min_round_seconds` of the peers' time window, so a client that forges its
  timestamp within the window moves a deadline by at most a fifth of the round;
- participants x max_update_bytes ≤ :data:`MAX_ROUND_BYTES`: CloseRound holds a round's updates at
  once, within one chaincode message's limit.

Stored TrainingTask::

    {"id", "proposer", "model", "model_hash", "initial_weights_hash", "value_count",
     "ciphertext_count", "encoding": {EncodingSpec fields}, "public_key": {"n": decimal string,
     "bits", "fingerprint"}, "threshold_public": base64, "threshold",
     "participants": [{"party", "samples"}] (as proposed: the order gives threshold indices 1..n),
     "quorum", "rounds", "round_seconds", "tolerance_bp", "max_update_bytes",
     "approvals": [party ids, sorted], "status": "proposed" | "active" | "finished",
     "proposed_at", "proposed_tx", "activated_at", "finished_at"}

Every size limit on base64 data counts base64 characters, which is what crosses the wire.

Listings read small summaries (TaskSummary, :func:`task_summary`), one page at a time, never the
task records with their threshold data; TaskIndex keys (participant, task) let a participant list
only the tasks that name it, so nobody can bury a participant's tasks under spam proposals.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from fedledger.protocol.canonical import show
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError

__all__ = [
    "DEFAULT_MAX_UPDATE_BYTES",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIME_WINDOW_SECONDS",
    "MAX_MAX_UPDATE_BYTES",
    "MAX_MODEL_CHARS",
    "MAX_MODULUS_BITS",
    "MAX_PAGE_SIZE",
    "MAX_PARTICIPANTS",
    "MAX_ROUND_BYTES",
    "MAX_ROUND_SECONDS",
    "MAX_THRESHOLD_PUBLIC_CHARS",
    "MAX_VALUE_COUNT",
    "MIN_MODULUS_BITS",
    "MIN_THRESHOLD",
    "STRATEGIES",
    "TASK_ACTIVE",
    "TASK_FINISHED",
    "TASK_INDEX_TYPE",
    "TASK_PROPOSED",
    "TASK_SUMMARY_TYPE",
    "TASK_TYPE",
    "StrategySpec",
    "min_round_seconds",
    "parse_task_id",
    "task_id",
    "update_base64_chars",
]

TASK_TYPE = "TrainingTask"
TASK_SUMMARY_TYPE = "TaskSummary"
TASK_INDEX_TYPE = "TaskIndex"
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
TASK_PROPOSED = "proposed"
TASK_ACTIVE = "active"
TASK_FINISHED = "finished"

MIN_MODULUS_BITS = 2048
MAX_MODULUS_BITS = 8192
MAX_MODEL_CHARS = 128
MAX_PARTICIPANTS = 256
MAX_VALUE_COUNT = 4 * 1024 * 1024  # 16 MiB of float32 weights
MAX_ROUND_SECONDS = 366 * 24 * 3600
MAX_THRESHOLD_PUBLIC_CHARS = 256 * 1024
DEFAULT_MAX_UPDATE_BYTES = 4 * 1024 * 1024
MAX_MAX_UPDATE_BYTES = 16 * 1024 * 1024
# The chaincode server's gRPC message limit (fedledger_chaincode.fabric.server.MAX_MESSAGE_BYTES).
MAX_ROUND_BYTES = 64 * 1024 * 1024
MIN_THRESHOLD = 2

# Peers accept a client's proposal timestamp within this many seconds of their own clock
# (peer.authentication.timewindow; Fabric's sample default is 15 minutes, ours is set small).
DEFAULT_TIME_WINDOW_SECONDS = 60
# A forged timestamp moves a deadline by at most one window either way; a round of at least this
# many windows leaves an honest participant at least 80% of its time whatever others claim.
ROUND_WINDOWS = 5

_TASK_ID = re.compile(r"task-[0-9a-f]{32}")
# Size of the cipher vector header, measured with the public API so it follows the format.
_HEADER_BYTES = len(CipherVector("0" * 64, EncodingSpec(0, 1, 1, 2, 1), 1, 1, (0,)).to_bytes()) - 1

STRATEGIES = ("fedavg", "fedavgm")
MAX_MOMENTUM_BP = 9900
MAX_SERVER_LR_BP = 50_000


@dataclass(frozen=True)
class StrategySpec(Record):
    """How every participant turns the decrypted average update into the next global model.

    ``fedavg``: w ← w_base + Δ. ``fedavgm`` (FedAvg with server momentum, Hsu et al. 2019):
    m ← β·m + Δ, w ← w_base + η·m, with β = momentum_bp / 10000 and η = server_lr_bp / 10000,
    the buffer m carried over accepted rounds only. Integers on the ledger, so the task names
    the strategy exactly; see :mod:`fedledger.learning.strategy`.
    """

    NAME = "strategy"

    name: str = "fedavg"
    momentum_bp: int = 0
    server_lr_bp: int = 10_000


def min_round_seconds(time_window_seconds: int) -> int:
    """Return the shortest round duration allowed under a peer time window (ROUND_WINDOWS of it)."""
    return ROUND_WINDOWS * time_window_seconds


def task_id(tx_id: str) -> str:
    """Return the id of the task proposed by transaction ``tx_id``: ``task-`` + 32 hex."""
    return "task-" + hashlib.sha256(b"TrainingTask\x00" + tx_id.encode("utf-8")).hexdigest()[:32]


def parse_task_id(text: str) -> str:
    """Return ``text`` if it is a task id; raise ``ProtocolError`` otherwise."""
    if not _TASK_ID.fullmatch(text):
        raise ProtocolError(f"task id must look like task-<32 hex digits>, got {show(text)}")
    return text


def update_base64_chars(ciphertext_count: int, n: int) -> int:
    """Return the base64 length of a cipher vector of ``ciphertext_count`` ciphertexts mod n²."""
    width = ((n * n).bit_length() + 7) // 8
    raw = _HEADER_BYTES + ciphertext_count * width
    return 4 * (-(-raw // 3))
