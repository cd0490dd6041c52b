"""The prediction service with a real network's TLS material: the org's provider identity.

cryptogen issues each org a ``provider`` TLS identity from the org's TLS CA; a consumer trusts the
provider org's TLS CA from the connection profile and checks the provider's host name. Another
org's CA does not verify it. The paid flow on the ledger is test_prediction_paid_live.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from fedledger.errors import PredictionError
from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.model import PolyMlp, Quadratic
from fedledger.inference.params import DEFAULT_PARAMS, get_params
from fedledger.ledger.profile import load_profile
from fedledger.network.local import LocalNetwork
from fedledger.roles.prediction.consumer import PredictionConsumer
from fedledger.roles.prediction.provider import MemoryGate, PredictionProvider
from fedledger.roles.prediction.transport import PredictionClient, ServerTls

pytestmark = pytest.mark.fabric


@pytest.fixture(scope="module")
def random_model() -> PolyMlp:
    rng = np.random.default_rng(7)
    return PolyMlp(
        rng.normal(0, 0.05, (784, 32)),
        rng.normal(0, 0.1, 32),
        rng.normal(0, 0.3, (32, 10)),
        rng.normal(0, 0.1, 10),
        Quadratic(0.125, 0.5, 0.25),
    )


@pytest.fixture(scope="module")
def org1_provider(
    fabric_network: LocalNetwork, random_model: PolyMlp
) -> Iterator[tuple[PredictionProvider, int]]:
    org = fabric_network.topo.org("Org1")
    tls_dir = fabric_network.layout.provider_dir(org) / "tls"
    tls = ServerTls((tls_dir / "server.crt").read_bytes(), (tls_dir / "server.key").read_bytes())
    provider = PredictionProvider(
        EncryptedMlp(random_model, get_params(DEFAULT_PARAMS)), MemoryGate()
    )
    port = provider.start(host="127.0.0.1", port=0, tls=tls)
    yield provider, port
    provider.stop()


def _client(fabric_network: LocalNetwork, port: int, ca_org: str) -> PredictionClient:
    profile = load_profile(fabric_network.layout.profile_file)
    return PredictionClient(
        f"127.0.0.1:{port}",
        tls_ca_pem=profile.org(ca_org).peer.tls_ca.read_bytes(),
        server_name=fabric_network.topo.org("Org1").provider_name,
        timeout=60,
    )


def test_a_consumer_trusting_the_provider_orgs_tls_ca_gets_correct_predictions(
    fabric_network: LocalNetwork,
    org1_provider: tuple[PredictionProvider, int],
    random_model: PolyMlp,
) -> None:
    # Prepare
    _, port = org1_provider
    params = get_params(DEFAULT_PARAMS)
    x = np.random.default_rng(8).random(784)
    keyholder = KeyHolder(params, org1_provider[0].model.layout)

    # Execute
    with _client(fabric_network, port, "Org1") as client:
        prediction = PredictionConsumer(keyholder, client).send("live-1", keyholder.encrypt(x))

    # Assert
    expected = random_model.logits(x[None, :])[0]
    assert prediction.label == int(np.argmax(expected))
    assert np.abs(prediction.logits - expected).max() < params.tolerance


def test_another_orgs_tls_ca_does_not_verify_the_provider(
    fabric_network: LocalNetwork, org1_provider: tuple[PredictionProvider, int]
) -> None:
    _, port = org1_provider
    with _client(fabric_network, port, "Org2") as client, pytest.raises(PredictionError) as failed:
        client.call("OpenSession", b"")
    assert failed.value.code == "UNAVAILABLE"
