"""The JSON lines a role prints with ``--json``: one small record per event kind, parsed strictly.

A role process (``participant run``, ``coordinator run``, ``provider serve``) prints one JSON
object per line: ``{"event": kind, ...}`` as it goes, or ``{"error": kind, "message": ...}``
when the command fails. :func:`parse_line` turns a line into the record of its kind; a known
kind missing a field, or with a field of the wrong type, is refused with the field's name. Each
record also keeps the whole line (``fields``) for readers that want every measured value.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from fedledger.errors import RoleProcessError


@dataclass(frozen=True)
class Event:
    """One line of a role's output; ``fields`` is the whole line as printed."""

    kind: ClassVar[str] = ""
    fields: dict[str, Any]


@dataclass(frozen=True)
class Ready(Event):
    """A participant registered and loaded its data."""

    kind: ClassVar[str] = "ready"
    party: str
    samples: int
    resumed: bool
    advertisement: str | None


@dataclass(frozen=True)
class Joined(Event):
    """A participant joined a task (with the rounds it restored from its checkpoints)."""

    kind: ClassVar[str] = "joined"
    task: str
    restored_rounds: list[int]


@dataclass(frozen=True)
class ParticipantRound(Event):
    """What a participant did and measured in one round (``fields`` has every phase's time)."""

    kind: ClassVar[str] = "round"
    round: int
    status: str
    contributed: bool
    decrypted: bool
    weights_hash: str
    test_accuracy: float | None


@dataclass(frozen=True)
class Started(Event):
    """A coordinator started driving a task."""

    kind: ClassVar[str] = "started"
    task: str


@dataclass(frozen=True)
class CoordinatorRound(Event):
    """A round the coordinator drove to its end."""

    kind: ClassVar[str] = "round"
    round: int
    status: str
    median_bp: int | None
    seconds: float
    reason: str | None


@dataclass(frozen=True)
class Finished(Event):
    """A role is done with a task."""

    kind: ClassVar[str] = "finished"
    task: str


@dataclass(frozen=True)
class Serving(Event):
    """A prediction provider serves a task's model behind its offers."""

    kind: ClassVar[str] = "serving"
    task: str
    round: int
    weights_hash: str
    offers: list[str]
    port: int


@dataclass(frozen=True)
class Failed(Event):
    """The command failed; ``error`` is the exception's class name."""

    kind: ClassVar[str] = "error"
    error: str
    message: str
    tx_id: str | None


@dataclass(frozen=True)
class Exited(Event):
    """Not printed: the reader's mark that the process closed its output."""

    kind: ClassVar[str] = "exited"


EventKinds = Mapping[str, type[Event]]


def _kinds(*records: type[Event]) -> dict[str, type[Event]]:
    return {record.kind: record for record in records}


PARTICIPANT_EVENTS = _kinds(Ready, Joined, ParticipantRound, Finished)
COORDINATOR_EVENTS = _kinds(Started, CoordinatorRound, Finished)
PROVIDER_EVENTS = _kinds(Serving)


def parse_line(raw: str, kinds: EventKinds) -> Event:
    """The record ``raw`` holds, by its kind among ``kinds`` (error lines always parse).

    Raises RoleProcessError naming the kind or the field when the line is not JSON, is of a
    kind not in ``kinds``, or misses a field or has one of the wrong type.
    """
    try:
        line = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RoleProcessError(f"not a JSON line: {raw.strip()[:80]!r}") from exc
    if not isinstance(line, dict):
        raise RoleProcessError(f"an event line is a JSON object, not {type(line).__name__}")
    if "error" in line:
        return _build(Failed, line)
    kind = line.get("event")
    record = kinds.get(kind) if isinstance(kind, str) else None
    if record is None:
        raise RoleProcessError(f"unknown event {kind!r}; expected one of {sorted(kinds)}")
    return _build(record, line)


def _build(record: type[Event], line: dict[str, Any]) -> Event:
    hints = get_type_hints(record)
    values: dict[str, Any] = {}
    for spec in dataclass_fields(record):
        if spec.name == "fields":
            continue
        if spec.name not in line:
            raise RoleProcessError(f"'{record.kind}' line has no field '{spec.name}'")
        value = line[spec.name]
        if not _matches(value, hints[spec.name]):
            raise RoleProcessError(
                f"'{record.kind}' line: field '{spec.name}' is {type(value).__name__}, "
                f"expected {hints[spec.name]}"
            )
        values[spec.name] = value
    return record(fields=line, **values)


def _matches(value: Any, hint: Any) -> bool:
    """True when a JSON value has the type ``hint`` names (str, int, float, bool, list, None)."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_matches(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if hint is float:  # JSON writes 2.0 as 2.0 but a whole number of seconds may come as 2
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)
