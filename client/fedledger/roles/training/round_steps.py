"""How a participant waits for a round to move and submits a step that may have become moot.

Both read the round from the ledger: a wait ends when the round view is ready (chaincode events
wake it, a fallback query bounds it); a step refused because the round moved on before it (closed
before this update, decided before this share or report) is simply not needed, any other refusal
is raised.
"""

from __future__ import annotations

from collections.abc import Callable

from fedledger.errors import ContractError
from fedledger.ledger.interface import Contract
from fedledger.protocol.round_records import RoundRecord, RoundView
from fedledger.protocol.rounds import ROUND_OPEN
from fedledger.protocol.task_records import TaskRecord
from fedledger.roles.ledger_io import WaitTimeout, Watch, get_round
from fedledger.roles.training.participant_config import Pacing

__all__ = ["RoundSteps"]


def _still(record: RoundRecord, status: str, now: float) -> bool:
    """True while ``record`` is in ``status`` (an open round past its deadline is over)."""
    if record.status != status:
        return False
    return status != ROUND_OPEN or now <= record.deadline


class RoundSteps:
    """Waiting on and submitting to one party's rounds over its ``Contract``."""

    def __init__(self, contract: Contract, pacing: Pacing) -> None:
        self.contract = contract
        self.pacing = pacing

    def await_round(
        self,
        task: TaskRecord,
        number: int,
        watch: Watch,
        ready: Callable[[RoundView], bool],
        what: str,
        timeout: float | None = None,
    ) -> RoundView:
        """Wait until round ``number``'s view is ``ready``; return it. ``timeout`` defaults to
        the step timeout. Raises WaitTimeout."""
        view = watch.until(
            lambda: get_round(self.contract, task.id, number),
            lambda v: v is not None and ready(v),
            what=what,
            timeout=timeout if timeout is not None else self.step_timeout(task),
        )
        if view is None:  # pragma: no cover - ready() rejects None
            raise WaitTimeout(f"round {number} of {task.id} vanished")
        return view

    def step_timeout(self, task: TaskRecord) -> float:
        """How long one step of ``task``'s rounds may take (:class:`Pacing`)."""
        if self.pacing.step_timeout is not None:
            return self.pacing.step_timeout
        return max(120.0, 3.0 * task.round_seconds)

    def submit_while(
        self, task: TaskRecord, number: int, status: str, step: Callable[[], object]
    ) -> bool:
        """Submit a step of round ``number`` that only makes sense while it is ``status``.

        Returns True when committed, False when the round moved on before it. Any other refusal
        is raised (ContractError).
        """
        try:
            step()
        except ContractError:
            view = get_round(self.contract, task.id, number)
            if view is None or not _still(view.round, status, self.pacing.clock()):
                return False
            raise
        return True
