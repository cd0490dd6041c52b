"""Ledger consistency across a network's peers: one chain, and every acknowledged write on it.

Each peer is read through its own org's gateway with qscc (fedledger.ledger.qscc): its height,
and its last block, whose hash is recomputed from the block header. Two peers at the same height
with the same last block hash hold the same chain (each header carries its predecessor's hash);
two peers at the same height with different hashes have forked, which no wait repairs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fedledger.errors import ContractError, FedLedgerError, NetworkError
from fedledger.ledger.qscc import block_header_hash, open_reader

__all__ = ["PeerLedger", "invalid_on_peers", "read_peer_ledger", "wait_until_consistent"]


@dataclass(frozen=True)
class PeerLedger:
    """One org's peer: its block height and the hash of its last block (hex)."""

    org: str
    height: int
    block_hash: str


def read_peer_ledger(profile: Path, org: str) -> PeerLedger:
    """Read ``org``'s peer's height and last block; return them.

    Raises NetworkError when the peer's reported hash is not its last block's, LedgerError when
    the peer cannot be read.
    """
    with open_reader(profile, org) as reader:
        info = reader.chain_info()
        last = reader.block(info.height - 1)
    computed = block_header_hash(last.header).hex()
    if computed != info.current_block_hash or last.header.number != info.height - 1:
        raise NetworkError(
            f"{org}'s peer reports block {info.height - 1} with hash {info.current_block_hash},"
            f" but its block {last.header.number} hashes to {computed}"
        )
    return PeerLedger(org, info.height, computed)


def _describe(ledgers: Iterable[PeerLedger]) -> str:
    return ", ".join(f"{p.org} height {p.height} hash {p.block_hash[:16]}" for p in ledgers)


def wait_until_consistent(
    profile: Path,
    orgs: Sequence[str],
    *,
    timeout: float,
    at_least: int = 0,
    poll: float = 0.5,
) -> list[PeerLedger]:
    """Wait until every org's peer is at one height (at least ``at_least``) with one last block
    hash; return their ledgers.

    Raises NetworkError at once when two peers at the same height hold different blocks (a
    fork), and after ``timeout`` seconds when they have not converged (naming each peer's
    height, or why it could not be read).
    """
    deadline = time.monotonic() + timeout
    while True:
        ledgers: list[PeerLedger] = []
        unreadable: list[str] = []
        for org in orgs:
            try:
                ledgers.append(read_peer_ledger(profile, org))
            except NetworkError:
                raise
            except FedLedgerError as exc:
                unreadable.append(f"{org} unreadable ({exc})")
        by_height: dict[int, set[str]] = {}
        for ledger in ledgers:
            by_height.setdefault(ledger.height, set()).add(ledger.block_hash)
        forked = [height for height, hashes in by_height.items() if len(hashes) > 1]
        if forked:
            raise NetworkError(
                f"peers hold different blocks at height {forked[0]}: " + _describe(ledgers)
            )
        if not unreadable and len(by_height) == 1 and ledgers[0].height >= at_least:
            return ledgers
        if time.monotonic() > deadline:
            raise NetworkError(
                f"peers did not reach one height (at least {at_least}) within {timeout:.0f}s: "
                + "; ".join([_describe(ledgers), *unreadable])
            )
        time.sleep(poll)


def invalid_on_peers(profile: Path, orgs: Sequence[str], tx_ids: Iterable[str]) -> dict[str, str]:
    """The transactions among ``tx_ids`` that some org's peer does not hold as VALID.

    Returns ``{tx_id: "<org>: <what its peer holds, or qscc's message>"}`` (empty when every
    peer holds every transaction as VALID). Raises LedgerError when a peer cannot be reached.
    """
    wanted = list(dict.fromkeys(tx_ids))
    problems: dict[str, str] = {}
    for org in orgs:
        with open_reader(profile, org) as reader:
            for tx_id in wanted:
                try:
                    code = reader.validation_code(tx_id)
                except ContractError as exc:  # qscc's answer: the peer does not hold it
                    code = f"not on its ledger ({exc.message})"
                if code != "VALID":
                    problems.setdefault(tx_id, f"{org}: {code}")
    return problems
