"""Options for the longer runs of the fault and fuzz tests (defaults keep `make test` short).

--fault-seconds S   how long each fault lasts and the workload writes after it (default 4;
                    also FEDLEDGER_FAULT_SECONDS)
--fuzz-examples N   Hypothesis examples per routed transaction in the fuzz test (default 25;
                    also FEDLEDGER_FUZZ_EXAMPLES)
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fedledger")
    group.addoption(
        "--fault-seconds",
        type=float,
        default=float(os.environ.get("FEDLEDGER_FAULT_SECONDS", "4")),
        help="seconds each injected fault lasts, and the workload runs after it",
    )
    group.addoption(
        "--fuzz-examples",
        type=int,
        default=int(os.environ.get("FEDLEDGER_FUZZ_EXAMPLES", "25")),
        help="Hypothesis examples per routed transaction in the fuzz test",
    )
