"""Build the lattice helper (the Go module under ``lattice/``) once, into the ignored state folder.

Like Fabric's binaries (``fedledger.network.build``): the helper lands in ``<out_dir>`` beside a
stamp holding the digest of the module's go.mod, go.sum and Go sources; a later build with the
same digest and the binary present does nothing.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from fedledger.errors import CryptoError, NetworkError
from fedledger.network.build import installed_go, required_go

HELPER_NAME = "fedledger-lattice"
STAMP = ".fedledger-lattice-pin"


def source_root() -> Path:
    """Return the checkout this package runs from (the folder holding ``lattice/``)."""
    return Path(__file__).resolve().parents[4]


def default_module_dir() -> Path:
    """Return the Go module of the helper in this checkout."""
    return source_root() / "lattice"


def default_out_dir() -> Path:
    """Return where the helper is built: ``.fedledger/lattice`` of this checkout (ignored)."""
    return source_root() / ".fedledger" / "lattice"


def source_digest(module_dir: Path) -> str:
    """Return the SHA-256 of go.mod, go.sum and every .go file of the module, in name order.

    Raises CryptoError when go.mod or go.sum is missing.
    """
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        if not (module_dir / name).is_file():
            raise CryptoError(f"the lattice helper's pin is incomplete: {name} is missing")
    files = [module_dir / "go.mod", module_dir / "go.sum", *sorted(module_dir.glob("*.go"))]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def helper_current(module_dir: Path, out_dir: Path) -> bool:
    """True when the helper exists and was built from the current sources."""
    stamp = out_dir / STAMP
    if not stamp.is_file() or not (out_dir / HELPER_NAME).is_file():
        return False
    return stamp.read_text().strip() == source_digest(module_dir)


def build_helper(module_dir: Path, out_dir: Path, *, force: bool = False) -> Path:
    """Build the helper into ``out_dir`` unless it is current; return the helper's path.

    Raises CryptoError when Go is missing or too old, or when the build fails (with Go's output).
    """
    helper = out_dir / HELPER_NAME
    if not force and helper_current(module_dir, out_dir):
        return helper
    try:
        go, have = installed_go()
        need = required_go(module_dir)
    except NetworkError as exc:
        raise CryptoError(f"cannot build the lattice helper: {exc}") from exc
    if have < need:
        raise CryptoError(
            f"Go {have[0]}.{have[1]} is too old: the lattice helper needs Go"
            f" {need[0]}.{need[1]} or newer"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    cmd = [go, "build", "-trimpath", "-o", str(helper), "."]
    result = subprocess.run(cmd, cwd=module_dir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise CryptoError(f"building the lattice helper failed:\n{result.stderr.strip()[-4000:]}")
    (out_dir / STAMP).write_text(source_digest(module_dir) + "\n")
    return helper


def main() -> int:
    """Build the helper of this checkout (``make lattice``); return the exit status.

    Quiet on success, like the rest of the library; a failure exits with its message.
    """
    try:
        build_helper(default_module_dir(), default_out_dir(), force="--force" in sys.argv)
    except CryptoError as exc:
        raise SystemExit(str(exc)) from exc
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
