"""Two submissions racing on the real network, and the only ways such a race may end.

The live tests of credits, enrichment settlement and prediction receipts each submit one
transaction twice at once and check that it took effect exactly once: one submission committed,
the other was refused by the contract on the state the winner left, or lost the MVCC race at
commit (both endorsed on the old state; the second to be ordered was invalidated).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from fedledger.errors import CommitError, ContractError

Outcome = bytes | ContractError | CommitError | None


def race(submits: Sequence[Callable[[], bytes]], timeout: float = 120) -> list[Outcome]:
    """Run ``submits`` at once, each in its own thread; return each one's result or error."""
    outcomes: list[Outcome] = [None] * len(submits)

    def run(index: int) -> None:
        try:
            outcomes[index] = submits[index]()
        except (ContractError, CommitError) as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(submits))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes


def the_one_winner(outcomes: Sequence[Outcome], refusal: str) -> int:
    """Return the index of the one submission of two that committed; assert that the other was
    refused with exactly ``refusal`` or invalidated as MVCC_READ_CONFLICT."""
    committed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, bytes)]
    assert len(committed) == 1, outcomes
    loser = outcomes[1 - committed[0]]
    if isinstance(loser, ContractError):
        assert loser.message == refusal
    else:
        assert isinstance(loser, CommitError) and loser.code == "MVCC_READ_CONFLICT", outcomes
    return committed[0]
