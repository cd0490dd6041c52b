"""Helpers for the paid-prediction tests: a market over the training consortium's active task.

Participants (declared samples): Org1 (100, the coordinator), Org2 (200), Org3 (300). Org2 is the
provider of the market's offer; Org1's second user (the set-up's outsider, a registered
non-participant) is the consumer and holds 1,000 credits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from training_helpers import Setup, pid

from fedledger.ledger.memory import InMemoryContract, ManualClock

INPUT = hashlib.sha256(b"the consumer's input ciphertext").hexdigest()
RESPONSE = hashlib.sha256(b"the provider's encrypted logits").hexdigest()
ENDPOINT = "127.0.0.1:7443"
PARAMS = "ckks-n8192-d3"
CONSUMER_CREDITS = 1000


def offer_json(**overrides: Any) -> str:
    fields: dict[str, Any] = {"price": 101, "fee_bp": 1500, "endpoint": ENDPOINT, "params": PARAMS}
    fields.update(overrides)
    return json.dumps({k: v for k, v in fields.items() if v is not None})


@dataclass
class Market:
    """An active task, an open offer by Org2, and a funded consumer."""

    setup: Setup
    clock: ManualClock
    task_id: str
    offer: dict[str, Any]

    @property
    def provider(self) -> InMemoryContract:
        return self.setup.trainers[0]

    @property
    def other_provider(self) -> InMemoryContract:
        return self.setup.trainers[1]

    @property
    def consumer(self) -> InMemoryContract:
        return self.setup.outsider

    @property
    def minter(self) -> InMemoryContract:
        return self.setup.coordinator

    def request(
        self,
        offer_id: str | None = None,
        ttl: int = 60,
        input_sha256: str = INPUT,
        consumer: InMemoryContract | None = None,
    ) -> dict[str, Any]:
        """RequestPrediction as the consumer; returns the event payload (request + transfers)."""
        who = consumer or self.consumer
        raw = who.submit("RequestPrediction", offer_id or self.offer["id"], input_sha256, str(ttl))
        result: dict[str, Any] = json.loads(raw)
        return result

    def receipt(
        self, request_id: str, provider: InMemoryContract | None = None, digest: str = RESPONSE
    ) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(
            (provider or self.provider).submit("SubmitReceipt", request_id, digest)
        )
        return result

    def balance(self, account: str) -> int:
        return int(json.loads(self.consumer.evaluate("BalanceOf", account)))

    def stored(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(
            self.consumer.evaluate("GetPredictionRequest", request_id)
        )
        return result


def make_market(setup: Setup, clock: ManualClock) -> Market:
    task_id = setup.active_task()
    setup.coordinator.submit("Mint", pid(setup.outsider.identity), str(CONSUMER_CREDITS))
    offer = json.loads(setup.trainers[0].submit("CreateOffer", task_id, offer_json()))
    return Market(setup, clock, task_id, offer)
