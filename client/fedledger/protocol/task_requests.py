"""Requests about training tasks: ProposeTask's proposal and ListTasks' query and page.

The proposal is a :class:`~fedledger.protocol.codec.Record` (:class:`TaskProposal`) that the
coordinator sends as canonical JSON; the chaincode reads it with the same record's parser and
then checks the bounds that protect the participants (:mod:`fedledger.protocol.training`'s
docstring lists them), giving the validated :class:`TaskRequest` the stored task is made from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import show
from fedledger.protocol.ciphervec import EncodingSpec
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import read_int, read_text
from fedledger.protocol.rounds import MAX_ROUNDS, read_blob, read_hex64
from fedledger.protocol.task_records import TaskParticipant, TaskSummary
from fedledger.protocol.threshold import threshold_public_from_bytes
from fedledger.protocol.training import (
    DEFAULT_MAX_UPDATE_BYTES,
    DEFAULT_PAGE_SIZE,
    MAX_MAX_UPDATE_BYTES,
    MAX_MODEL_CHARS,
    MAX_MODULUS_BITS,
    MAX_MOMENTUM_BP,
    MAX_PAGE_SIZE,
    MAX_PARTICIPANTS,
    MAX_ROUND_BYTES,
    MAX_ROUND_SECONDS,
    MAX_SERVER_LR_BP,
    MAX_THRESHOLD_PUBLIC_CHARS,
    MAX_VALUE_COUNT,
    MIN_MODULUS_BITS,
    MIN_THRESHOLD,
    STRATEGIES,
    StrategySpec,
    parse_task_id,
    update_base64_chars,
)

__all__ = [
    "ModulusArgument",
    "StrategyRequest",
    "TaskListing",
    "TaskPage",
    "TaskProposal",
    "TaskRequest",
    "parse_task_listing",
    "parse_task_request",
]

_DECIMAL = re.compile(r"[1-9][0-9]*")
# A decimal string this long is already far above MAX_MODULUS_BITS; refuse before int() on it.
_MAX_MODULUS_DIGITS = 2500


@dataclass(frozen=True)
class ModulusArgument(Record):
    """The proposal's Paillier modulus ``{"n": decimal string}``."""

    NAME = "public_key"

    n: str


@dataclass(frozen=True)
class StrategyRequest(Record):
    """The proposal's aggregation strategy (momentum and rate default to plain FedAvg's)."""

    NAME = "strategy"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"momentum_bp", "server_lr_bp"})

    name: str
    momentum_bp: int = 0
    server_lr_bp: int = 10_000


@dataclass(frozen=True)
class TaskProposal(Record):
    """A ProposeTask argument as sent (module docstring of :mod:`fedledger.protocol.training`)."""

    NAME = "task"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"max_update_bytes", "strategy"})

    model: str
    model_hash: str
    initial_weights_hash: str
    value_count: int
    encoding: dict[str, int]
    public_key: ModulusArgument
    threshold_public: str
    threshold: int
    participants: tuple[TaskParticipant, ...]
    quorum: int
    rounds: int
    round_seconds: int
    tolerance_bp: int
    max_update_bytes: int = DEFAULT_MAX_UPDATE_BYTES
    strategy: StrategyRequest | None = None


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


def _read_strategy(value: StrategyRequest | None) -> StrategySpec:
    if value is None:
        return StrategySpec()
    if value.name not in STRATEGIES:
        raise ProtocolError(
            f"strategy.name must be one of {', '.join(STRATEGIES)}, got {show(value.name)}"
        )
    momentum = read_int(value.momentum_bp, "strategy.momentum_bp", maximum=MAX_MOMENTUM_BP)
    rate = read_int(
        value.server_lr_bp, "strategy.server_lr_bp", minimum=1, maximum=MAX_SERVER_LR_BP
    )
    if value.name == "fedavg" and (momentum, rate) != (0, 10_000):
        raise ProtocolError("strategy fedavg takes no momentum_bp or server_lr_bp")
    return StrategySpec(value.name, momentum, rate)


def _read_modulus(value: ModulusArgument) -> int:
    text = value.n
    if len(text) > _MAX_MODULUS_DIGITS or not _DECIMAL.fullmatch(text):
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


def _read_encoding(value: dict[str, int], n: int, participants: int) -> EncodingSpec:
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


def _read_participants(value: tuple[TaskParticipant, ...]) -> tuple[tuple[str, int], ...]:
    if not 2 <= len(value) <= MAX_PARTICIPANTS:
        raise ProtocolError(
            f"participants must list 2 to {MAX_PARTICIPANTS} parties, got {len(value)}"
        )
    seen: set[str] = set()
    result: list[tuple[str, int]] = []
    for index, entry in enumerate(value):
        parse_party_id(entry.party)
        if entry.party in seen:
            raise ProtocolError(f"participant {entry.party} is listed twice")
        seen.add(entry.party)
        samples = read_int(entry.samples, f"participants[{index}].samples", minimum=1)
        result.append((entry.party, samples))
    return tuple(result)


