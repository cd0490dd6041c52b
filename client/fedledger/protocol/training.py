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
from typing import Any

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import parse_object, show
from fedledger.protocol.ciphervec import CipherVector, EncodingSpec
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import check_fields, read_int, read_text
from fedledger.protocol.rounds import MAX_ROUNDS, read_blob, read_hex64
from fedledger.protocol.threshold import threshold_public_from_bytes

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
    "TaskListing",
    "TaskRequest",
    "min_round_seconds",
    "parse_task_id",
    "parse_task_listing",
    "parse_task_request",
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
_DECIMAL = re.compile(r"[1-9][0-9]*")
# A decimal string this long is already far above MAX_MODULUS_BITS; refuse before int() on it.
_MAX_MODULUS_DIGITS = 2500
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


def _read_strategy(value: Any) -> StrategySpec:
    if not isinstance(value, dict):
        raise ProtocolError(f"strategy must be an object, got {show(value)}")
    check_fields(value, "strategy", required=("name",), optional=("momentum_bp", "server_lr_bp"))
    name = value["name"]
    if name not in STRATEGIES:
        raise ProtocolError(
            f"strategy.name must be one of {', '.join(STRATEGIES)}, got {show(name)}"
        )
    momentum = read_int(
        value.get("momentum_bp", 0), "strategy.momentum_bp", maximum=MAX_MOMENTUM_BP
    )
    rate = read_int(
        value.get("server_lr_bp", 10_000),
        "strategy.server_lr_bp",
        minimum=1,
        maximum=MAX_SERVER_LR_BP,
    )
    if name == "fedavg" and (momentum, rate) != (0, 10_000):
        raise ProtocolError("strategy fedavg takes no momentum_bp or server_lr_bp")
    return StrategySpec(name, momentum, rate)


_REQUIRED = (
    "model", "model_hash", "initial_weights_hash", "value_count", "encoding", "public_key",
    "threshold_public", "threshold", "participants", "quorum", "rounds", "round_seconds",
    "tolerance_bp",
)  # fmt: skip


@dataclass(frozen=True)
class TaskRequest:
    """A validated ProposeTask request (registration of the participants is checked on-chain)."""

    model: str
    model_hash: str
    initial_weights_hash: str
    value_count: int
    encoding: EncodingSpec
    n: int
    threshold_public: str
    threshold: int
    participants: tuple[tuple[str, int], ...]
    quorum: int
    rounds: int
    round_seconds: int
    tolerance_bp: int
    max_update_bytes: int
    strategy: StrategySpec

    @property
    def ciphertext_count(self) -> int:
        """Ciphertexts in one update."""
        return self.encoding.ciphertext_count(self.value_count)


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


def _read_modulus(value: Any) -> int:
    if not isinstance(value, dict):
        raise ProtocolError(
            f'public_key must be an object {{"n": decimal string}}, got {show(value)}'
        )
    check_fields(value, "public_key", required=("n",))
    text = value["n"]
    if not isinstance(text, str) or len(text) > _MAX_MODULUS_DIGITS or not _DECIMAL.fullmatch(text):
        raise ProtocolError(f"public_key.n must be a decimal string, got {show(text)}")
    n = int(text)
    bits = n.bit_length()
    if bits < MIN_MODULUS_BITS:
        raise ProtocolError(f"public_key.n must be at least {MIN_MODULUS_BITS} bits, got {bits}")
    if bits > MAX_MODULUS_BITS:
        raise ProtocolError(f"public_key.n must be at most {MAX_MODULUS_BITS} bits, got {bits}")
    if n % 2 == 0:
        raise ProtocolError("public_key.n must be odd (a product of two odd primes)")
    return n


