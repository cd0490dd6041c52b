"""Helpers for the credits tests: registered parties, a ledger with the escrow test module, audits.

``escrow_router`` is a contract module that exists only in these tests: it drives the escrow API
of ``fedledger_chaincode.credits.movements`` the way the enrichment and prediction modules will, so
fund, pay and refund are exercised before those modules exist. It is never part of the production
contract (``fedledger_chaincode.core.contract.MODULES``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import escrow_router
from cc_helpers import party_json

from fedledger.ledger.identity import Identity
from fedledger.ledger.memory import InMemoryLedger
from fedledger.protocol.assets import party_id
from fedledger.protocol.tokens import escrow_account
from fedledger_chaincode.core.config import ContractConfig
from fedledger_chaincode.core.contract import build_router


def escrow_ledger(clock: Callable[[], int], config: ContractConfig | None = None) -> InMemoryLedger:
    """An in-memory ledger running the real contract plus the test-only escrow module."""
    router = build_router()
    escrow_router.register(router)
    return InMemoryLedger(clock=clock, router=router, config=config)


def register(ledger: InMemoryLedger, *identities: Identity) -> list[str]:
    """Register each identity as a party; return their party ids in the same order."""
    ids = []
    for identity in identities:
        ledger.contract(identity).submit("RegisterParty", party_json(["trainer"]))
        ids.append(party_id(identity.msp_id, identity.certificate_pem))
    return ids


def escrow(ref: str) -> str:
    """The account of the test module's escrow ``ref``."""
    return escrow_account(escrow_router.KIND, ref)


def audit(ledger: InMemoryLedger, identity: Identity) -> dict[str, Any]:
    """TokenAudit as ``identity``: total supply, every balance and every escrow."""
    result: dict[str, Any] = json.loads(ledger.contract(identity).evaluate("TokenAudit"))
    return result


def balance(ledger: InMemoryLedger, identity: Identity, account: str) -> int:
    """BalanceOf ``account`` as ``identity``."""
    return int(json.loads(ledger.contract(identity).evaluate("BalanceOf", account)))


def script(*steps: list[Any]) -> str:
    """The argument of EscrowScript: steps run in order in one transaction."""
    return json.dumps(list(steps))
