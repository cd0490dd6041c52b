"""The task file of `fedledger task propose --file task.toml`: what the consortium agrees on.

A TOML file with these keys (every bound is checked here, before a key is generated, and every
message names the field and the allowed range)::

    model = "mlp32"            # mlp32, mlp128 or mlp32q
    rounds = 3                 # 1 .. 999999
    threshold = 2              # shares needed to decrypt: 2 .. number of participants
    quorum = 3                 # optional, default every participant: threshold .. participants
    round_seconds = 600        # 1 .. one year; the chaincode wants >= 5 x the peers' time
                               # window (300 s on the local network), participants by default
                               # refuse rounds under 300 s
    tolerance_bp = 500         # optional (default 500): accuracy drop tolerated, 0 .. 10000 bp
    seed = 0                   # optional: seed of the initial weights, 0 .. 2^32-1
    key_bits = 2048            # optional: 2048, 3072 or 4096

    [encoding]                 # optional: the packed fixed-point encoding of updates
    frac_bits = 14             # precision, 1 .. 30 fractional bits
    clip = 0.25                # bound on each sample-weighted update value, > 0 and <= 16

    [strategy]                 # optional, default fedavg
    name = "fedavgm"           # fedavg or fedavgm
    momentum_bp = 5000         # fedavgm only: 0 .. 9900
    server_lr_bp = 12000       # fedavgm only: 1 .. 50000

    [[participants]]           # 2 .. 256 entries, each a registered party id and either
    party = "Org1MSP/…"        # its declared sample count ...
    samples = 1350
    [[participants]]
    party = "Org2MSP/…"
    advertisement = "ad-…"     # ... or its advertisement, whose sample count is used

Local epochs are not a task field: the task record on the ledger does not carry them and nobody
could check them (training happens on each participant's machine), so each participant chooses
them (`participant run --epochs E`). A task file that names ``local_epochs`` is refused with
that explanation rather than silently ignored.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedledger.errors import FedLedgerError
from fedledger.learning.models import MODELS
from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.rounds import MAX_ROUNDS
from fedledger.protocol.training import (
    MAX_MOMENTUM_BP,
    MAX_PARTICIPANTS,
    MAX_ROUND_SECONDS,
    MAX_SERVER_LR_BP,
    MIN_THRESHOLD,
    STRATEGIES,
    StrategySpec,
)
from fedledger.roles.training.coordinator import TaskPlan

__all__ = ["ParticipantEntry", "TaskFile", "TaskFileError", "load_task_file", "parse_task_file"]

KEY_BITS = (2048, 3072, 4096)
MAX_FRAC_BITS = 30
MAX_CLIP = 16.0
MAX_SEED = 2**32 - 1
_TOP = {
    "model", "rounds", "threshold", "quorum", "round_seconds", "tolerance_bp", "seed",
    "key_bits", "encoding", "strategy", "participants",
}  # fmt: skip
_EPOCHS_NOTE = (
    "local_epochs is not a task field: the ledger's task record does not carry it and nobody "
    "could check it; each participant chooses it with 'participant run --epochs E'"
)


class TaskFileError(FedLedgerError):
    """The task file is unreadable or a field is missing or out of its range (the message says)."""


@dataclass(frozen=True)
class ParticipantEntry:
    """A participant as the file names it: samples given, or an advertisement to read them from."""

    party: str
    samples: int | None
    advertisement: str | None


@dataclass(frozen=True)
class TaskFile:
    """A validated task file: the plan, the participants in order, the initial weights' seed."""

    plan: TaskPlan
    participants: tuple[ParticipantEntry, ...]
    seed: int


