"""The fedledger contract: which transaction modules make it up.

A new group of transactions is a new module with a ``register(router)`` function, listed in
``MODULES``; the dispatcher (``router.py``) never changes. ``history`` comes last because it
accepts the object types the modules before it declared.
"""

from __future__ import annotations

from collections.abc import Callable

from fedledger_chaincode.core import advertisements, history, parties
from fedledger_chaincode.core.router import Router
from fedledger_chaincode.credits import tokens
from fedledger_chaincode.enrichment import delivery as enrichment_delivery
from fedledger_chaincode.enrichment import plans as enrichment_plans
from fedledger_chaincode.enrichment import settle as enrichment_settle
from fedledger_chaincode.prediction import offers as prediction_offers
from fedledger_chaincode.prediction import requests as predictions
from fedledger_chaincode.training import (
    envelopes,
    failures,
    global_model,
    results,
    rounds,
    shares,
    tasks,
    updates,
    weights,
)

__all__ = ["MODULES", "build_router"]

MODULES: tuple[Callable[[Router], None], ...] = (
    parties.register,
    advertisements.register,
    tasks.register,
    weights.register,
    envelopes.register,
    rounds.register,
    updates.register,
    shares.register,
    results.register,
    failures.register,
    global_model.register,
    tokens.register,
    prediction_offers.register,
    predictions.register,
    enrichment_plans.register,
    enrichment_delivery.register,
    enrichment_settle.register,
    history.register,
)


def build_router() -> Router:
    """Return a router with every fedledger transaction."""
    router = Router()
    for register in MODULES:
        register(router)
    return router
