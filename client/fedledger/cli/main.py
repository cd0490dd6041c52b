"""The `fedledger` command: parse arguments, run one command, turn library errors into messages."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from fedledger.cli import (
    audit_cmd,
    coordinator_cmd,
    dashboard_cmd,
    enrich_cmd,
    ledger_cmd,
    model_cmd,
    network_cmd,
    prediction_cmd,
    simulate,
    task_cmd,
    token_cmd,
    training_cmd,
)
from fedledger.cli.paths import resolve_paths
from fedledger.errors import ContractError, FedLedgerError


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; leaf commands accept --org, --user, --state and (but for the demo
    and the simulation, whose --json names a file) --json."""
    identity = argparse.ArgumentParser(add_help=False)
    identity.add_argument("--org", default=argparse.SUPPRESS, help="organisation (default Org1)")
    identity.add_argument(
        "--user", default=argparse.SUPPRESS, help="user of the org (default User1)"
    )
    identity.add_argument(
        "--state",
        default=argparse.SUPPRESS,
        help="network state folder (default .fedledger/network)",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[identity])
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON instead of text for people",
    )
    parser = argparse.ArgumentParser(
        prog="fedledger",
        parents=[common],
        description="Privacy-preserving federated deep learning on Hyperledger Fabric.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    network_cmd.add_parser(sub, common)
    query = ledger_cmd.add_parsers(sub, common)
    training_cmd.add_parsers(sub, common, query, identity)
    token_cmd.add_parsers(sub, common)
    coordinator_cmd.add_parsers(sub, common)
    prediction_cmd.add_parsers(sub, common)
    enrich_cmd.add_parsers(sub, common, query)
    task_cmd.add_parsers(sub, common)
    audit_cmd.add_parsers(sub, common, query)
    model_cmd.add_parsers(sub, common)
    dashboard_cmd.add_parsers(sub, common)
    simulate.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.json = getattr(args, "json", False)
    args.org = getattr(args, "org", "Org1")
    args.user = getattr(args, "user", "User1")
    paths = resolve_paths(getattr(args, "state", None))
    try:
        return int(args.func(paths, args))
    except ContractError as exc:
        _fail(args, "rejected by the chaincode", exc.message, tx_id=exc.tx_id)
    except FedLedgerError as exc:
        _fail(args, type(exc).__name__, str(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 1


def _fail(args: argparse.Namespace, kind: str, message: str, *, tx_id: str = "") -> None:
    if args.json:
        print(json.dumps({"error": kind, "message": message, "tx_id": tx_id or None}))
    suffix = f" (transaction {tx_id})" if tx_id else ""
    print(f"fedledger: {kind}: {message}{suffix}", file=sys.stderr)
    raise SystemExit(2)


if __name__ == "__main__":
    sys.exit(main())