def load_task_file(path: str | Path) -> TaskFile:
    """Read and validate ``path``; raises TaskFileError naming the file and the bad field."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot read the task file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaskFileError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_task_file(raw)
    except TaskFileError as exc:
        raise TaskFileError(f"{path}: {exc}") from None


def parse_task_file(raw: dict[str, Any]) -> TaskFile:
    """Validate a parsed task file (module docstring); raises TaskFileError naming the field."""
    if "local_epochs" in raw:
        raise TaskFileError(_EPOCHS_NOTE)
    _no_unknown(raw, _TOP, "the task file")
    model = raw.get("model")
    if model not in MODELS:
        raise TaskFileError(f"model must be one of {', '.join(sorted(MODELS))}, got {model!r}")
    participants = _participants(raw.get("participants"))
    count = len(participants)
    threshold = _int(raw, "threshold", MIN_THRESHOLD, count, required=True)
    quorum = _int(raw, "quorum", threshold, count, default=count)
    key_bits = _int(raw, "key_bits", KEY_BITS[0], KEY_BITS[-1], default=2048)
    if key_bits not in KEY_BITS:
        raise TaskFileError(
            f"key_bits must be one of {', '.join(map(str, KEY_BITS))}, got {key_bits}"
        )
    frac_bits, clip = _encoding(raw.get("encoding", {}))
    plan = TaskPlan(
        model=str(model),
        rounds=_int(raw, "rounds", 1, MAX_ROUNDS, required=True),
        threshold=threshold,
        quorum=quorum,
        round_seconds=_int(raw, "round_seconds", 1, MAX_ROUND_SECONDS, required=True),
        tolerance_bp=_int(raw, "tolerance_bp", 0, 10_000, default=500),
        frac_bits=frac_bits,
        clip=clip,
        key_bits=key_bits,
        strategy=_strategy(raw.get("strategy", {"name": "fedavg"})),
    )
    return TaskFile(plan, participants, _int(raw, "seed", 0, MAX_SEED, default=0))


def _no_unknown(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise TaskFileError(
            f"unknown field {unknown[0]!r} in {where} (allowed: {', '.join(sorted(allowed))})"
        )


def _int(
    table: dict[str, Any],
    name: str,
    low: int,
    high: int,
    *,
    required: bool = False,
    default: int = 0,
    prefix: str = "",
) -> int:
    field = prefix + name
    if name not in table:
        if required:
            raise TaskFileError(f"{field} is missing: give an integer in {low}..{high}")
        return default
    value = table[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TaskFileError(f"{field} must be an integer in {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise TaskFileError(f"{field} must be in {low}..{high}, got {value}")
    return value


def _encoding(table: Any) -> tuple[int, float]:
    if not isinstance(table, dict):
        raise TaskFileError(f"encoding must be a table, got {table!r}")
    _no_unknown(table, {"frac_bits", "clip"}, "[encoding]")
    defaults = TaskPlan()
    frac_bits = _int(
        table, "frac_bits", 1, MAX_FRAC_BITS, default=defaults.frac_bits, prefix="encoding."
    )
    clip = table.get("clip", defaults.clip)
    if isinstance(clip, bool) or not isinstance(clip, int | float):
        raise TaskFileError(f"encoding.clip must be a number in (0, {MAX_CLIP}], got {clip!r}")
    if not (math.isfinite(clip) and 0 < clip <= MAX_CLIP):
        raise TaskFileError(f"encoding.clip must be in (0, {MAX_CLIP}], got {clip}")
    if round(clip * (1 << frac_bits)) < 1:
        raise TaskFileError(
            f"encoding.clip {clip} is below the precision 2^-{frac_bits}: every value would be 0"
        )
    return frac_bits, float(clip)


def _strategy(table: Any) -> StrategySpec:
    if not isinstance(table, dict):
        raise TaskFileError(f"strategy must be a table, got {table!r}")
    _no_unknown(table, {"name", "momentum_bp", "server_lr_bp"}, "[strategy]")
    name = table.get("name", "fedavg")
    if name not in STRATEGIES:
        raise TaskFileError(f"strategy.name must be one of {', '.join(STRATEGIES)}, got {name!r}")
    if name == "fedavg":
        if set(table) - {"name"}:
            raise TaskFileError("strategy fedavg takes no momentum_bp or server_lr_bp")
        return StrategySpec()
    momentum = _int(table, "momentum_bp", 0, MAX_MOMENTUM_BP, required=True, prefix="strategy.")
    rate = _int(table, "server_lr_bp", 1, MAX_SERVER_LR_BP, default=10_000, prefix="strategy.")
    return StrategySpec(str(name), momentum, rate)


def _participants(value: Any) -> tuple[ParticipantEntry, ...]:
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_PARTICIPANTS:
        shown = len(value) if isinstance(value, list) else repr(value)
        raise TaskFileError(
            f"participants must be 2..{MAX_PARTICIPANTS} [[participants]] tables, got {shown}"
        )
    entries: list[ParticipantEntry] = []
    for number, table in enumerate(value, start=1):
        where = f"participants[{number}]"
        if not isinstance(table, dict):
            raise TaskFileError(f"{where} must be a table, got {table!r}")
        _no_unknown(table, {"party", "samples", "advertisement"}, where)
        party = table.get("party")
        try:
            parse_party_id(party if isinstance(party, str) else "")
        except ProtocolError:
            raise TaskFileError(
                f"{where}.party must be a party id (MSPID/<64 hex digits>), got {party!r}"
            ) from None
        if any(e.party == party for e in entries):
            raise TaskFileError(f"{where}.party {party} is listed twice")
        if ("samples" in table) == ("advertisement" in table):
            raise TaskFileError(f"{where} needs exactly one of samples or advertisement")
        samples = None
        if "samples" in table:
            samples = _int(table, "samples", 1, 2**53, prefix=f"{where}.")
        advertisement = table.get("advertisement")
        if advertisement is not None and (not isinstance(advertisement, str) or not advertisement):
            raise TaskFileError(f"{where}.advertisement must be an advertisement id")
        entries.append(ParticipantEntry(str(party), samples, advertisement))
    return tuple(entries)
