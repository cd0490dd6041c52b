"""Credits: Mint, Transfer, BalanceOf, TotalSupply, TokenInfo, TokenAudit."""

from __future__ import annotations

from fedledger.ledger.interface import Contract
from fedledger.protocol.tokens import (
    MintReceipt,
    TokenAudit,
    TokenInfo,
    TransferEvent,
    parse_credits,
    parse_mint_receipt,
    parse_transfer_event,
)

__all__ = ["balance_of", "mint", "token_audit", "token_info", "total_supply", "transfer"]


def mint(contract: Contract, recipient: str, amount: int) -> MintReceipt:
    """Create ``amount`` credits for ``recipient`` (minter organisation only); returns the
    movement, the balance it left and the new total supply."""
    return parse_mint_receipt(contract.submit("Mint", recipient, str(amount)))


def transfer(contract: Contract, recipient: str, amount: int) -> TransferEvent:
    """Move ``amount`` of the caller's credits to ``recipient``; returns the movement."""
    return parse_transfer_event(contract.submit("Transfer", recipient, str(amount)))


def balance_of(contract: Contract, account: str) -> int:
    """The credits of a registered party or an escrow account."""
    return parse_credits(contract.evaluate("BalanceOf", account), "balance")


def total_supply(contract: Contract) -> int:
    """Every credit ever minted."""
    return parse_credits(contract.evaluate("TotalSupply"), "total supply")


def token_info(contract: Contract) -> TokenInfo:
    """The token's name, symbol, decimals and minter organisation."""
    return TokenInfo.from_bytes(contract.evaluate("TokenInfo"))


def token_audit(contract: Contract) -> TokenAudit:
    """The supply and every balance and escrow (reads every account; for audits and tests)."""
    return TokenAudit.from_bytes(contract.evaluate("TokenAudit"))
