"""The model a provider serves: the task's current global model, from weights it holds itself.

The ledger names the current model by digest (``GetCurrentModel``). Round 0 is the task's initial
weights, which the ledger stores (``GetModelWeights``); a later round's weights are those the
participant adopted and kept in its :class:`~fedledger.roles.training.checkpoints.ModelStore`; an
adopted enrichment's are those it opened when it reviewed the plan (the store's ``enriched()``).
Either way the weights must hash to the digest on the ledger, or nothing is served. Only a
model with a quadratic hidden activation (the zoo's ``mlp32q``) can be evaluated on encrypted
inputs exactly.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from fedledger.contract import training
from fedledger.errors import FedLedgerError, InferenceError
from fedledger.inference.layout import SlotLayout
from fedledger.inference.model import PolyMlp, Quadratic
from fedledger.inference.params import CkksParams
from fedledger.learning.models import QUADRATIC, get_model_spec
from fedledger.learning.weights import as_weight_arrays
from fedledger.ledger.interface import Contract
from fedledger.roles.model_io import FloatVector, weights_from_bytes, weights_hash
from fedledger.roles.training.checkpoints import ModelStore

__all__ = ["ServedModel", "consumer_layout", "current_model", "poly_mlp"]


@dataclass(frozen=True, eq=False)
class ServedModel:
    """The task's current model as this provider holds it."""

    task_id: str
    model: str
    weights_hash: str
    round: int
    weights: FloatVector


def poly_mlp(model: str, weights: FloatVector) -> PolyMlp:
    """The encrypted-evaluation form of ``weights`` of zoo model ``model``.

    Raises InferenceError when the model's activation is not the quadratic (e.g. ``mlp32``).
    """
    spec = get_model_spec(model)
    if spec.activation != "quadratic":
        raise InferenceError(
            f"model {model} uses a {spec.activation} activation, which encrypted prediction "
            "cannot evaluate; train the task with a quadratic-activation model such as mlp32q"
        )
    arrays = as_weight_arrays(weights, spec.weight_shapes())
    return PolyMlp.from_arrays(list(arrays), Quadratic(*QUADRATIC))


def consumer_layout(model: str, params: CkksParams) -> SlotLayout:
    """The slot layout a consumer encrypts for, from the offer's model name alone."""
    spec = get_model_spec(model)
    return SlotLayout(params.slots, spec.input_dim, spec.hidden, spec.classes)


def current_model(contract: Contract, store: ModelStore, task_id: str) -> ServedModel:
    """The task's current global model from the ledger's initial weights or ``store``.

    Raises FedLedgerError when this participant does not hold weights with the current digest
    (it has not adopted that round, or its copy is corrupt).
    """
    task = training.get_task(contract, task_id)
    current = training.get_current_model(contract, task_id)
    digest, number = current.weights_hash, current.round
    if current.source == "enrichment" and current.plan_id is not None:
        plan = current.plan_id
        if 0 not in store.enriched().rounds(plan):
            raise FedLedgerError(
                f"the current model of {task_id} is the enrichment of {plan} ({digest[:16]}…), "
                f"which this participant did not review and keep under {store.folder}"
            )
        weights = store.enriched().load(plan, 0).weights
    elif number == 0:
        stored = training.get_model_weights(contract, task_id)
        weights = weights_from_bytes(base64.b64decode(stored.weights))
    else:
        if number not in store.rounds(task_id):
            raise FedLedgerError(
                f"the current model of {task_id} is round {number}'s ({digest[:16]}…), which "
                f"this participant did not keep under {store.folder}"
            )
        weights = store.load(task_id, number).weights
    if weights_hash(weights) != digest:
        raise FedLedgerError(
            f"the weights held for round {number} of {task_id} do not hash to the current "
            f"model's digest {digest}"
        )
    return ServedModel(task_id, task.model, digest, number, weights)
