"""Presentation: tables and sentences for people, JSON on request."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import Any, TextIO


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    print(json.dumps(value, indent=2, sort_keys=True))


def say(message: str) -> None:
    """A line for people on stdout."""
    print(message, flush=True)


def answer(as_json: bool, value: Any, sentence: str) -> None:
    """Print ``value`` as JSON when ``as_json`` (the command's ``--json``), else ``sentence``."""
    if as_json:
        emit_json(value)
    else:
        say(sentence)


def progress(message: str) -> None:
    """A progress line on stderr, so stdout stays clean for JSON."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print an aligned plain-text table."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def log_steps_to(stream: TextIO) -> None:
    """Send fedledger's step log (roles, gateway retries) to ``stream``, with millisecond times."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(name)s %(message)s", datefmt="%H:%M:%S")
    )
    logger = logging.getLogger("fedledger")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