def _read_counts(proposal: TaskProposal, participants: int) -> tuple[int, int]:
    threshold = read_int(proposal.threshold, "threshold", minimum=1)
    if threshold < MIN_THRESHOLD:
        raise ProtocolError(
            f"threshold must be at least {MIN_THRESHOLD}, got {threshold}: with one share a "
            "single key holder could decrypt every participant's update"
        )
    if threshold > participants:
        raise ProtocolError(
            f"threshold must be at most the {participants} participants, got {threshold}"
        )
    quorum = read_int(proposal.quorum, "quorum", minimum=1)
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


def _read_schedule(proposal: TaskProposal, min_round_seconds: int) -> tuple[int, int, int]:
    """Return (rounds, round_seconds, tolerance_bp), each checked against its bounds."""
    rounds = read_int(proposal.rounds, "rounds", minimum=1, maximum=MAX_ROUNDS)
    round_seconds = read_int(
        proposal.round_seconds, "round_seconds", minimum=1, maximum=MAX_ROUND_SECONDS
    )
    if round_seconds < min_round_seconds:
        raise ProtocolError(
            f"round_seconds must be at least {min_round_seconds} (five times the peers' time "
            f"window), got {round_seconds}"
        )
    tolerance_bp = read_int(proposal.tolerance_bp, "tolerance_bp", minimum=0, maximum=10_000)
    return rounds, round_seconds, tolerance_bp


def _check_sizes(request: TaskRequest) -> None:
    """Refuse a task whose update or round would not fit the size limits."""
    needed = update_base64_chars(request.ciphertext_count, request.n)
    if needed > request.max_update_bytes:
        raise ProtocolError(
            f"an update of {request.value_count} values needs {request.ciphertext_count} "
            f"ciphertexts, {needed} base64 characters, more than max_update_bytes "
            f"{request.max_update_bytes}"
        )
    round_bytes = len(request.participants) * request.max_update_bytes
    if round_bytes > MAX_ROUND_BYTES:
        raise ProtocolError(
            f"{len(request.participants)} participants x max_update_bytes "
            f"{request.max_update_bytes} = {round_bytes} bytes per round, more than the "
            f"{MAX_ROUND_BYTES} bytes one chaincode message can carry; lower max_update_bytes "
            "or split the consortium"
        )


def parse_task_request(
    text: str,
    what: str = "argument 1",
    *,
    min_round_seconds: int = 1,
) -> TaskRequest:
    """Parse a ProposeTask argument (:mod:`fedledger.protocol.training` lists fields and bounds).

    ``min_round_seconds`` is the shortest round the network's time window allows. Returns the
    request. Raises ``ProtocolError``: the record's field messages, then the first broken bound,
    e.g. "public_key.n must be at least 2048 bits, got 1024", "encoding.max_summands is 2 but
    the task has 3 participants: the encrypted sum could overflow a slot", "threshold must be at
    least 2, got 1: …".
    """
    proposal = TaskProposal.from_argument(text, what)
    model = read_text(proposal.model, "model", max_chars=MAX_MODEL_CHARS)
    read_hex64(proposal.model_hash, "model_hash")
    read_hex64(proposal.initial_weights_hash, "initial_weights_hash")
    value_count = read_int(proposal.value_count, "value_count", minimum=1, maximum=MAX_VALUE_COUNT)
    participants = _read_participants(proposal.participants)
    n = _read_modulus(proposal.public_key)
    encoding = _read_encoding(proposal.encoding, n, len(participants))
    raw_public = read_blob(
        proposal.threshold_public, "threshold_public", max_chars=MAX_THRESHOLD_PUBLIC_CHARS
    )
    threshold, quorum = _read_counts(proposal, len(participants))
    _check_threshold_public(raw_public, n, threshold, len(participants))
    rounds, round_seconds, tolerance_bp = _read_schedule(proposal, min_round_seconds)
    max_update_bytes = read_int(
        proposal.max_update_bytes, "max_update_bytes", minimum=1, maximum=MAX_MAX_UPDATE_BYTES
    )
    request = TaskRequest(
        model, proposal.model_hash, proposal.initial_weights_hash, value_count, encoding, n,
        proposal.threshold_public, threshold, participants, quorum, rounds, round_seconds,
        tolerance_bp, max_update_bytes, _read_strategy(proposal.strategy),
    )  # fmt: skip
    _check_sizes(request)
    return request


@dataclass(frozen=True)
class TaskListing(Record):
    """A ListTasks query: an optional participant filter, a page size and a bookmark."""

    NAME = "task listing"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"participant", "page_size", "bookmark"})

    participant: str | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    bookmark: str | None = None


def parse_task_listing(text: str, what: str = "argument 1") -> TaskListing:
    """Parse ``{"participant"?: party id, "page_size"?: 1..100, "bookmark"?: task id}``.

    The bookmark is the ``bookmark`` a previous page returned (the last task id it listed).
    Returns the query. Raises ``ProtocolError`` with the record's and field readers' messages.
    """
    listing = TaskListing.from_argument(text, what)
    if listing.participant is not None:
        parse_party_id(listing.participant)
    read_int(listing.page_size, "page_size", minimum=1, maximum=MAX_PAGE_SIZE)
    if listing.bookmark is not None:
        parse_task_id(listing.bookmark)
    return listing


@dataclass(frozen=True)
class TaskPage(Record):
    """One page of ListTasks: summaries, and the bookmark of the next page (None at the end)."""

    NAME = "task page"

    tasks: tuple[TaskSummary, ...]
    bookmark: str | None
