"""When the Gateway client tries again: the retry policy, its counters, and which failures count.

The rules themselves (Fabric's, see FABRIC_NOTES) are told in :mod:`fedledger.ledger.gateway`'s
docstring; this module holds their settings and the predicates that classify a failed call.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from fedledger.errors import ContractError, LedgerError
from fedledger.ledger.rpc_errors import status_code

__all__ = [
    "DIVERGED",
    "REBUILD_CODES",
    "RESEND_CODES",
    "RetryCounts",
    "RetryPolicy",
    "endorser_failed",
    "unreachable",
]

UNREACHABLE = grpc.StatusCode.UNAVAILABLE
# Failures after which a submitted transaction may or may not be ordered: probe, then resend.
RESEND_CODES = frozenset({grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE})
# Validation codes that mean the endorsement read stale state: a fresh proposal is the cure.
REBUILD_CODES = frozenset({"MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"})
# The gateway's message when the endorsers of one proposal returned different results.
DIVERGED = "ProposalResponsePayloads do not match"


@dataclass(frozen=True)
class RetryPolicy:
    """How often to re-send one signed transaction, how often to rebuild after a conflict, and
    how long a CommitStatus probe waits before the transaction counts as not (yet) committed."""

    resend_attempts: int = 4
    conflict_attempts: int = 8
    backoff_seconds: float = 0.5
    probe_seconds: float = 5.0
    # After a read conflict the winner has already committed: endorse again almost at once,
    # after a random pause of up to this many seconds times the attempt (no lockstep).
    conflict_backoff_seconds: float = 0.1

    def __post_init__(self) -> None:
        if self.resend_attempts < 1 or self.conflict_attempts < 1 or self.backoff_seconds < 0:
            raise LedgerError("retry attempts must be at least 1 and the backoff non-negative")
        if self.conflict_backoff_seconds < 0:
            raise LedgerError("the conflict backoff must be non-negative")
        if self.probe_seconds <= 0:
            raise LedgerError("the commit status probe needs a positive number of seconds")


@dataclass
class RetryCounts:
    """What one contract's retry rules have done so far (for reports; exact when the contract
    is used by one thread at a time)."""

    conflicts: int = 0  # MVCC or phantom read conflicts, each followed by a new transaction
    divergent: int = 0  # endorsements whose endorsers disagreed, endorsed afresh
    probes: int = 0  # CommitStatus asked after a failed Submit or CommitStatus
    resubmits: int = 0  # the same signed envelope submitted again
    failovers: int = 0  # moves to the next gateway peer


def unreachable(error: grpc.RpcError, translated: LedgerError) -> bool:
    """True when the call failed because its peer is unreachable (UNAVAILABLE)."""
    return status_code(error) == UNREACHABLE


def endorser_failed(error: grpc.RpcError, translated: LedgerError) -> bool:
    """True for an Endorse failure another org's gateway may not have: its peer is unreachable,
    or the gateway's own org could not endorse (Fabric's gateway endorses on its own org's peers
    first, so a crashed chaincode server of that org fails every Endorse through it, ABORTED).
    Never a chaincode rejection, nor endorsers that disagree (a fresh proposal is the cure for
    that)."""
    code = status_code(error)
    if code == UNREACHABLE:
        return True
    return (
        code == grpc.StatusCode.ABORTED
        and not isinstance(translated, ContractError)
        and DIVERGED not in str(translated)
    )
