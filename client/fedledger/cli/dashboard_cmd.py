"""`fedledger dashboard`: the read-only audit web view, served on 127.0.0.1 by default.

It reads through the ``--org``/``--user`` identity (an admin of one org), so it shows what
that org's peer shows. The application is :mod:`fedledger.dashboard.app` (Starlette), served
by uvicorn; both come with fedledger's ``dashboard`` extra.
"""

from __future__ import annotations

import argparse

from fedledger.cli import ledger_cmd
from fedledger.cli.output import say
from fedledger.cli.paths import Paths
from fedledger.errors import FedLedgerError


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    dash = sub.add_parser(
        "dashboard", parents=[common], help="serve the read-only audit web view of the ledger"
    )
    dash.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    dash.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    dash.set_defaults(func=cmd_dashboard)


def cmd_dashboard(paths: Paths, args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from fedledger.dashboard.app import create_app
    except ImportError as exc:
        raise FedLedgerError(
            f"the dashboard needs fedledger's 'dashboard' extra (starlette, uvicorn): {exc}"
        ) from None
    with ledger_cmd.contract_for(paths, args) as contract:
        app = create_app(contract, org=args.org)
        say(f"audit view of the ledger as {args.org}/{args.user}: http://{args.host}:{args.port}/")
        # Open event streams never end by themselves: give them 2 s after Ctrl-C, then close.
        uvicorn.run(
            app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2
        )
    return 0
