"""A test-only contract module driving the escrow API as the enrichment and prediction modules will.

``EscrowScript(steps_json)`` runs a list of steps in ONE transaction, through one
``token_movements`` block, so tests can touch the same account several times per transaction:

    ["fund", ref, party, amount]            party → escrow:test:<ref>
    ["fund_pro_rata", ref, total, weights]  parties → escrow, split over {party: weight}
    ["pay", ref, party, amount]             escrow → party
    ["pay_pro_rata", ref, total, weights]   escrow → parties, split over {party: weight}
    ["refund", ref]                         the rest of the escrow → its funders pro rata
    ["transfer", sender, recipient, amount] party → party (no caller check: a test rule)

It returns, and sets as its event ``EscrowScript``, ``{"results": [...], "transfers", "balances"}``.
``EscrowOpenTwice`` opens the movements twice in one transaction, which the API must refuse.
Registered only by ``token_helpers.escrow_ledger``, never by the production contract.
"""

from __future__ import annotations

from typing import Any

from fedledger.protocol.canonical import parse_array
from fedledger.protocol.tokens import escrow_account
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.credits.movements import Movements, token_movements

KIND = "test"
EVENT = "EscrowScript"


async def _step(book: Movements, step: list[Any]) -> Any:
    op, *args = step
    if op == "transfer":
        return await book.transfer(*args)
    account = escrow_account(KIND, args[0])
    if op == "fund":
        return await book.fund(account, args[1], args[2])
    if op == "fund_pro_rata":
        return await book.fund_pro_rata(account, args[1], args[2])
    if op == "pay":
        return await book.pay(account, args[1], args[2])
    if op == "pay_pro_rata":
        return await book.pay_pro_rata(account, args[1], args[2])
    if op == "refund":
        return await book.refund(account)
    raise ValueError(f"unknown step {op!r}")


async def escrow_script(ctx: TransactionContext, steps_json: str) -> bytes:
    """EscrowScript: run the steps in one transaction (module docstring)."""
    steps = parse_array(steps_json, "argument 1")
    async with token_movements(ctx) as book:
        results = [await _step(book, step) for step in steps]
        book.announce(EVENT, {"results": results})
    return book.payload


async def open_twice(ctx: TransactionContext) -> bytes:
    """EscrowOpenTwice: two movement blocks in one transaction (must fail)."""
    async with token_movements(ctx):
        pass
    async with token_movements(ctx):
        pass
    return b"{}"


def register(router: Router) -> None:
    """Route the test-only escrow transactions."""
    router.add("EscrowScript", escrow_script)
    router.add("EscrowOpenTwice", open_twice)
