"""Native node processes: start with logs, record by pid, check health, stop exactly those pids."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fedledger.errors import NetworkError


@dataclass(frozen=True)
class NodeProcess:
    """A process the network started: what it is, its pid and the ports it owns."""

    name: str
    kind: str  # "orderer", "peer" or "ccserver"
    pid: int
    argv: list[str]
    log: str
    ports: dict[str, int] = field(default_factory=dict)
    health_url: str | None = None


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_ports_free(host: str, ports: dict[str, int]) -> None:
    """Raise NetworkError naming every taken port and the node that needs it."""
    taken = [f"{port} ({label})" for label, port in ports.items() if not port_free(host, port)]
    if taken:
        raise NetworkError(
            "ports already in use on "
            + host
            + ": "
            + ", ".join(taken)
            + "; stop what uses them or choose another --base-port"
        )


_EXEC_WAIT_SECONDS = 5.0


def start(
    name: str,
    kind: str,
    argv: list[str],
    env: dict[str, str],
    log: Path,
    *,
    ports: dict[str, int] | None = None,
    health_url: str | None = None,
    cwd: Path | None = None,
) -> NodeProcess:
    """Start ``argv`` in its own session with output appended to ``log``; return its record.

    Returns once the new program's command line is visible in /proc (or it has exited), so that
    :func:`alive` can be trusted from the first call.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=cwd,
        )
    node = NodeProcess(name, kind, proc.pid, argv, str(log), dict(ports or {}), health_url)
    _wait_until_exec(proc, node)
    return node


def _wait_until_exec(proc: subprocess.Popen[bytes], node: NodeProcess) -> None:
    """Wait until /proc shows the new program's command line.

    Right after the spawn, while the kernel replaces the child's memory, /proc/PID/cmdline can
    read empty or still show the parent: ``alive`` would then call a starting node dead, and a
    failed ``up`` would leave it running when cleaning up.
    """
    deadline = time.monotonic() + _EXEC_WAIT_SECONDS
    while time.monotonic() < deadline and proc.poll() is None and not alive(node):
        time.sleep(0.005)


def alive(node: NodeProcess) -> bool:
    """True when the recorded pid still runs the recorded program (not a recycled pid)."""
    try:
        stat = Path(f"/proc/{node.pid}/stat").read_text()
        cmdline = Path(f"/proc/{node.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":
        return False  # a zombie has exited; it only awaits its parent
    if not cmdline[0]:
        # For a moment after Popen returns, a running child's cmdline reads empty (measured:
        # within the first millisecond, in most starts): it is ours and it runs.
        return True
    return cmdline[0].decode(errors="replace") == node.argv[0]


def resident_bytes(node: NodeProcess) -> int | None:
    """The node's resident memory in bytes (VmRSS), or None when it is not running."""
    if not alive(node):
        return None
    try:
        for line in Path(f"/proc/{node.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds(node: NodeProcess) -> float | None:
    """CPU time (user + system) the node has used so far, or None when it is not running."""
    if not alive(node):
        return None
    try:
        fields = Path(f"/proc/{node.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3 of stat(5), utime and stime are 14 and 15.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def healthy(node: NodeProcess, timeout: float = 2.0) -> bool:
    """True when the node's /healthz answers 200 (nodes without a health URL: when alive)."""
    if not alive(node):
        return False
    if node.health_url is None:
        return True
    try:
        with urllib.request.urlopen(node.health_url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_healthy(node: NodeProcess, timeout: float) -> None:
    """Wait until the node is healthy; raise NetworkError with its log tail if it dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(node):
            raise NetworkError(
                f"{node.name} exited while starting; last log lines:\n{log_tail(node)}"
            )
        if healthy(node):
            return
        time.sleep(0.2)
    raise NetworkError(
        f"{node.name} did not become healthy within {timeout:.0f}s;"
        f" last log lines:\n{log_tail(node)}"
    )


def wait_listening(node: NodeProcess, host: str, port: int, timeout: float) -> None:
    """Wait until the node accepts TCP connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(node):
            raise NetworkError(
                f"{node.name} exited while starting; last log lines:\n{log_tail(node)}"
            )
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise NetworkError(f"{node.name} is not listening on {host}:{port} after {timeout:.0f}s")


def log_tail(node: NodeProcess, lines: int = 15) -> str:
    """The last lines of the node's log, for error messages."""
    try:
        text = Path(node.log).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def stop(node: NodeProcess, grace: float = 10.0) -> bool:
    """Stop the node (SIGTERM, then SIGKILL after ``grace``); True if it was running.

    Nodes are started as session leaders, so the signal goes to their process group (a peer's
    children go with it); a process that leads no group gets the signal alone.
    """
    if not alive(node):
        return False
    _signal(node.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(node):
            _reap(node.pid)
            return True
        time.sleep(0.1)
    _signal(node.pid, signal.SIGKILL)
    _reap(node.pid)
    return True


def kill(node: NodeProcess, timeout: float = 10.0) -> None:
    """Crash the node: SIGKILL to its process group, no chance to clean up; wait until gone.

    Raises NetworkError when it was not running, or is still there after ``timeout``.
    """
    if not alive(node):
        raise NetworkError(f"{node.name} (pid {node.pid}) is not running")
    _signal(node.pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while alive(node):
        if time.monotonic() > deadline:
            raise NetworkError(f"{node.name} (pid {node.pid}) survived SIGKILL for {timeout:.0f}s")
        _reap(node.pid)
        time.sleep(0.05)
    _reap(node.pid)


def _signal(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def save(path: Path, nodes: list[NodeProcess]) -> None:
    """Record the started processes atomically."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(n) for n in nodes], indent=2))
    tmp.replace(path)


def load(path: Path) -> list[NodeProcess]:
    """Read the recorded processes (an empty list when none were recorded)."""
    if not path.is_file():
        return []
    try:
        return [NodeProcess(**item) for item in json.loads(path.read_text())]
    except (ValueError, TypeError) as exc:
        raise NetworkError(f"{path} is not a valid process record: {exc}") from exc
