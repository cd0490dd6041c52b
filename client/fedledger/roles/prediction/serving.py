"""The provider's story: serve a task's current model behind its offers on the ledger.

:func:`start_serving` takes the task's current global model from this participant's model
store (checked against the digest the ledger names), finds this party's open offers of exactly
that model (or, given a price, creates one for the port it binds), and starts the TLS gRPC
prediction service behind the ledger gate of those offers: only paid requests whose input hash
matches are served, and each answer follows its receipt on the ledger. The caller waits on the
returned :class:`ServingSession` and stops it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fedledger.errors import FedLedgerError
from fedledger.inference.params import DEFAULT_PARAMS, get_params
from fedledger.ledger.interface import Contract
from fedledger.protocol.assets import party_id
from fedledger.protocol.predictions import PredictionOffer
from fedledger.roles.prediction import market
from fedledger.roles.prediction.gate import LedgerGate
from fedledger.roles.prediction.provider import PredictionProvider
from fedledger.roles.prediction.transport import ServerTls
from fedledger.roles.training.checkpoints import ModelStore

__all__ = ["ServingSession", "start_serving"]


@dataclass(frozen=True)
class ServingSession:
    """A running prediction service: the model's round and digest, its offers, its port."""

    provider: PredictionProvider
    round: int
    weights_hash: str
    offers: list[PredictionOffer]
    port: int

    def wait(self) -> None:
        """Block until the service stops."""
        self.provider.wait()

    def stop(self) -> None:
        """Stop serving (requests in flight are cancelled)."""
        self.provider.stop()


def _port_of(endpoint: str) -> int:
    return int(endpoint.rpartition(":")[2])


def start_serving(
    contract: Contract,
    store: ModelStore,
    task_id: str,
    tls: Callable[[], ServerTls],
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    price: int | None = None,
    fee_bp: int = 1000,
) -> ServingSession:
    """Serve ``task_id``'s current model on ``host``; return the running session.

    ``tls`` gives the provider's TLS identity; it is read only once the model is known to be
    servable. The port is ``port``, else the one of this party's first open offer, else a free
    one.
    Raises FedLedgerError when this party has no open offer of the current model and no
    ``price`` to create one, or does not hold the current model; ContractError when the ledger
    refuses a new offer (the service is stopped again then).
    """
    from fedledger.inference.evaluator import EncryptedMlp
    from fedledger.roles.prediction.served_model import current_model, poly_mlp

    me = party_id(contract.identity.msp_id, contract.identity.certificate_pem)
    served = current_model(contract, store, task_id)
    offers = [
        o
        for o in market.list_offers(contract, task_id)
        if o.provider == me and o.weights_hash == served.weights_hash
    ]
    if not offers and price is None:
        raise FedLedgerError(
            f"you have no open offer of {task_id}'s current model (round {served.round}); "
            "pass --price to create one, or run 'fedledger offer create'"
        )
    if port is None:
        port = _port_of(offers[0].endpoint) if offers else 0
    params = get_params(offers[0].params if offers else DEFAULT_PARAMS)
    model = poly_mlp(served.model, served.weights)
    provider = PredictionProvider(EncryptedMlp(model, params), LedgerGate(contract, []))
    bound = provider.start(host=host, port=port, tls=tls())
    try:
        if not offers:
            offers = [
                market.create_offer(
                    contract, task_id, price=price or 0, fee_bp=fee_bp,
                    endpoint=f"{host}:{bound}", params=params.name,
                )
            ]  # fmt: skip
        provider.gate = LedgerGate(contract, [o.id for o in offers])
    except BaseException:
        provider.stop()
        raise
    return ServingSession(provider, served.round, served.weights_hash, offers, bound)
