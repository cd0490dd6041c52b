"""Who computes decryption shares for a round: exactly t contributors, chosen from the ledger.

A round's aggregate needs t shares, and a partial decryption is the most expensive step of a
round (one ~4,100-bit exponentiation per ciphertext), so by default only t contributors compute
one. Everybody derives the same choice from the ledger alone: the round's contributors in
party-id order, rotated by the round number so the work spreads over the rounds. The others
stand by and publish a share only if, ``standby_seconds`` after they saw the round closed, t
shares are still not in (a chosen one crashed or stalls); the chaincode accepts any valid share,
so a standby share is as good as a chosen one. ``DecryptorPolicy(everyone=True)`` makes every
contributor decrypt at once, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DecryptorPolicy", "chosen_decryptors"]


@dataclass(frozen=True)
class DecryptorPolicy:
    """Whether every contributor decrypts, and how long a standby waits before it does."""

    everyone: bool = False
    standby_seconds: float = 60.0


def chosen_decryptors(
    contributors: Sequence[str], round_number: int, threshold: int
) -> tuple[str, ...]:
    """The ``threshold`` contributors that decrypt round ``round_number`` (module docstring)."""
    ordered = sorted(contributors)
    if not ordered:
        return ()
    start = (round_number - 1) % len(ordered)
    rotated = ordered[start:] + ordered[:start]
    return tuple(rotated[:threshold])
