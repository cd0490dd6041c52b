"""`fedledger` commands as separate processes for live tests: their JSON lines, kill, restart.

A role process (`participant run --json`, `coordinator run --json`) prints one JSON object per
line on stdout and logs on stderr; :class:`RoleProcess` reads the lines in a thread, lets a test
wait for an event, SIGKILLs the process (a crash, no clean-up) and starts it again.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any


class RoleProcess:
    """One `fedledger ...` process; ``name`` labels its log file under ``logs``."""

    def __init__(self, name: str, argv: list[str], logs: Path) -> None:
        self.name = name
        self.argv = argv
        self.logs = logs
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0

    def start(self, argv: list[str] | None = None) -> RoleProcess:
        """Start the command (again, with ``argv`` if given); stderr goes to the log file."""
        self.starts += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "fedledger.cli.main", *(argv or self.argv)]
        with open(self.logs / f"{self.name}-{self.starts}.log", "w") as err:
            self.proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True
            )
        self.lines = queue.Queue()  # a new life: nothing of the previous one is read again
        reader = threading.Thread(
            target=self._read, args=(self.proc.stdout, self.lines), daemon=True
        )
        reader.start()
        return self

    @staticmethod
    def _read(stream: IO[str] | None, lines: queue.Queue[dict[str, Any]]) -> None:
        if stream is None:
            return
        for raw in stream:
            try:
                lines.put(json.loads(raw))
            except json.JSONDecodeError:
                continue
        lines.put({"event": "exited"})

    def wait_for(self, event: str, timeout: float) -> dict[str, Any]:
        """The next line of ``event``; AssertionError if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.name}: no '{event}' within {timeout:.0f}s") from None
            self.seen.append(line)
            if "error" in line:  # the command failed: `fedledger --json` says why
                raise AssertionError(f"{self.name} failed before '{event}': {line}")
            if line["event"] == event:
                return line
            if line["event"] == "exited":
                raise AssertionError(f"{self.name} exited before '{event}': {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the process (and anything it started) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def exit_code(self, timeout: float) -> int:
        """Wait for the process to end by itself; return its exit status."""
        if self.proc is None:
            raise AssertionError(f"{self.name} was never started")
        return self.proc.wait(timeout=timeout)

    def log_tail(self) -> str:
        path = self.logs / f"{self.name}-{self.starts}.log"
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
        return " | ".join(lines[-3:]) if lines else "(empty log)"

    def stop(self) -> None:
        """Terminate the process if it still runs (end of test)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
