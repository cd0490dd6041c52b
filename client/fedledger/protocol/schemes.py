"""Which encryption scheme a task uses, and the chaincode's registry of schemes by name.

:func:`scheme_name` is the one place that reads the scheme off a task record, for the chaincode
and the clients alike (:mod:`fedledger.crypto.schemes`). The task record has no ``scheme`` field
yet (its wire format is unchanged), so every task is packed threshold Paillier; a second scheme
adds the field, reads it here, and registers its :class:`~fedledger.protocol.scheme.LedgerScheme`
in ``_SCHEMES``.
"""

from __future__ import annotations

from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.paillier_scheme import PaillierLedgerScheme
from fedledger.protocol.scheme import LedgerScheme
from fedledger.protocol.task_records import TaskRecord

__all__ = ["PAILLIER", "ledger_scheme", "ledger_scheme_named", "scheme_name"]

PAILLIER = "paillier"

_SCHEMES: dict[str, LedgerScheme] = {PAILLIER: PaillierLedgerScheme()}


def scheme_name(task: TaskRecord) -> str:
    """The name of ``task``'s encryption scheme (today always ``"paillier"``: module docstring)."""
    del task  # read task.scheme here once the record carries it
    return PAILLIER


def ledger_scheme_named(name: str) -> LedgerScheme:
    """The registered scheme called ``name``; raises ``ProtocolError`` for an unknown name."""
    try:
        return _SCHEMES[name]
    except KeyError:
        raise ProtocolError(f"unknown encryption scheme {name!r}") from None


def ledger_scheme(task: TaskRecord) -> LedgerScheme:
    """The chaincode's side of ``task``'s encryption scheme; raises ``ProtocolError`` when the
    task names a scheme this code does not know."""
    return ledger_scheme_named(scheme_name(task))
