"""A paid prediction end to end without Fabric: in-memory ledger, real TLS endpoint, ledger gate.

The consumer pays for one encrypted image, the provider serves it behind its LedgerGate and
commits the receipt, the consumer decrypts the right class; the same request sent again and a
request nobody paid for are refused, and the answer's hash is the one in the receipt.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from support.consortium import Consortium
from support.identities import new_key, private_key_pem, self_signed_pem

from fedledger.errors import PredictionError
from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.model import PolyMlp
from fedledger.inference.params import DEFAULT_PARAMS, CkksParams
from fedledger.learning.datasets import DataSplit
from fedledger.protocol.assets import party_id
from fedledger.roles.prediction.consumer import PredictionConsumer
from fedledger.roles.prediction.gate import LedgerGate
from fedledger.roles.prediction.market import (
    buy_prediction,
    create_offer,
    get_offer,
    get_receipt,
)
from fedledger.roles.prediction.provider import PredictionProvider
from fedledger.roles.prediction.transport import PredictionClient, ServerTls

HOST_NAME = "provider.org2.fedledger.local"


@pytest.fixture
def served(
    encrypted_model: EncryptedMlp, keyholder: KeyHolder
) -> Iterator[tuple[Consortium, PredictionConsumer, str]]:
    with Consortium() as consortium:
        task_id = consortium.propose()
        for member in consortium.members:
            member.role.join(task_id, timeout=1)
        provider_contract = consortium.members[1].contract
        key = new_key()
        certificate = self_signed_pem(key, HOST_NAME, ca=True, dns_names=[HOST_NAME])
        provider = PredictionProvider(encrypted_model, LedgerGate(provider_contract, []))
        port = provider.start(
            host="127.0.0.1", port=0, tls=ServerTls(certificate, private_key_pem(key))
        )
        offer = create_offer(
            provider_contract, task_id, price=5, fee_bp=1000,
            endpoint=f"127.0.0.1:{port}", params=DEFAULT_PARAMS,
        )  # fmt: skip
        provider.gate = LedgerGate(provider_contract, [offer.id], clock=consortium.now)
        stranger = consortium.stranger.identity
        consortium.members[0].contract.submit(
            "Mint", party_id(stranger.msp_id, stranger.certificate_pem), "50"
        )
        client = PredictionClient(
            offer.endpoint, tls_ca_pem=certificate, server_name=HOST_NAME, timeout=30
        )
        try:
            yield consortium, PredictionConsumer(keyholder, client), offer.id
        finally:
            client.close()
            provider.stop()


def test_a_paid_encrypted_prediction_is_served_receipted_and_not_served_twice(
    served: tuple[Consortium, PredictionConsumer, str],
    trained_model: PolyMlp,
    mnist_split: DataSplit,
    ckks_params: CkksParams,
) -> None:
    # Prepare
    consortium, consumer, offer_id = served
    offer = get_offer(consortium.stranger, offer_id)
    image = mnist_split.test.x[5]

    # Execute
    paid = buy_prediction(consortium.stranger, consumer, offer, image, ttl_seconds=60)
    with pytest.raises(PredictionError) as replayed:
        consumer.send(paid.request.id, consumer.encrypt(image))
    with pytest.raises(PredictionError) as unpaid:
        consumer.send("req-" + "1" * 32, consumer.encrypt(image))

    # Assert
    expected = trained_model.logits(image[None, :])[0]
    assert paid.prediction.label == int(np.argmax(expected))
    assert np.abs(paid.prediction.logits - expected).max() < ckks_params.tolerance
    receipt = get_receipt(consortium.stranger, paid.request.id)
    assert receipt.response_sha256 == paid.prediction.response_sha256
    assert replayed.value.code == "ALREADY_EXISTS"
    assert unpaid.value.code == "FAILED_PRECONDITION"
    assert unpaid.value.message.endswith("is not a paid request on the ledger")
