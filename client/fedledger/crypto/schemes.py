"""The clients' registry of encryption schemes, and the scheme of a task or a plan.

A task's scheme is read off its record by :func:`fedledger.protocol.schemes.scheme_name`, the one
function shared with the chaincode; a second scheme registers its :class:`TaskScheme` here and
its ledger side in :mod:`fedledger.protocol.schemes`.
"""

from __future__ import annotations

from fedledger.crypto.paillier_scheme import PaillierScheme
from fedledger.crypto.scheme import SchemePlan, TaskScheme
from fedledger.errors import CryptoError
from fedledger.protocol.schemes import PAILLIER, scheme_name
from fedledger.protocol.task_records import TaskRecord

__all__ = ["plan_scheme", "scheme_named", "task_scheme"]

_SCHEMES: dict[str, TaskScheme] = {PAILLIER: PaillierScheme()}


def scheme_named(name: str) -> TaskScheme:
    """The registered scheme called ``name``; raises CryptoError for an unknown name."""
    try:
        return _SCHEMES[name]
    except KeyError:
        raise CryptoError(f"unknown encryption scheme {name!r}") from None


def task_scheme(task: TaskRecord) -> TaskScheme:
    """The scheme ``task`` uses; raises CryptoError when this code does not know it."""
    return scheme_named(scheme_name(task))


def plan_scheme(plan: SchemePlan) -> TaskScheme:
    """The scheme a task proposed from ``plan`` will use: Paillier until the task request
    carries a scheme (then the plan names it)."""
    del plan
    return scheme_named(PAILLIER)
