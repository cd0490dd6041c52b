"""`fedledger token mint|transfer|balance|supply|audit`: the credits token, as one identity."""

from __future__ import annotations

import argparse

from fedledger.cli import ledger_cmd
from fedledger.cli.output import answer, emit_json, say, table
from fedledger.cli.paths import Paths
from fedledger.contract import credits
from fedledger.protocol.assets import party_id
from fedledger.protocol.tokens import parse_amount


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``token`` and its sub-commands."""
    token = sub.add_parser("token", help="credits: mint, transfer, balances, supply")
    tsub = token.add_subparsers(dest="token_command", required=True)
    mint = tsub.add_parser("mint", parents=[common], help="create credits (minter org only)")
    _movement_args(mint, "the registered party that receives the new credits")
    mint.set_defaults(func=cmd_mint)
    transfer = tsub.add_parser("transfer", parents=[common], help="pay credits to a party")
    _movement_args(transfer, "the registered party to pay")
    transfer.set_defaults(func=cmd_transfer)
    balance = tsub.add_parser("balance", parents=[common], help="credits of a party or escrow")
    balance.add_argument(
        "--party",
        default=None,
        metavar="ACCOUNT",
        help="a party id or an escrow account (default: this identity)",
    )
    balance.set_defaults(func=cmd_balance)
    supply = tsub.add_parser("supply", parents=[common], help="every credit ever minted")
    supply.set_defaults(func=cmd_supply)
    audit = tsub.add_parser(
        "audit", parents=[common], help="every balance and escrow, checked against the supply"
    )
    audit.set_defaults(func=cmd_audit)


def _movement_args(parser: argparse.ArgumentParser, to_help: str) -> None:
    parser.add_argument("--to", required=True, metavar="PARTY_ID", help=to_help)
    parser.add_argument("--amount", required=True, metavar="N", help="whole credits, 1 to 2^63-1")


def cmd_mint(paths: Paths, args: argparse.Namespace) -> int:
    amount = parse_amount(args.amount, "--amount")  # the chaincode's own rule, before a round trip
    with ledger_cmd.contract_for(paths, args) as contract:
        result = credits.mint(contract, args.to, amount)
    if args.json:
        emit_json(result.to_json())
    else:
        [moved] = result.event.transfers
        say(
            f"minted {moved.value} credits to {moved.target}, which now holds "
            f"{result.event.balances[moved.target]}; total supply {result.total_supply}"
        )
    return 0


def cmd_transfer(paths: Paths, args: argparse.Namespace) -> int:
    amount = parse_amount(args.amount, "--amount")
    with ledger_cmd.contract_for(paths, args) as contract:
        result = credits.transfer(contract, args.to, amount)
    if args.json:
        emit_json(result.to_json())
    else:
        [moved] = result.transfers
        balances = result.balances
        say(
            f"transferred {moved.value} credits to {moved.target}; your balance is now "
            f"{balances[moved.source]}, theirs {balances[moved.target]}"
        )
    return 0


def cmd_balance(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        me = contract.identity
        account = args.party or party_id(me.msp_id, me.certificate_pem)
        balance = credits.balance_of(contract, account)
    answer(args.json, {"account": account, "balance": balance}, f"{account}: {balance} credits")
    return 0


def cmd_supply(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        supply = credits.total_supply(contract)
    answer(args.json, {"total_supply": supply}, f"total supply: {supply} credits")
    return 0


def cmd_audit(paths: Paths, args: argparse.Namespace) -> int:
    with ledger_cmd.contract_for(paths, args) as contract:
        state = credits.token_audit(contract)
    held = sum(state.balances.values())
    escrowed = sum(state.escrows.values())
    conserved = state.total_supply == held + escrowed
    if args.json:
        emit_json({**state.to_dict(), "conserved": conserved})
        return 0 if conserved else 1
    rows = [(a, "balance", n) for a, n in state.balances.items()]
    rows += [(a, "escrow", n) for a, n in state.escrows.items()]
    table(["account", "kind", "credits"], rows)
    verdict, sign = ("conserved", "=") if conserved else ("NOT CONSERVED", "!=")
    say(f"{verdict}: supply {state.total_supply} {sign} balances {held} + escrows {escrowed}")
    return 0 if conserved else 1
