"""One task's lattice context: the helper, the parameters, the key id and the public seeds.

Every seed is derived from a task binding (bytes the task's record fixes, e.g. the digest of the
task) with its own label, so the public-key polynomial, each round's polynomials and the key
check's polynomials are independent uniform draws and never coincide.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from fedledger.crypto.lattice.helper import LatticeHelper
from fedledger.crypto.lattice.params import LatticeParameters
from fedledger.errors import CryptoError

__all__ = ["LatticeSession", "derive_seed"]


def derive_seed(label: str, binding: bytes, *counters: int) -> bytes:
    """Return the 32-byte seed SHA-256(label, binding, counters), each part length-prefixed."""
    digest = hashlib.sha256(b"fedledger-lattice-seed-v1")
    for part in (label.encode(), binding):
        digest.update(struct.pack("<I", len(part)) + part)
    for counter in counters:
        digest.update(struct.pack("<Q", counter))
    return digest.digest()


@dataclass(frozen=True)
class LatticeSession:
    """What every lattice operation of one task needs; ``binding`` names the task."""

    helper: LatticeHelper
    params: LatticeParameters
    binding: bytes

    def __post_init__(self) -> None:
        if len(self.binding) < 16:
            raise CryptoError("the task binding must be at least 16 bytes (a digest of the task)")

    @property
    def key_id(self) -> bytes:
        """Return the 8-byte id that binds every blob to this task's key and parameters."""
        return derive_seed("key-id", self.binding + self.params.ring.param_id)[:8]

    @property
    def crs_seed(self) -> bytes:
        """Return the seed of the common random polynomial of the public-key shares."""
        return derive_seed("public-key", self.binding)

    def round_seed(self, round_number: int) -> bytes:
        """Return the seed of round ``round_number``'s common polynomials (c1 of every update)."""
        if round_number < 1:
            raise CryptoError(f"round numbers start at 1, got {round_number}")
        return derive_seed("round", self.binding, round_number)

    @property
    def check_seed(self) -> bytes:
        """Return the seed of the key check's known vector."""
        return derive_seed("key-check", self.binding)
