"""The credits of one transaction: balances, escrow accounts and every movement between them.

This is the only code that reads or writes token state (queries use its ``read_*`` functions).
Contract modules move credits through one :class:`Movements` object per transaction, opened with
:func:`token_movements`::

    async with token_movements(ctx) as book:
        parts = await book.fund_pro_rata(escrow, maximum, samples)  # participants → escrow
        book.announce("PlanActivated", plan)                        # the transaction's event
    return book.payload

Why an object per transaction: inside a Fabric transaction, reads see the committed state, never
the transaction's own pending writes. Two movements touching one account (a participant funding
an escrow twice, an escrow paying a fee and then a share to the same party) would each read the
old balance and the second write would silently undo the first. ``Movements`` reads every account
once, keeps its running balance in memory, and writes each touched account exactly once when the
``async with`` block ends without an exception. A second ``token_movements`` on the same context
raises ``RuntimeError``, so a transaction cannot hold two diverging views of the same balances.

Across transactions, Fabric does the rest: two transactions that read the same account (two
settles of one plan, two spends of one balance) conflict at commit, one is committed and the
other invalidated with MVCC_READ_CONFLICT; rebuilt, it sees the new balances. So a payout
happens exactly once as long as the rule that pays also reads the record saying it is due (the
plan's or the request's status) and marks it paid in the same transaction. Busy accounts (a
participant paid by many prediction receipts at once) therefore see such conflicts and retries.

The API for contract modules (amounts are ``int`` credits; 0 is allowed and moves nothing; a
negative or non-integer amount is a programming error and raises ``ValueError``, which the router
reports as an internal error; rule violations raise ``ProtocolError`` with the client's message):

``await book.balance(account) -> int``
    the account's balance as this transaction has left it so far.
``await book.fund(escrow, funder, amount)``
    move credits from party ``funder`` into ``escrow`` and record them as ``funder``'s
    contribution; "insufficient balance: <party> has 3 credits, needs 5".
``await book.fund_pro_rata(escrow, total, weights) -> {party: part}``
    fund ``total`` split by :func:`~fedledger.protocol.prorata.split_pro_rata` over ``weights``
    (e.g. declared samples); parties are charged in id order, the first one short is named.
``await book.pay(escrow, recipient, amount)``
    move credits out of ``escrow`` to a registered party;
    "insufficient escrow: <escrow> holds 3 credits, cannot pay 5".
``await book.pay_pro_rata(escrow, total, weights) -> {party: part}``
    pay ``total`` out of ``escrow`` split over ``weights`` (checks the whole total first).
``await book.refund(escrow) -> {party: part}``
    return everything left in ``escrow`` to its funders, pro rata to what each paid in.
``book.announce(name, record)``
    the transaction's one event: ``record`` (a dict without ``transfers``/``balances``) plus the
    fields ``transfers`` and ``balances`` (:mod:`fedledger.protocol.tokens`). Without it, a
    transaction that moved credits sets the event ``Transfer``. Do not call ``ctx.set_event``
    yourself in a transaction that moves credits: Fabric keeps only the last event.
``book.payload``
    after the block: the canonical JSON bytes of that event payload.

``mint`` and ``transfer`` also exist, for the token's own transactions (``tokens.py``), which
enforce who may call them. Escrow accounts are named by
:func:`fedledger.protocol.tokens.escrow_account`; an escrow holds credits only while a rule
(its plan, its request) says so, and no transaction lets an identity name an account to spend
from, so nothing but these calls ever takes credits out of one.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fedledger.protocol.assets import parse_party_id
from fedledger.protocol.canonical import dumps
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import MAX_INT64
from fedledger.protocol.prorata import split_pro_rata
from fedledger.protocol.tokens import (
    BALANCE_TYPE,
    ESCROW_TYPE,
    MINT_SOURCE,
    SUPPLY_TYPE,
    TRANSFER_EVENT,
    Movement,
    TransferEvent,
    is_escrow_account,
    parse_escrow_account,
)
from fedledger_chaincode.core.context import TransactionContext, create_composite_key
from fedledger_chaincode.core.parties import party_key

__all__ = [
    "Movements",
    "account_key",
    "read_accounts",
    "read_balance",
    "read_total_supply",
    "supply_key",
    "token_movements",
]

_RESERVED_FIELDS = ("transfers", "balances")


def supply_key() -> str:
    """Return the state key of the total supply."""
    return create_composite_key(SUPPLY_TYPE, ("total",))


def account_key(account: str) -> str:
    """Return the state key of a party account or an escrow account.

    Raises ``ProtocolError`` with the party-id or escrow-account message when malformed.
    """
    if is_escrow_account(account):
        return create_composite_key(ESCROW_TYPE, parse_escrow_account(account))
    parse_party_id(account)
    return create_composite_key(BALANCE_TYPE, (account,))


async def _read_record(ctx: TransactionContext, state_key: str) -> dict[str, Any] | None:
    stored = await ctx.get_state(state_key)
    return json.loads(stored) if stored else None


async def read_balance(ctx: TransactionContext, account: str) -> int:
    """Return the committed balance of ``account`` (0 when it never held credits)."""
    record = await _read_record(ctx, account_key(account))
    return 0 if record is None else int(record["balance"])


async def read_total_supply(ctx: TransactionContext) -> int:
    """Return the committed total supply (0 before the first mint)."""
    record = await _read_record(ctx, supply_key())
    return 0 if record is None else int(record["total_supply"])


async def read_accounts(ctx: TransactionContext) -> tuple[dict[str, int], dict[str, int]]:
    """Return every committed (party balances, escrow balances), each keyed by account."""
    groups: tuple[dict[str, int], dict[str, int]] = ({}, {})
    for object_type, group in zip((BALANCE_TYPE, ESCROW_TYPE), groups, strict=True):
        for _, value in await ctx.get_range(object_type, ()):
            record = json.loads(value)
            group[record["account"]] = int(record["balance"])
    return groups


def _check_amount(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"a token amount must be a non-negative int, got {amount!r}")
    return amount


def _require_escrow(account: str) -> str:
    if not is_escrow_account(account):
        raise ValueError(f"{account!r} is not an escrow account")
    parse_escrow_account(account)
    return account


class Movements:
    """The token state one transaction reads and writes (module docstring)."""

    def __init__(self, ctx: TransactionContext) -> None:
        self._ctx = ctx
        self._balances: dict[str, int] = {}
        self._funded: dict[str, dict[str, int]] = {}
        self._registered: set[str] = set()
        self._supply: int | None = None
        self._minted = False
        self._transfers: list[Movement] = []
        self._event: tuple[str, dict[str, Any]] | None = None
        self._payload: bytes | None = None

    # ------------------------------------------------------------------ reads
    async def balance(self, account: str) -> int:
        """Return ``account``'s balance including this transaction's movements so far."""
        self._check_open()
        if account not in self._balances:
            record = await _read_record(self._ctx, account_key(account))
            self._balances[account] = 0 if record is None else int(record["balance"])
            if is_escrow_account(account):
                self._funded[account] = dict(record["funded"]) if record else {}
        return self._balances[account]

    async def total_supply(self) -> int:
        """Return the total supply including this transaction's mints."""
        self._check_open()
        if self._supply is None:
            self._supply = await read_total_supply(self._ctx)
        return self._supply

    async def _require_party(self, account: str) -> None:
        """Raise unless ``account`` is a registered party (never an escrow account)."""
        if account in self._registered:
            return
        if is_escrow_account(account):
            raise ProtocolError(
                f"{account} is an escrow account; only the contract's rules move credits into it"
            )
        if not await self._ctx.get_state(party_key(*parse_party_id(account))):
            raise ProtocolError(f"recipient {account} is not a registered party")
        self._registered.add(account)

    # ------------------------------------------------------------------ movements
    def _move(self, source: str, target: str, amount: int) -> None:
        if source != MINT_SOURCE:
            self._balances[source] -= amount
        self._balances[target] += amount
        self._transfers.append(Movement(source, target, amount))

    async def _debit_party(self, party: str, amount: int) -> None:
        if is_escrow_account(party):
            raise ProtocolError(
                f"{party} is an escrow account; only the contract's rules move credits out of it"
            )
        have = await self.balance(party)
        if have < amount:
            raise ProtocolError(f"insufficient balance: {party} has {have} credits, needs {amount}")

    async def _debit_escrow(self, escrow: str, amount: int) -> None:
        have = await self.balance(escrow)
        if have < amount:
            raise ProtocolError(
                f"insufficient escrow: {escrow} holds {have} credits, cannot pay {amount}"
            )

    async def mint(self, recipient: str, amount: int) -> None:
        """Create ``amount`` credits in party ``recipient``'s account (caller checks the minter).

        Raises ``ProtocolError`` for an unregistered recipient or a supply above ``MAX_INT64``.
        """
        self._check_open()
        if _check_amount(amount) == 0:
            return
        await self._require_party(recipient)
        supply = await self.total_supply()
        if supply + amount > MAX_INT64:
            raise ProtocolError(
                f"minting {amount} credits would raise the total supply of {supply} above "
                f"{MAX_INT64}"
            )
        await self.balance(recipient)
        self._supply = supply + amount
        self._minted = True
        self._move(MINT_SOURCE, recipient, amount)

    async def transfer(self, sender: str, recipient: str, amount: int) -> None:
        """Move ``amount`` from party ``sender`` to party ``recipient`` (caller checks sender).

        Raises ``ProtocolError`` for a transfer to oneself, an unregistered recipient or an
        insufficient balance.
        """
        self._check_open()
        if sender == recipient:
            raise ProtocolError(f"cannot transfer credits to yourself ({sender})")
        if _check_amount(amount) == 0:
            return
        await self._require_party(recipient)
        await self._debit_party(sender, amount)
        await self.balance(recipient)
        self._move(sender, recipient, amount)

    async def fund(self, escrow: str, funder: str, amount: int) -> None:
        """Move ``amount`` from party ``funder`` into ``escrow``, recorded as its contribution."""
        self._check_open()
        _require_escrow(escrow)
        if _check_amount(amount) == 0:
            return
        await self._debit_party(funder, amount)
        await self.balance(escrow)
        funded = self._funded[escrow]
        funded[funder] = funded.get(funder, 0) + amount
        self._move(funder, escrow, amount)

    async def fund_pro_rata(
        self, escrow: str, total: int, weights: Mapping[str, int]
    ) -> dict[str, int]:
        """Fund ``escrow`` with ``total`` split over ``weights``; return each party's part."""
        self._check_open()
        parts = split_pro_rata(_check_amount(total), weights)
        for party, part in parts.items():
            await self.fund(escrow, party, part)
        return parts

    async def pay(self, escrow: str, recipient: str, amount: int) -> None:
        """Move ``amount`` out of ``escrow`` to registered party ``recipient``."""
        self._check_open()
        _require_escrow(escrow)
        if _check_amount(amount) == 0:
            return
        await self._require_party(recipient)
        await self._debit_escrow(escrow, amount)
        await self.balance(recipient)
        self._move(escrow, recipient, amount)

    async def pay_pro_rata(
        self, escrow: str, total: int, weights: Mapping[str, int]
    ) -> dict[str, int]:
        """Pay ``total`` out of ``escrow`` split over ``weights``; return each party's part."""
        self._check_open()
        _require_escrow(escrow)
        parts = split_pro_rata(_check_amount(total), weights)
        await self._debit_escrow(escrow, total)
        for party, part in parts.items():
            await self.pay(escrow, party, part)
        return parts

    async def refund(self, escrow: str) -> dict[str, int]:
        """Return what is left in ``escrow`` to its funders pro rata to their contributions.

        Returns each funder's part (``{}`` when the escrow is empty).
        """
        self._check_open()
        rest = await self.balance(_require_escrow(escrow))
        if rest == 0:
            return {}
        parts = split_pro_rata(rest, self._funded[escrow])
        for party, part in parts.items():
            await self.pay(escrow, party, part)
        return parts

    # ------------------------------------------------------------------ event and commit
    def announce(self, name: str, record: Mapping[str, Any]) -> None:
        """Make ``name`` with ``record`` (plus ``transfers`` and ``balances``) the event."""
        self._check_open()
        clash = [field for field in _RESERVED_FIELDS if field in record]
        if clash:
            raise ValueError(f"an announced record must not have the field {clash[0]!r}")
        self._event = (name, dict(record))

    @property
    def transfers(self) -> tuple[Movement, ...]:
        """The movements so far, in the order they happened."""
        return tuple(self._transfers)

    @property
    def payload(self) -> bytes:
        """The event payload set at commit; ``RuntimeError`` before the block has ended."""
        if self._payload is None:
            raise RuntimeError("the token movements are not committed yet")
        return self._payload

    def _check_open(self) -> None:
        if self._payload is not None:
            raise RuntimeError("the token movements of this transaction are already committed")

    def _commit(self) -> None:
        touched = sorted({a for m in self._transfers for a in (m.source, m.target)} - {MINT_SOURCE})
        for account in touched:
            record: dict[str, Any] = {"account": account, "balance": self._balances[account]}
            if is_escrow_account(account):
                record["funded"] = self._funded[account]
            self._ctx.put_state(account_key(account), dumps(record))
        if self._minted:
            self._ctx.put_state(supply_key(), dumps({"total_supply": self._supply}))
        summary = TransferEvent(self.transfers, {a: self._balances[a] for a in touched})
        name, record = self._event or (TRANSFER_EVENT, {})
        self._payload = dumps({**record, **summary.to_json()})
        if self._event is not None or self._transfers:
            self._ctx.set_event(name, self._payload)


# Contexts whose movements were opened; weak, so that a finished transaction is not kept alive.
_OPENED: weakref.WeakSet[TransactionContext] = weakref.WeakSet()


@asynccontextmanager
async def token_movements(ctx: TransactionContext) -> AsyncIterator[Movements]:
    """Open the one :class:`Movements` of ``ctx``'s transaction; commit it when the block ends.

    Nothing is written when the block raises (the transaction is rejected anyway). Raises
    ``RuntimeError`` when this transaction already opened its movements.
    """
    if ctx in _OPENED:
        raise RuntimeError("this transaction already moved credits; use one token_movements block")
    _OPENED.add(ctx)
    book = Movements(ctx)
    yield book
    book._commit()
