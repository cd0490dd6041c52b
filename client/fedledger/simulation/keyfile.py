"""A simulation's task key kept in a file, so repeated simulations skip the safe-prime search.

The file holds the factorisation (p, q) as JSON: it IS the private key, which no real task keeps
(its dealer erases it after the ceremony). Only for simulations and benchmarks on one machine;
it is written readable by its owner only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.errors import CryptoError

__all__ = ["load_key", "save_key"]


def load_key(path: Path) -> tuple[PublicKey, PrivateKey]:
    """The key pair in ``path``; raises CryptoError when the file is unreadable or no safe key."""
    try:
        fields = json.loads(path.read_text())
        p, q = int(fields["p"]), int(fields["q"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CryptoError(f"cannot read a simulation key from {path}: {exc}") from exc
    public = PublicKey(p * q)
    private = PrivateKey(public, p, q)
    if not private.is_safe:
        raise CryptoError(f"the key in {path} is not made of safe primes (threshold needs them)")
    return public, private


def save_key(path: Path, private: PrivateKey) -> None:
    """Write ``private``'s factorisation to ``path``, readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"p": str(private.p), "q": str(private.q)}, file)
