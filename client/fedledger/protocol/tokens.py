"""Credits, the ledger's fungible token: accounts, amounts, stored records and the Transfer event.

Accounts. A *party account* is a registered party's id (``<MSP id>/<fingerprint>``, see
:mod:`fedledger.protocol.assets`). An *escrow account* is ``escrow:<kind>:<ref>`` — e.g.
``escrow:plan:plan-1f…`` for an enrichment plan, ``escrow:request:req-9a…`` for a prediction
request — and has no identity behind it: it contains no ``/``, so it can never be a party id, and
no transaction takes an account to spend from, so only the contract's rules move its credits.

Amounts are whole credits (``decimals`` 0), positive, at most ``MAX_INT64``; so is the total
supply, which bounds every balance. Arguments carry an amount as JSON integer text (``"25"``).

Stored records (canonical JSON)::

    TokenBalance (party id)      {"account", "balance"}
    TokenEscrow  (kind, ref)     {"account", "balance", "funded": {party id: credits paid in}}
    TokenSupply  ()              {"total_supply"}

The event. Fabric keeps one chaincode event per transaction, so every movement a transaction
makes is listed in that one event: ``Mint`` and ``Transfer`` set the event ``Transfer`` with
payload ``{"transfers": [{"from", "to", "value"}, ...], "balances": {account: balance after}}``
(``from`` is ``"0x0"`` for a mint, as in the ERC-20 convention). A transaction of another module
that moves credits sets its own event and adds the same two fields to its payload, so one reader
(:func:`parse_transfer_event`) follows every movement whatever the event is called.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedledger.protocol.canonical import loads, quote, show
from fedledger.protocol.codec import Record
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import MAX_INT64, check_fields, read_int

__all__ = [
    "BALANCE_TYPE",
    "DEFAULT_MINTER_MSP",
    "ESCROW_PREFIX",
    "ESCROW_TYPE",
    "MINT_SOURCE",
    "SUPPLY_TYPE",
    "TOKEN_DECIMALS",
    "TOKEN_NAME",
    "TOKEN_SYMBOL",
    "TRANSFER_EVENT",
    "MintReceipt",
    "Movement",
    "TokenAudit",
    "TokenInfo",
    "TransferEvent",
    "escrow_account",
    "is_escrow_account",
    "parse_amount",
    "parse_credits",
    "parse_escrow_account",
    "parse_mint_receipt",
    "parse_minter_msp",
    "parse_transfer_event",
]

TOKEN_NAME = "fedledger credits"
TOKEN_SYMBOL = "FLC"
TOKEN_DECIMALS = 0
DEFAULT_MINTER_MSP = "Org1MSP"
MINT_SOURCE = "0x0"
TRANSFER_EVENT = "Transfer"
BALANCE_TYPE = "TokenBalance"
ESCROW_TYPE = "TokenEscrow"
SUPPLY_TYPE = "TokenSupply"
ESCROW_PREFIX = "escrow:"

_ESCROW_KIND = re.compile(r"[a-z][a-z0-9-]{0,31}")
_ESCROW_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MSP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def escrow_account(kind: str, ref: str) -> str:
    """Return the escrow account ``escrow:<kind>:<ref>``.

    ``kind`` names what the escrow belongs to (``plan``, ``request``: lowercase letters, digits
    and ``-``), ``ref`` its id (letters, digits, ``.``, ``_``, ``-``, at most 128). Raises
    ``ProtocolError`` naming the part that does not fit.
    """
    if not isinstance(kind, str) or not _ESCROW_KIND.fullmatch(kind):
        raise ProtocolError(f"escrow kind must be a lowercase word, got {show(kind)}")
    if not isinstance(ref, str) or not _ESCROW_REF.fullmatch(ref):
        raise ProtocolError(f"escrow reference must be a plain id, got {show(ref)}")
    return f"{ESCROW_PREFIX}{kind}:{ref}"


def is_escrow_account(text: str) -> bool:
    """True when ``text`` is spelled as an escrow account (it may still be malformed)."""
    return text.startswith(ESCROW_PREFIX)


def parse_escrow_account(text: str) -> tuple[str, str]:
    """Split an escrow account into (kind, ref).

    Raises ``ProtocolError`` "escrow account must look like escrow:<kind>:<ref>, got "x"".
    """
    kind, _, ref = text.removeprefix(ESCROW_PREFIX).partition(":")
    if not is_escrow_account(text) or not _ESCROW_KIND.fullmatch(kind):
        raise ProtocolError(f"escrow account must look like escrow:<kind>:<ref>, got {show(text)}")
    if not _ESCROW_REF.fullmatch(ref):
        raise ProtocolError(f"escrow account must look like escrow:<kind>:<ref>, got {show(text)}")
    return kind, ref


def parse_amount(text: str, what: str = "amount") -> int:
    """Parse an amount argument: JSON integer text for 1 to ``MAX_INT64`` credits.

    Returns the amount. Raises ``ProtocolError``: "amount must be a JSON integer: <reason>",
    "amount must be a positive integer, got 1.5" (also for 0, -3, true, "7"), "amount must be at
    most 9223372036854775807, got …".
    """
    try:
        value = loads(text)
    except ProtocolError as exc:
        raise ProtocolError(f"{what} must be a JSON integer: {exc}") from None
    return read_int(value, what, minimum=1, maximum=MAX_INT64)


def parse_minter_msp(text: str) -> str:
    """Return ``text`` if it can be an MSP id; raises ``ProtocolError`` "minter MSP id …"."""
    if not isinstance(text, str) or not _MSP_ID.fullmatch(text):
        raise ProtocolError(
            f"the minter MSP id must be letters, digits, '.', '_' or '-', got {show(text)}"
        )
    return text


@dataclass(frozen=True)
class TokenInfo(Record):
    """What TokenInfo answers: the token's name, symbol, decimals and minter organisation."""

    NAME = "token info"

    name: str
    symbol: str
    decimals: int
    minter_msp: str