def _read_encoding(value: Any, n: int, participants: int) -> EncodingSpec:
    try:
        spec = EncodingSpec.from_dict(value)
    except ProtocolError as exc:
        raise ProtocolError(f"encoding is invalid: {exc}") from None
    if not spec.fits_modulus(n):
        raise ProtocolError(
            f"encoding packs {spec.slots * spec.slot_bits} bits per plaintext "
            f"({spec.slots} slots of {spec.slot_bits} bits), more than the "
            f"{n.bit_length() - 1} a {n.bit_length()}-bit modulus allows"
        )
    if spec.max_summands < participants:
        raise ProtocolError(
            f"encoding.max_summands is {spec.max_summands} but the task has {participants} "
            f"participants: the encrypted sum could overflow a slot"
        )
    return spec


def _read_participants(value: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, list):
        raise ProtocolError(f"participants must be an array, got {show(value)}")
    if not 2 <= len(value) <= MAX_PARTICIPANTS:
        raise ProtocolError(
            f"participants must list 2 to {MAX_PARTICIPANTS} parties, got {len(value)}"
        )
    seen: set[str] = set()
    result: list[tuple[str, int]] = []
    for index, entry in enumerate(value):
        what = f"participants[{index}]"
        if not isinstance(entry, dict):
            raise ProtocolError(f"{what} must be an object, got {show(entry)}")
        check_fields(entry, what, required=("party", "samples"))
        party = entry["party"]
        if not isinstance(party, str):
            raise ProtocolError(f"{what}.party must be a party id, got {show(party)}")
        parse_party_id(party)
        if party in seen:
            raise ProtocolError(f"participant {party} is listed twice")
        seen.add(party)
        result.append((party, read_int(entry["samples"], f"{what}.samples", minimum=1)))
    return tuple(result)


def _read_counts(obj: dict[str, Any], participants: int) -> tuple[int, int]:
    threshold = read_int(obj["threshold"], "threshold", minimum=1)
    if threshold < MIN_THRESHOLD:
        raise ProtocolError(
            f"threshold must be at least {MIN_THRESHOLD}, got {threshold}: with one share a "
            "single key holder could decrypt every participant's update"
        )
    if threshold > participants:
        raise ProtocolError(
            f"threshold must be at most the {participants} participants, got {threshold}"
        )
    quorum = read_int(obj["quorum"], "quorum", minimum=1)
    if not threshold <= quorum <= participants:
        raise ProtocolError(
            f"quorum must be between the threshold {threshold} and the {participants} "
            f"participants, got {quorum}"
        )
    return threshold, quorum


def _check_threshold_public(raw: bytes, n: int, threshold: int, participants: int) -> None:
    try:
        public = threshold_public_from_bytes(raw)
    except ProtocolError as exc:
        raise ProtocolError(f"threshold_public is invalid: {exc}") from None
    if public.n != n:
        raise ProtocolError("threshold_public is for another modulus than public_key.n")
    if public.threshold != threshold:
        raise ProtocolError(
            f"threshold_public has threshold {public.threshold}, the task says {threshold}"
        )
    if public.parties != participants:
        raise ProtocolError(
            f"threshold_public has shares for {public.parties} parties, the task has "
            f"{participants} participants"
        )


