"""One ``fedledger`` command as a process: its typed event lines, crash, restart, result.

A role process (``participant run --json`` and the like) prints one JSON object per line on
stdout and logs on stderr. :class:`RoleProcess` reads the lines in a thread and parses them with
:mod:`fedledger.runner.events`, lets its caller wait for an event of one kind, SIGKILLs the
process (a crash, no clean-up) and starts it again. A one-shot command that prints a single JSON
document at its end (``enricher run --json``) is read with :meth:`RoleProcess.result`.
The demos and the live tests drive roles through it: one harness.
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
from typing import IO, Any, TypeVar

from fedledger.errors import RoleProcessError
from fedledger.runner.events import Event, EventKinds, Exited, Failed, parse_line

E = TypeVar("E", bound=Event)
STOP_SECONDS = 10.0


# What the reader thread hands over: a parsed line, or the error of one that did not parse
# (raised when the caller reads up to it, so that lines before it are still delivered).
Item = Event | RoleProcessError


class RoleProcess:
    """One ``fedledger ...`` process; ``name`` labels its log file under ``logs``.

    ``events`` are the kinds its lines may have; None for a one-shot command whose whole
    output is one JSON document (:meth:`result`).
    """

    def __init__(
        self, name: str, argv: list[str], logs: Path, events: EventKinds | None = None
    ) -> None:
        self.name = name
        self.argv = argv
        self.logs = logs
        self.events = events
        self.lines: queue.Queue[Item] = queue.Queue()
        self.seen: list[Event] = []
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0
        self._output: list[str] = []

    @property
    def log(self) -> Path:
        """The log (stderr) of the current start: ``name.log``, then ``name-2.log``, …"""
        suffix = "" if self.starts <= 1 else f"-{self.starts}"
        return self.logs / f"{self.name}{suffix}.log"

    def start(self, argv: list[str] | None = None) -> RoleProcess:
        """Start the command (again, with ``argv`` if given); return self."""
        self.starts += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "fedledger.cli.main", *(argv or self.argv)]
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True
            )
        self.lines = queue.Queue()  # a new life: nothing of the previous one is read again
        self._output = []
        reader = threading.Thread(
            target=self._read_document if self.events is None else self._read_lines,
            args=(self.proc.stdout, self.lines, self.events),
            daemon=True,
        )
        reader.start()
        return self

    def _read_lines(
        self, stream: IO[str] | None, lines: queue.Queue[Item], kinds: EventKinds
    ) -> None:
        for raw in stream or ():
            if not raw.strip():
                continue
            try:
                lines.put(parse_line(raw, kinds))
            except RoleProcessError as exc:
                lines.put(RoleProcessError(f"{self.name}: {exc}"))
        lines.put(Exited(fields={}))

    def _read_document(
        self, stream: IO[str] | None, lines: queue.Queue[Item], _kinds: None
    ) -> None:
        self._output.extend(stream or ())
        lines.put(Exited(fields={}))

    def wait_for(self, kind: type[E], timeout: float) -> E:
        """The next line of ``kind`` (lines of other kinds are passed over, kept in ``seen``).

        Raises RoleProcessError when the process reports an error, prints a line that does not
        parse, exits first, or prints no such line within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RoleProcessError(
                    f"{self.name}: no '{kind.kind}' within {timeout:.0f}s"
                ) from None
            if isinstance(line, RoleProcessError):
                raise line
            self.seen.append(line)
            if isinstance(line, Failed):
                raise RoleProcessError(f"{self.name} failed before '{kind.kind}': {line.fields}")
            if isinstance(line, kind):
                return line
            if isinstance(line, Exited):
                raise RoleProcessError(
                    f"{self.name} exited (status {self._status()}) before '{kind.kind}'; "
                    f"{self._log_name()} says: {self.log_tail()}"
                )

    def result(self, timeout: float) -> dict[str, Any]:
        """Wait for a one-shot command to end; return the JSON document it printed.

        Raises RoleProcessError when it does not end in time (it is killed), exits with a
        non-zero status, or prints something that is not one JSON object.
        """
        try:
            code = self.exit_code(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RoleProcessError(
                f"{self.name} did not finish in {timeout:.0f}s; see {self._log_name()}"
            ) from None
        if code != 0:
            raise RoleProcessError(f"{self.name} exited with status {code}: {self.log_tail()}")
        self.lines.get(timeout=STOP_SECONDS)  # the reader has read everything
        try:
            document = json.loads("".join(self._output))
        except json.JSONDecodeError as exc:
            raise RoleProcessError(f"{self.name} printed no JSON document: {exc}") from exc
        if not isinstance(document, dict):
            raise RoleProcessError(f"{self.name} printed {type(document).__name__}, not an object")
        return document

    def check_running(self) -> None:
        """Raise RoleProcessError if the process has exited with a failure status."""
        code = None if self.proc is None else self.proc.poll()
        if code not in (None, 0):
            raise RoleProcessError(
                f"{self.name} exited with status {code}; {self._log_name()} says: {self.log_tail()}"
            )

    def kill(self) -> None:
        """SIGKILL the process and reap it (a crash: no clean-up runs)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_SECONDS)

    def exit_code(self, timeout: float) -> int:
        """Wait for the process to end by itself; return its exit status.

        Raises RoleProcessError if it was never started, subprocess.TimeoutExpired if it runs on.
        """
        if self.proc is None:
            raise RoleProcessError(f"{self.name} was never started")
        return self.proc.wait(timeout=timeout)

    def log_tail(self, lines: int = 3) -> str:
        """The last non-blank lines of the current log, joined with " | "."""
        text = self.log.read_text(errors="replace") if self.log.is_file() else ""
        tail = [ln for ln in text.splitlines() if ln.strip()][-lines:]
        return " | ".join(tail) if tail else "(empty log)"

    def stop(self) -> None:
        """Terminate the process if it still runs (SIGKILL if it does not end in time)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_SECONDS)

    def _status(self) -> int | None:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            return None

    def _log_name(self) -> str:
        return f"logs/{self.log.name}"