@dataclass(frozen=True)
class TokenAudit(Record):
    """What TokenAudit answers: the supply and every party's and escrow's balance."""

    NAME = "token audit"

    total_supply: int
    balances: dict[str, int]
    escrows: dict[str, int]


def parse_credits(payload: bytes | str, what: str) -> int:
    """Read a count of credits answered as a JSON integer (BalanceOf, TotalSupply).

    Returns it. Raises ``ProtocolError`` "<what> must be a non-negative integer, got …".
    """
    try:
        value = loads(payload)
    except ProtocolError as exc:
        raise ProtocolError(f"{what} is not valid JSON: {exc}") from None
    return read_int(value, what, minimum=0)


@dataclass(frozen=True)
class Movement:
    """``value`` credits moved from account ``source`` to account ``target`` (JSON from/to)."""

    source: str
    target: str
    value: int

    def to_json(self) -> dict[str, Any]:
        """The movement as it appears in an event: ``{"from", "to", "value"}``."""
        return {"from": self.source, "to": self.target, "value": self.value}


@dataclass(frozen=True)
class TransferEvent:
    """The credits part of a transaction's event: its movements and the balances they left."""

    transfers: tuple[Movement, ...]
    balances: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        """``{"transfers": [...], "balances": {...}}``, the fields an event payload carries."""
        return {
            "transfers": [m.to_json() for m in self.transfers],
            "balances": dict(self.balances),
        }


def _read_movement(value: Any, index: int) -> Movement:
    what = f"transfers[{index}]"
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} must be an object, got {show(value)}")
    check_fields(value, what, required=("from", "to", "value"))
    for field in ("from", "to"):
        if not isinstance(value[field], str) or not value[field]:
            raise ProtocolError(f"{what}.{field} must be an account, got {show(value[field])}")
    amount = read_int(value["value"], f"{what}.value", minimum=1)
    return Movement(value["from"], value["to"], amount)


def parse_transfer_event(payload: bytes | str | Mapping[str, Any]) -> TransferEvent:
    """Read the ``transfers`` and ``balances`` of an event payload (other fields are ignored).

    Returns the event's movements in the order they happened. Raises ``ProtocolError`` when the
    payload is not a JSON object or the two fields are missing or malformed.
    """
    obj = payload if isinstance(payload, Mapping) else loads(payload)
    if not isinstance(obj, Mapping):
        raise ProtocolError(f"a transfer event must be a JSON object, got {show(obj)}")
    for field in ("transfers", "balances"):
        if field not in obj:
            raise ProtocolError(f"the event payload has no field {quote(field)}")
    if not isinstance(obj["transfers"], list):
        raise ProtocolError(f"transfers must be an array, got {show(obj['transfers'])}")
    if not isinstance(obj["balances"], dict):
        raise ProtocolError(f"balances must be an object, got {show(obj['balances'])}")
    transfers = tuple(_read_movement(m, i) for i, m in enumerate(obj["transfers"]))
    balances = {
        account: read_int(value, f"balances[{show(account)}]", minimum=0)
        for account, value in obj["balances"].items()
    }
    return TransferEvent(transfers, balances)


@dataclass(frozen=True)
class MintReceipt:
    """What Mint answers: its movement and the balance it left, and the new total supply."""

    event: TransferEvent
    total_supply: int

    def to_json(self) -> dict[str, Any]:
        """``{"total_supply", "transfers", "balances"}``, as the chaincode answers."""
        return {"total_supply": self.total_supply, **self.event.to_json()}


def parse_mint_receipt(payload: bytes | str) -> MintReceipt:
    """Read Mint's answer. Raises ``ProtocolError`` as :func:`parse_transfer_event`, or for a
    missing or malformed ``total_supply``."""
    obj = loads(payload)
    event = parse_transfer_event(obj)
    supply = read_int(obj.get("total_supply"), "total_supply", minimum=0)
    return MintReceipt(event, supply)
