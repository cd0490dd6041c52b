"""Credits transactions in the style of fabric-samples' ERC-20 token: Mint, Transfer, BalanceOf,
TotalSupply, plus TokenInfo and TokenAudit.

- ``Mint(recipient, amount)``: only identities of the minter organisation (the contract setting
  ``minter_msp``, :mod:`fedledger_chaincode.core.config`) create credits, for a registered party.
- ``Transfer(recipient, amount)``: the registered caller pays a registered party other than
  itself. There is no transaction that names an account to spend from, so nobody spends from an
  escrow account or from another party's balance.
- ``amount`` is JSON integer text, 1 to 2^63-1 (:func:`fedledger.protocol.tokens.parse_amount`).
- Both return, and set as the event ``Transfer``, ``{"transfers", "balances"}`` (Mint adds
  ``total_supply``); see :mod:`fedledger.protocol.tokens`.
- ``BalanceOf(account)`` (a party or an escrow account) and ``TotalSupply()`` return a JSON
  integer; ``TokenAudit()`` returns every balance and escrow with the total supply, so anyone can
  check that the supply equals their sum.
"""

from __future__ import annotations

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.tokens import (
    BALANCE_TYPE,
    ESCROW_TYPE,
    SUPPLY_TYPE,
    TOKEN_DECIMALS,
    TOKEN_NAME,
    TOKEN_SYMBOL,
    TRANSFER_EVENT,
    TokenAudit,
    TokenInfo,
    is_escrow_account,
    parse_amount,
)
from fedledger_chaincode.core.context import TransactionContext
from fedledger_chaincode.core.parties import party_key, require_registered_caller
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.credits.movements import (
    read_accounts,
    read_balance,
    read_total_supply,
    token_movements,
)

__all__ = ["register"]


async def mint(ctx: TransactionContext, recipient: str, amount: str) -> bytes:
    """Mint: create ``amount`` credits for ``recipient``; minter organisation only.

    Raises ``ProtocolError``: the amount messages, "only identities of the minter organisation
    Org1MSP may mint credits; the caller belongs to Org2MSP", "recipient X is not a registered
    party", the supply-overflow message.
    """
    value = parse_amount(amount)
    minter = ctx.config.minter_msp
    if ctx.creator.msp_id != minter:
        raise ProtocolError(
            f"only identities of the minter organisation {minter} may mint credits; "
            f"the caller belongs to {ctx.creator.msp_id or 'no MSP'}"
        )
    async with token_movements(ctx) as book:
        await book.mint(recipient, value)
        book.announce(TRANSFER_EVENT, {"total_supply": await book.total_supply()})
    return book.payload


async def transfer(ctx: TransactionContext, recipient: str, amount: str) -> bytes:
    """Transfer: move ``amount`` of the caller's credits to ``recipient``.

    Raises ``ProtocolError``: the amount messages, an unregistered caller or recipient, "cannot
    transfer credits to yourself (X)", "insufficient balance: X has 3 credits, needs 5", or the
    escrow-account message when ``recipient`` is an escrow.
    """
    value = parse_amount(amount)
    sender = (await require_registered_caller(ctx)).id
    async with token_movements(ctx) as book:
        await book.transfer(sender, recipient, value)
    return book.payload


async def balance_of(ctx: TransactionContext, account: str) -> bytes:
    """BalanceOf: the credits of a registered party or an escrow account, as a JSON integer.

    Raises ``ProtocolError`` for a malformed account or "party X is not registered".
    """
    if not is_escrow_account(account):
        msp_id, fingerprint = parse_party_id(account)
        if not await ctx.get_state(party_key(msp_id, fingerprint)):
            raise ProtocolError(f"party {account} is not registered")
    return dumps(await read_balance(ctx, account))


async def total_supply(ctx: TransactionContext) -> bytes:
    """TotalSupply: every credit ever minted, as a JSON integer."""
    return dumps(await read_total_supply(ctx))


async def token_info(ctx: TransactionContext) -> bytes:
    """TokenInfo: ``{"name", "symbol", "decimals", "minter_msp"}``."""
    return TokenInfo(TOKEN_NAME, TOKEN_SYMBOL, TOKEN_DECIMALS, ctx.config.minter_msp).to_bytes()


async def token_audit(ctx: TransactionContext) -> bytes:
    """TokenAudit: ``{"total_supply", "balances": {party: n}, "escrows": {escrow: n}}``.

    Reads every account (a range read over each account type); meant for audits and tests.
    """
    balances, escrows = await read_accounts(ctx)
    supply = await read_total_supply(ctx)
    return TokenAudit(supply, balances, escrows).to_bytes()


def register(router: Router) -> None:
    """Route the credits transactions."""
    for object_type in (BALANCE_TYPE, ESCROW_TYPE, SUPPLY_TYPE):
        router.add_object_type(object_type)
    router.add("Mint", mint)
    router.add("Transfer", transfer)
    router.add("BalanceOf", balance_of)
    router.add("TotalSupply", total_supply)
    router.add("TokenInfo", token_info)
    router.add("TokenAudit", token_audit)
