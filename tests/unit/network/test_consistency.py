"""The consistency waits, with peers' ledgers supplied by the test (no Fabric)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fedledger.errors import GatewayError, NetworkError
from fedledger.network import consistency
from fedledger.network.consistency import PeerLedger

PROFILE = Path("network.json")
ORGS = ["Org1", "Org2", "Org3"]


def _peers(rounds: list[dict[str, PeerLedger | Exception]]) -> Callable[[Path, str], PeerLedger]:
    """A reader answering from successive polls: ``rounds[i][org]`` for poll i (last repeats)."""
    polls: Iterator[dict[str, PeerLedger | Exception]] = iter(rounds)
    current: dict[str, PeerLedger | Exception] = {}

    def read(profile: Path, org: str) -> PeerLedger:
        nonlocal current
        if org == ORGS[0]:
            current = next(polls, current)
        answer = current[org]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return read


def _at(height: int, block_hash: str = "aa") -> dict[str, PeerLedger | Exception]:
    return {org: PeerLedger(org, height, block_hash) for org in ORGS}


def test_peers_that_catch_up_are_consistent_once_they_agree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prepare: Org3 restarts (unreadable), then lags, then catches up
    lagging = {**_at(9), "Org3": PeerLedger("Org3", 7, "bb")}
    down = {**_at(9), "Org3": GatewayError("evaluate", "UNAVAILABLE")}
    monkeypatch.setattr(consistency, "read_peer_ledger", _peers([down, lagging, _at(10)]))

    # Execute
    ledgers = consistency.wait_until_consistent(PROFILE, ORGS, timeout=5, poll=0)

    # Assert
    assert ledgers == [PeerLedger(org, 10, "aa") for org in ORGS]


def test_two_peers_with_different_blocks_at_one_height_are_a_fork_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prepare
    forked = {**_at(9), "Org2": PeerLedger("Org2", 9, "cc")}
    monkeypatch.setattr(consistency, "read_peer_ledger", _peers([forked]))

    # Execute
    with pytest.raises(NetworkError) as caught:
        consistency.wait_until_consistent(PROFILE, ORGS, timeout=60, poll=0)

    # Assert
    assert str(caught.value).startswith("peers hold different blocks at height 9: ")
    assert "Org2 height 9 hash cc" in str(caught.value)


def test_peers_that_never_agree_time_out_naming_each_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    stuck = {**_at(9), "Org3": GatewayError("evaluate", "UNAVAILABLE: connection refused")}
    monkeypatch.setattr(consistency, "read_peer_ledger", _peers([stuck]))

    # Execute
    with pytest.raises(NetworkError) as caught:
        consistency.wait_until_consistent(PROFILE, ORGS, timeout=0.05, poll=0.01)

    # Assert
    message = str(caught.value)
    assert message.startswith("peers did not reach one height (at least 0) within 0s: ")
    assert "Org1 height 9 hash aa" in message and "Org3 unreadable (evaluate failed" in message


def test_agreeing_peers_below_the_wanted_height_are_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(consistency, "read_peer_ledger", _peers([_at(5), _at(6), _at(8)]))

    ledgers = consistency.wait_until_consistent(PROFILE, ORGS, timeout=5, at_least=8, poll=0)

    assert {ledger.height for ledger in ledgers} == {8}
