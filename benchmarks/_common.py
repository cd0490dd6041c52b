"""What every benchmark script shares: its command line's start and its closing JSON line."""

from __future__ import annotations

import argparse
import json
from typing import Any

JSON_HELP = "end with one JSON line"


def benchmark_parser(doc: str | None, json_help: str = JSON_HELP) -> argparse.ArgumentParser:
    """Return a parser described by the first line of the script's docstring ``doc``, with the
    ``--json`` flag every benchmark takes (its ``json_help`` says where the JSON goes)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--json", action="store_true", help=json_help)
    return parser


def print_json(wanted: bool, result: Any, *, sort_keys: bool = False) -> None:
    """Print ``result`` as one JSON line when ``wanted`` (the script's ``--json``)."""
    if wanted:
        print(json.dumps(result, sort_keys=sort_keys))
