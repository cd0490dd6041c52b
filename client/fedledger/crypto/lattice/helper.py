"""The connection to the lattice helper process: framed requests over its stdin and stdout.

One helper serves one Python process; calls are serialised by a lock. A helper that dies, or
answers out of frame, is reported as :class:`HelperError` with what it wrote to stderr, and the
connection is closed (a new :class:`LatticeHelper` starts a fresh process).
"""

from __future__ import annotations

import contextlib
import json
import struct
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from fedledger.errors import CryptoError
from fedledger.protocol.lattice_wire import RingSpec

__all__ = ["HelperError", "LatticeHelper"]

_U32 = struct.Struct("<I")
HELPER_VERSION = 1


class HelperError(CryptoError):
    """The lattice helper refused a request (its message) or is not running any more."""


class LatticeHelper:
    """A running helper process; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path) -> None:
        """Start the helper at ``path``; raise HelperError if it cannot start or is not ours."""
        self._lock = threading.Lock()
        # Lives as long as the helper; closed in close().
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                [str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
            )
        except OSError as exc:
            self._stderr.close()
            raise HelperError(f"cannot start the lattice helper {path}: {exc}") from exc
        reply, _ = self.call("ping", None)
        if reply.get("version") != HELPER_VERSION:
            self.close()
            raise HelperError(
                f"lattice helper speaks version {reply.get('version')}, expected {HELPER_VERSION}"
            )

    def __enter__(self) -> LatticeHelper:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the helper (closing its stdin ends it) and wait for it."""
        proc = self._proc
        if proc.stdin and not proc.stdin.closed:
            # A helper that already died cannot take the flush: nothing is left to tell it.
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        self._stderr.close()

    def call(
        self,
        op: str,
        spec: RingSpec | None,
        args: dict[str, Any] | None = None,
        blobs: Sequence[bytes] = (),
    ) -> tuple[dict[str, Any], list[bytes]]:
        """Run one operation; return the reply header and blobs.

        Raises HelperError with the helper's message when it refuses the request, or with its
        stderr when it is gone.
        """
        header: dict[str, Any] = {"op": op, "args": args or {}}
        if spec is not None:
            header["params"] = {
                "log_n": spec.log_n,
                "moduli": list(spec.moduli),
                "plaintext_modulus": spec.plaintext_modulus,
            }
        with self._lock:
            try:
                self._send(header, blobs)
                reply, out = self._receive()
            except (OSError, ValueError, struct.error) as exc:
                raise HelperError(
                    f"the lattice helper failed: {self._stderr_text() or exc}"
                ) from exc
        if "error" in reply:
            raise HelperError(f"lattice helper: {reply['error']}")
        return reply, out

    def _send(self, header: dict[str, Any], blobs: Sequence[bytes]) -> None:
        stdin = self._proc.stdin
        if stdin is None or stdin.closed:
            raise ValueError("the helper is closed")
        head = json.dumps(header).encode()
        parts = [_U32.pack(len(head)), head, _U32.pack(len(blobs))]
        for blob in blobs:
            parts += [_U32.pack(len(blob)), blob]
        stdin.write(b"".join(parts))
        stdin.flush()

    def _receive(self) -> tuple[dict[str, Any], list[bytes]]:
        header = json.loads(self._chunk())
        (count,) = _U32.unpack(self._exact(4))
        return header, [self._chunk() for _ in range(count)]

    def _chunk(self) -> bytes:
        (size,) = _U32.unpack(self._exact(4))
        return self._exact(size)

    def _exact(self, size: int) -> bytes:
        stdout = self._proc.stdout
        if stdout is None:
            raise ValueError("the helper is closed")
        data = stdout.read(size)
        if len(data) != size:
            raise ValueError("the helper closed its output")
        return data

    def _stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()[-2000:]
