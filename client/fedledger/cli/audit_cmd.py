"""Admin queries: `query tasks|aggregate|update|advertisement` and `fedledger events`.

The encrypted vectors the ledger stores (an aggregate, an update) are base64 text in their
records; ``--out FILE`` writes the decoded bytes, whose SHA-256 is the record's ``digest`` (the
chaincode hashes exactly those bytes), so anyone can check a file with ``sha256sum FILE``.

`fedledger events` prints the chaincode's events from ``--from-block`` (default 0: the whole
history). With ``--follow`` it keeps streaming, and when the stream breaks it resumes from the
block of the last event it printed, skipping the events of that block it already printed, so
nothing is lost or shown twice. ``--checkpoint FILE`` keeps that block (and the events of it
already printed) in a file, so a later run resumes exactly where the previous one stopped.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from fedledger.cli import ledger_cmd
from fedledger.cli.output import emit_json, progress, say, table
from fedledger.cli.paths import Paths
from fedledger.contract import parties, training
from fedledger.errors import FedLedgerError, LedgerError
from fedledger.ledger.events import EventCursor, event_json
from fedledger.ledger.interface import ChaincodeEvent
from fedledger.protocol.task_requests import TaskListing
from fedledger.protocol.training import DEFAULT_PAGE_SIZE

RECONNECT_SECONDS = 1.0


def add_parsers(
    sub: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    qsub: argparse._SubParsersAction,
) -> None:
    qt = qsub.add_parser("tasks", parents=[common], help="training tasks, one page at a time")
    qt.add_argument("--participant", default=None, help="only tasks listing this party id")
    qt.add_argument("--page-size", type=int, default=None, help="tasks per page (1..100)")
    qt.add_argument("--bookmark", default=None, help="the next page's bookmark a page printed")
    qt.add_argument("--all", action="store_true", help="read every page")
    qt.set_defaults(func=cmd_query_tasks)
    qa = qsub.add_parser(
        "aggregate", parents=[common], help="a round's stored aggregate (AggregateGradientsOutput)"
    )
    _round_args(qa)
    qa.add_argument("--out", default=None, help="write the aggregate's bytes to FILE")
    qa.set_defaults(func=cmd_query_aggregate)
    qu = qsub.add_parser("update", parents=[common], help="one party's encrypted update")
    _round_args(qu)
    qu.add_argument("--party", required=True)
    qu.add_argument("--out", default=None, help="write the update's bytes to FILE")
    qu.set_defaults(func=cmd_query_update)
    qd = qsub.add_parser("advertisement", parents=[common], help="one advertisement")
    qd.add_argument("id")
    qd.set_defaults(func=cmd_query_advertisement)

    ev = sub.add_parser("events", parents=[common], help="print the chaincode's events")
    ev.add_argument("--from-block", type=int, default=None, help="first block (default 0)")
    ev.add_argument("--follow", action="store_true", help="keep streaming new events")
    ev.add_argument(
        "--checkpoint",
        default=None,
        metavar="FILE",
        help="resume from the block this file records and record the last block seen in it",
    )
    ev.add_argument(
        "--wait",
        type=float,
        default=5.0,
        help="without --follow: seconds to read before stopping (default 5)",
    )
    ev.set_defaults(func=cmd_events)


def _round_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True)
    parser.add_argument("--round", type=int, required=True)


def cmd_query_tasks(paths: Paths, args: argparse.Namespace) -> int:
    participant = args.participant or None
    page_size = DEFAULT_PAGE_SIZE if args.page_size is None else args.page_size
    bookmark = args.bookmark
    tasks: list[dict[str, Any]] = []
    with ledger_cmd.contract_for(paths, args) as contract:
        while True:
            listing = TaskListing(participant, page_size, bookmark)
            page = training.list_task_page(contract, listing)
            tasks.extend(summary.to_dict() for summary in page.tasks)
            bookmark = page.bookmark
            if not args.all or bookmark is None:
                break
    if args.json:
        emit_json({"tasks": tasks, "bookmark": bookmark})
        return 0
    table(
        ["task", "model", "status", "rounds", "t", "quorum", "participants", "approved"],
        [
            (t["id"], t["model"], t["status"], t["rounds"], t["threshold"], t["quorum"],
             len(t["participants"]), len(t["approvals"]))
            for t in tasks
        ],
    )  # fmt: skip
    if bookmark is not None:
        say(f"more: --bookmark {bookmark}")
    return 0


def _write_vector(record: dict[str, Any], out: str | None) -> dict[str, Any]:
    """The record without its vector; with ``out``, the vector's bytes written there and checked
    against the record's digest (raises FedLedgerError if they differ)."""
    shown = {k: v for k, v in record.items() if k not in ("vector", "proof")}
    raw = base64.b64decode(record["vector"])
    digest = hashlib.sha256(raw).hexdigest()
    if digest != record["digest"]:
        raise FedLedgerError(
            f"the stored vector hashes to {digest}, its record says {record['digest']}"
        )
    if out is not None:
        Path(out).write_bytes(raw)
        shown["file"] = str(Path(out).resolve())
    return shown


