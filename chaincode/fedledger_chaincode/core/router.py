"""The dispatcher: maps wire function names to transaction functions and turns errors into messages.

Transaction functions are ``async def f(ctx, *args: str) -> bytes``. Modules contribute them through
:meth:`Router.add` (see ``contract.py``); nothing here knows any particular transaction, so later
transactions plug in as new modules. :func:`execute` is shared by the Fabric chaincode and the
in-memory ledger, so both answer every call with the same bytes or the same message.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from fedledger.protocol.assets import certificate_der
from fedledger.protocol.canonical import quote
from fedledger.protocol.errors import NOT_FOUND_STATUS, NotFoundError, ProtocolError
from fedledger_chaincode.core.context import TransactionContext

__all__ = ["Outcome", "Router", "Transaction", "TransactionFunction", "decode_arguments", "execute"]

LOGGER = logging.getLogger("fedledger_chaincode")
ERROR_STATUS = 500  # Fabric's shim.ERROR: the proposal is refused

TransactionFunction = Callable[..., Awaitable[bytes]]


@dataclass(frozen=True)
class Transaction:
    """A routed transaction: wire name, function, and its required and optional parameter names."""

    name: str
    function: TransactionFunction
    required: tuple[str, ...]
    optional: tuple[str, ...]

    def check_arity(self, count: int) -> None:
        """Raise ``ProtocolError`` ("RegisterParty takes 1 argument (party_json), got 2")."""
        low, high = len(self.required), len(self.required) + len(self.optional)
        if low <= count <= high:
            return
        if low == high:
            takes = f"{low} argument{'' if low == 1 else 's'}"
        else:
            takes = f"{low} to {high} arguments"
        names = self.required + self.optional
        listed = f" ({', '.join(names)})" if names else ""
        raise ProtocolError(f"{self.name} takes {takes}{listed}, got {count}")


def _parameters(function: TransactionFunction) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Read (required, optional) argument names from the signature, skipping the context."""
    params = list(inspect.signature(function).parameters.values())[1:]
    for param in params:
        if param.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
            raise TypeError(f"{function.__name__}: transaction parameters must be positional")
    required = tuple(p.name for p in params if p.default is inspect.Parameter.empty)
    optional = tuple(p.name for p in params if p.default is not inspect.Parameter.empty)
    return required, optional


class Router:
    """Wire names to transaction functions, plus the object types that may be queried."""

    def __init__(self) -> None:
        self._transactions: dict[str, Transaction] = {}
        self._object_types: set[str] = set()

    def add(self, name: str, function: TransactionFunction) -> None:
        """Route ``name`` to ``function``; raises ``ValueError`` if the name is taken."""
        if name in self._transactions:
            raise ValueError(f"transaction {name!r} is already routed")
        required, optional = _parameters(function)
        self._transactions[name] = Transaction(name, function, required, optional)

    def add_object_type(self, object_type: str) -> None:
        """Declare an asset type (a composite-key object type) that history queries may name."""
        self._object_types.add(object_type)

    @property
    def object_types(self) -> frozenset[str]:
        """The declared asset types."""
        return frozenset(self._object_types)

    @property
    def names(self) -> tuple[str, ...]:
        """The routed wire names, sorted."""
        return tuple(sorted(self._transactions))

    def lookup(self, name: str) -> Transaction:
        """Return the transaction routed at ``name``.

        Raises ``ProtocolError`` "unknown function 'Foo'".
        """
        try:
            return self._transactions[name]
        except KeyError:
            raise ProtocolError(f"unknown function {quote(name)}") from None


@dataclass(frozen=True)
class Outcome:
    """The result of one call: the payload on success, else the message and status for the
    client (404 when the named asset does not exist, 500 for every other refusal)."""

    payload: bytes = b""
    error: str | None = None
    status: int = 200

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return self.error is None


def decode_arguments(raw: Sequence[bytes]) -> tuple[str, list[str]]:
    """Decode the proposal's arguments (function name first) as UTF-8 text.

    Returns (function, arguments). Raises ``ProtocolError``: "no function name was given", "the
    function name is not valid UTF-8", "argument 2 is not valid UTF-8".
    """
    if not raw:
        raise ProtocolError("no function name was given")
    try:
        function = bytes(raw[0]).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("the function name is not valid UTF-8") from None
    args: list[str] = []
    for index, item in enumerate(raw[1:], start=1):
        try:
            args.append(bytes(item).decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(f"argument {index} is not valid UTF-8") from None
    return function, args


async def execute(
    router: Router, ctx: TransactionContext, function: str, args: Sequence[str]
) -> Outcome:
    """Run ``function`` with ``args`` in ``ctx``.

    Returns an :class:`Outcome`: the function's payload, or a ``ProtocolError``'s exact message, or
    for any other exception "<Function> failed: internal error in the chaincode" (the traceback is
    logged here, never sent to the client). Writes stay buffered in ``ctx`` for the caller to apply
    only when the outcome is ok. Before anything else the creator's id bytes must be exactly one
    canonical certificate (``fedledger.protocol.assets.certificate_der``): Fabric verifies the
    signature against the first PEM block of any type and ignores the rest, so anything else
    could let one signature speak for another identity, in any transaction.
    """
    try:
        certificate_der(ctx.creator.certificate_pem)
        transaction = router.lookup(function)
        transaction.check_arity(len(args))
        payload = await transaction.function(ctx, *args)
    except NotFoundError as exc:
        return Outcome(error=str(exc), status=NOT_FOUND_STATUS)
    except ProtocolError as exc:
        return Outcome(error=str(exc), status=ERROR_STATUS)
    except Exception:
        LOGGER.exception("transaction %s (%s) raised an unexpected error", function, ctx.tx_id)
        return Outcome(error=f"{function} failed: internal error in the chaincode", status=500)
    if not isinstance(payload, bytes):
        LOGGER.error("transaction %s returned %s, not bytes", function, type(payload).__name__)
        return Outcome(error=f"{function} failed: internal error in the chaincode", status=500)
    return Outcome(payload=payload)
