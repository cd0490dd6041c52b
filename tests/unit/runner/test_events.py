"""Event lines parse into the record of their kind, or are refused naming the field."""

from __future__ import annotations

import json

import pytest

from fedledger.errors import RoleProcessError
from fedledger.runner.events import (
    COORDINATOR_EVENTS,
    PARTICIPANT_EVENTS,
    CoordinatorRound,
    Failed,
    ParticipantRound,
    Ready,
    parse_line,
)


def _line(**fields: object) -> str:
    return json.dumps(fields)


def test_a_ready_line_becomes_a_ready_record_that_keeps_the_whole_line() -> None:
    raw = _line(event="ready", party="Org1MSP/ab", samples=120, advertisement=None, resumed=False)

    ready = parse_line(raw, PARTICIPANT_EVENTS)

    assert isinstance(ready, Ready)
    assert (ready.party, ready.samples, ready.advertisement, ready.resumed) == (
        "Org1MSP/ab", 120, None, False,
    )  # fmt: skip
    assert ready.fields["event"] == "ready"


def test_the_same_kind_name_parses_by_the_role_that_printed_it() -> None:
    participant = _line(event="round", round=2, status="accepted", contributed=True,
                        decrypted=False, weights_hash="ab", test_accuracy=0.9, ledger_calls=7)
    coordinator = _line(event="round", round=2, status="accepted", median_bp=9000,
                        seconds=3, reason=None)  # fmt: skip

    mine = parse_line(participant, PARTICIPANT_EVENTS)
    theirs = parse_line(coordinator, COORDINATOR_EVENTS)

    assert isinstance(mine, ParticipantRound) and mine.fields["ledger_calls"] == 7
    assert isinstance(theirs, CoordinatorRound) and theirs.seconds == 3


def test_an_error_line_parses_for_every_role() -> None:
    raw = _line(error="ContractError", message="task t-1 is not active", tx_id=None)

    failed = parse_line(raw, COORDINATOR_EVENTS)

    assert isinstance(failed, Failed) and failed.message == "task t-1 is not active"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_line(event="ready", party="p", samples="120", advertisement=None, resumed=False),
         "'ready' line: field 'samples' is str, expected <class 'int'>"),
        (_line(event="ready", party="p", samples=True, advertisement=None, resumed=False),
         "field 'samples' is bool"),
        (_line(event="ready", party="p", advertisement=None, resumed=False),
         "'ready' line has no field 'samples'"),
        (_line(event="joined", task="t", restored_rounds=[1, "2"]),
         "field 'restored_rounds' is list"),
        (_line(event="started", task="t"), "unknown event 'started'"),
        ("[1, 2]", "a JSON object, not list"),
        ("round 2 done", "not a JSON line"),
    ],
)
def test_a_malformed_line_is_refused_naming_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(RoleProcessError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_line(raw, PARTICIPANT_EVENTS)