def _say_vector(what: str, shown: dict[str, Any]) -> None:
    say(f"{what}: {shown['size']} bytes, digest {shown['digest']}")
    if "file" in shown:
        say(f"written to {shown['file']}; check it with: sha256sum {shown['file']}")


def cmd_query_aggregate(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        record = training.get_aggregate(contract, args.task, args.round)
    shown = _write_vector(record.to_dict(), args.out)
    if args.json:
        emit_json(shown)
        return 0
    _say_vector(f"aggregate of round {shown['round']} of {shown['task_id']}", shown)
    say(f"{len(shown['contributors'])} contributors, {shown['total_samples']} samples, closed "
        f"in transaction {shown['closed_tx']}")  # fmt: skip
    for party in shown["contributors"]:
        say(f"  {party}")
    return 0


def cmd_query_update(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        update = training.get_update(contract, args.task, args.round, args.party)
    shown = _write_vector(update.to_dict(), args.out)
    if args.json:
        emit_json(shown)
        return 0
    _say_vector(f"update of {shown['party']} in round {shown['round']}", shown)
    say(f"{shown['samples']} samples, submitted in transaction {shown['submitted_tx']}")
    return 0


def cmd_query_advertisement(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        ad = parties.get_advertisement(contract, args.id)
    if args.json:
        emit_json(ad.to_dict())
        return 0
    say(f"{ad.id} by {ad.owner_party} ({ad.status}, version {ad.version})")
    say(f"{ad.samples} samples: {ad.description}; goal: {ad.goal}")
    if ad.labels:
        say("labels: " + ", ".join(f"{k}: {v}" for k, v in ad.labels.items()))
    return 0


Seen = set[tuple[int, str, str]]


def _read_checkpoint(path: str | None) -> tuple[int, Seen] | None:
    """The block to resume from and the events of it already printed, or None without a file."""
    if path is None or not Path(path).is_file():
        return None
    try:
        raw = json.loads(Path(path).read_text())
        block = int(raw["block"])
        return block, {(block, str(tx), str(name)) for tx, name in raw["printed"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FedLedgerError(f"{path} is not an events checkpoint: {exc}") from None


def _write_checkpoint(path: str, block: int, printed: Seen) -> None:
    seen = sorted([tx, name] for _, tx, name in printed)
    temporary = Path(path + ".tmp")
    temporary.write_text(json.dumps({"block": block, "printed": seen}) + "\n")
    temporary.replace(path)


def cmd_events(paths: Paths, args: argparse.Namespace) -> int:
    resumed = _read_checkpoint(args.checkpoint)
    start, printed = resumed or (args.from_block or 0, set())
    if start < 0:
        raise FedLedgerError(f"--from-block must be at least 0, got {start}")
    cursor = EventCursor(start, printed)
    with ledger_cmd.contract_for(paths, args) as contract:
        while True:
            try:
                timeout = None if args.follow else args.wait
                for event in contract.events(cursor.block, timeout=timeout):
                    if not cursor.take(event):
                        continue
                    _print_event(args, event)
                    if args.checkpoint:
                        _write_checkpoint(args.checkpoint, event.block_number, cursor.seen)
            except LedgerError as exc:
                if not args.follow:
                    raise
                progress(f"event stream broke ({exc}); resuming from block {cursor.block}")
                time.sleep(RECONNECT_SECONDS)
                continue
            if not args.follow:
                return 0


def _print_event(args: argparse.Namespace, event: ChaincodeEvent) -> None:
    if args.json:
        print(json.dumps(event_json(event)), flush=True)
        return
    payload = event.payload.decode("utf-8", "replace")
    shown = payload if len(payload) <= 120 else payload[:119] + "…"
    say(f"block {event.block_number}  {event.name}  tx {event.tx_id[:12]}  {shown}")
