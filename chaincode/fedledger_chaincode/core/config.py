"""What the consortium fixes for its contract when the network is created, read by every endorser.

Every endorsing peer's chaincode server must run with the same values (they are part of the
contract, like its code): a peer with other values computes other results, its endorsement does
not match, and the transaction fails rather than commit something the peers disagree on. The
chaincode servers read them from the environment (:func:`contract_config_from_env`); the
in-memory ledger takes a :class:`ContractConfig` directly.

``FEDLEDGER_TIME_WINDOW_SECONDS`` (default 60)
    the peers' ``peer.authentication.timewindow``: how far a proposal's timestamp, chosen by its
    client, may be from the peer's clock. Round durations must be a safe multiple of it.

``FEDLEDGER_MINTER_MSP`` (default ``Org1MSP``)
    the organisation whose identities may mint credits (:mod:`fedledger_chaincode.credits.tokens`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.tokens import DEFAULT_MINTER_MSP, parse_minter_msp
from fedledger.protocol.training import DEFAULT_TIME_WINDOW_SECONDS, min_round_seconds

__all__ = ["ContractConfig", "contract_config_from_env"]

_MAX_TIME_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class ContractConfig:
    """The contract's network-wide settings (module docstring)."""

    time_window_seconds: int = DEFAULT_TIME_WINDOW_SECONDS
    minter_msp: str = DEFAULT_MINTER_MSP

    def __post_init__(self) -> None:
        window = self.time_window_seconds
        if isinstance(window, bool) or not isinstance(window, int):
            raise ProtocolError(f"the time window must be whole seconds, got {window!r}")
        if not 1 <= window <= _MAX_TIME_WINDOW_SECONDS:
            raise ProtocolError(
                f"the time window must be 1 to {_MAX_TIME_WINDOW_SECONDS} seconds, got {window}"
            )
        parse_minter_msp(self.minter_msp)

    @property
    def min_round_seconds(self) -> int:
        """The shortest round a task may ask for under this time window."""
        return min_round_seconds(self.time_window_seconds)


def contract_config_from_env(env: Mapping[str, str]) -> ContractConfig:
    """Read the settings from ``env``; raises ``ProtocolError`` naming a malformed variable."""
    window = DEFAULT_TIME_WINDOW_SECONDS
    text = env.get("FEDLEDGER_TIME_WINDOW_SECONDS", "").strip()
    if text:
        # ASCII digits only: str.isdigit() also accepts "²" (which int() refuses) and fullwidth.
        if not (text.isascii() and text.isdigit()):
            raise ProtocolError(
                f"FEDLEDGER_TIME_WINDOW_SECONDS must be whole seconds, got {text!r}"
            )
        window = int(text)
    minter = env.get("FEDLEDGER_MINTER_MSP", "").strip() or DEFAULT_MINTER_MSP
    try:
        parse_minter_msp(minter)
    except ProtocolError as exc:
        raise ProtocolError(f"FEDLEDGER_MINTER_MSP: {exc}") from None
    return ContractConfig(time_window_seconds=window, minter_msp=minter)
