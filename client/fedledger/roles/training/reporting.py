"""What a participant reports: its round report (what it did and measured) and, to the ledger,
the outcome it derived (:class:`Derived`) while the round is undecided.

A contributor reports the digest of the weights it derived with their accuracy and its base
model's on its local validation data (basis points), or that the aggregate does not decode, so
that a majority can fail the round (ReportResult). Only contributors report, and only while the
round is closed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fedledger.contract import training
from fedledger.learning.strategy import StrategyState
from fedledger.protocol.round_records import RoundView
from fedledger.protocol.round_requests import ResultRequest
from fedledger.protocol.rounds import ROUND_CLOSED
from fedledger.roles.model_io import FloatVector
from fedledger.roles.training.round_steps import RoundSteps
from fedledger.roles.training.task_state import TaskState

__all__ = ["Derived", "RoundReport", "report_result", "round_result"]


@dataclass(frozen=True)
class Derived:
    """What a participant derived from a round's shares: the new weights and strategy state,
    or (``weights`` None) why the aggregate did not decode."""

    weights: FloatVector | None
    strategy_state: StrategyState = None
    decode_error: str = ""


@dataclass
class RoundReport:
    """What one participant did and measured in one round (seconds per phase, bytes)."""

    round: int
    status: str = ""
    contributed: bool = False
    decrypted: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    ledger_calls: int = 0
    ledger_bytes: int = 0
    update_bytes: int = 0
    share_bytes: int = 0
    clipped_values: int = 0
    local_accuracy: float | None = None
    base_accuracy: float | None = None  # the round's base model on the same validation data
    weights_hash: str = ""
    trained_ahead: bool = False
    ahead_seconds: float = 0.0  # training done ahead, outside the round (the "train" phase waits)

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        return asdict(self)


def round_result(report: RoundReport, derived: Derived) -> ResultRequest:
    """The ReportResult request: the derived digest and accuracies, or the decode error."""
    if derived.weights is None:
        return ResultRequest(decode_error=derived.decode_error)
    accuracy, base = report.local_accuracy or 0.0, report.base_accuracy or 0.0
    return ResultRequest(
        weights_hash=report.weights_hash,
        accuracy_bp=round(accuracy * 10000),
        base_accuracy_bp=round(base * 10000),
    )


def report_result(
    steps: RoundSteps, state: TaskState, view: RoundView, derived: Derived, report: RoundReport
) -> None:
    """Report this contributor's outcome while the round is still undecided (module docstring)."""
    record = view.round
    if not report.contributed or record.status != ROUND_CLOSED:
        return
    request = round_result(report, derived)
    steps.submit_while(
        state.task, record.round, ROUND_CLOSED,
        lambda: training.report_result(steps.contract, state.task.id, record.round, request),
    )  # fmt: skip
