"""Fixtures for contract tests: identities of three orgs, a fresh ledger, a training consortium,
and the enrichment tests' consortium."""

from __future__ import annotations

import pytest
from enrichment_helpers import Consortium, consortium
from support.identities import make_identity
from training_helpers import Setup, make_setup

from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger, ManualClock


@pytest.fixture(scope="session")
def org1() -> Identity:
    return make_identity("Org1MSP", "User1@org1")


@pytest.fixture(scope="session")
def org1_other_user() -> Identity:
    return make_identity("Org1MSP", "User2@org1")


@pytest.fixture(scope="session")
def org2() -> Identity:
    return make_identity("Org2MSP", "User1@org2")


@pytest.fixture(scope="session")
def org3() -> Identity:
    return make_identity("Org3MSP", "User1@org3")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start_seconds=1_800_000_000)


@pytest.fixture
def ledger(clock: ManualClock) -> InMemoryLedger:
    return InMemoryLedger(clock=clock)


@pytest.fixture
def setup(
    ledger: InMemoryLedger,
    org1: Identity,
    org2: Identity,
    org3: Identity,
    org1_other_user: Identity,
) -> Setup:
    """The registered consortium of the training tests; org1's second user is the outsider."""
    return make_setup(ledger, org1, org2, org3, org1_other_user)


@pytest.fixture
def co() -> Consortium:
    """The consortium of the enrichment tests: a finished training task with a model to enrich."""
    return consortium()