def parse_task_request(
    text: str,
    what: str = "argument 1",
    *,
    min_round_seconds: int = 1,
) -> TaskRequest:
    """Parse a ProposeTask argument (module docstring lists the fields and the bounds).

    ``min_round_seconds`` is the shortest round the network's time window allows. Returns the
    request. Raises ``ProtocolError`` naming the first bad field, e.g. "public_key.n must be at
    least 2048 bits, got 1024", "encoding.max_summands is 2 but the task has 3 participants: the
    encrypted sum could overflow a slot", "threshold must be at least 2, got 1: …".
    """
    obj = parse_object(text, what)
    check_fields(obj, "task", required=_REQUIRED, optional=("max_update_bytes", "strategy"))
    model = read_text(obj["model"], "model", max_chars=MAX_MODEL_CHARS)
    model_hash = read_hex64(obj["model_hash"], "model_hash")
    initial_hash = read_hex64(obj["initial_weights_hash"], "initial_weights_hash")
    value_count = read_int(obj["value_count"], "value_count", minimum=1, maximum=MAX_VALUE_COUNT)
    participants = _read_participants(obj["participants"])
    n = _read_modulus(obj["public_key"])
    encoding = _read_encoding(obj["encoding"], n, len(participants))
    raw_public = read_blob(
        obj["threshold_public"], "threshold_public", max_chars=MAX_THRESHOLD_PUBLIC_CHARS
    )
    threshold, quorum = _read_counts(obj, len(participants))
    _check_threshold_public(raw_public, n, threshold, len(participants))
    rounds = read_int(obj["rounds"], "rounds", minimum=1, maximum=MAX_ROUNDS)
    round_seconds = read_int(
        obj["round_seconds"], "round_seconds", minimum=1, maximum=MAX_ROUND_SECONDS
    )
    if round_seconds < min_round_seconds:
        raise ProtocolError(
            f"round_seconds must be at least {min_round_seconds} (five times the peers' time "
            f"window), got {round_seconds}"
        )
    tolerance_bp = read_int(obj["tolerance_bp"], "tolerance_bp", minimum=0, maximum=10_000)
    max_update_bytes = read_int(
        obj.get("max_update_bytes", DEFAULT_MAX_UPDATE_BYTES),
        "max_update_bytes",
        minimum=1,
        maximum=MAX_MAX_UPDATE_BYTES,
    )
    strategy = _read_strategy(obj.get("strategy", {"name": "fedavg"}))
    request = TaskRequest(
        model, model_hash, initial_hash, value_count, encoding, n, obj["threshold_public"],
        threshold, participants, quorum, rounds, round_seconds, tolerance_bp, max_update_bytes,
        strategy,
    )  # fmt: skip
    needed = update_base64_chars(request.ciphertext_count, n)
    if needed > max_update_bytes:
        raise ProtocolError(
            f"an update of {value_count} values needs {request.ciphertext_count} ciphertexts, "
            f"{needed} base64 characters, more than max_update_bytes {max_update_bytes}"
        )
    round_bytes = len(participants) * max_update_bytes
    if round_bytes > MAX_ROUND_BYTES:
        raise ProtocolError(
            f"{len(participants)} participants x max_update_bytes {max_update_bytes} = "
            f"{round_bytes} bytes per round, more than the {MAX_ROUND_BYTES} bytes one chaincode "
            "message can carry; lower max_update_bytes or split the consortium"
        )
    return request


@dataclass(frozen=True)
class TaskListing:
    """A validated ListTasks query: an optional participant filter, a page size and a bookmark."""

    participant: str | None
    page_size: int
    bookmark: str | None


def parse_task_listing(text: str, what: str = "argument 1") -> TaskListing:
    """Parse ``{"participant"?: party id, "page_size"?: 1..100, "bookmark"?: task id}``.

    The bookmark is the ``bookmark`` a previous page returned (the last task id it listed).
    Raises ``ProtocolError`` with the field readers' messages.
    """
    obj = parse_object(text, what)
    check_fields(
        obj, "task listing", required=(), optional=("participant", "page_size", "bookmark")
    )
    participant = obj.get("participant")
    if participant is not None:
        if not isinstance(participant, str):
            raise ProtocolError(f"participant must be a party id, got {show(participant)}")
        parse_party_id(participant)
    page_size = read_int(
        obj.get("page_size", DEFAULT_PAGE_SIZE), "page_size", minimum=1, maximum=MAX_PAGE_SIZE
    )
    bookmark = obj.get("bookmark")
    if bookmark is not None:
        if not isinstance(bookmark, str):
            raise ProtocolError(f"bookmark must be a task id, got {show(bookmark)}")
        parse_task_id(bookmark)
    return TaskListing(participant, page_size, bookmark)
