"""The fedledger contract: which transaction modules make it up.

A new group of transactions is a new module with a ``register(router)`` function, listed in
``MODULES``; the dispatcher (``router.py``) never changes. ``history`` comes last because it
accepts the object types the modules before it declared.
"""

from __future__ import annotations

from collections.abc import Callable

from fedledger_chaincode import (
    advertisements,
    enrichment_delivery,
    enrichment_plans,
    enrichment_settle,
    envelopes,
    failures,
    global_model,
    history,
    parties,
    prediction_offers,
    predictions,
    results,
    rounds,
    shares,
    tasks,
    tokens,
    updates,
    weights,
)
from fedledger_chaincode.router import Router

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
