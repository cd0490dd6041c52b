"""Paid encrypted prediction on the real network: offer, pay, serve behind the ledger gate, receipt.

Org1-3's User1 are the participants of an active mlp32q task (declared samples 100/200/300;
random initial weights, so the current model is round 0, read back from the ledger as
``provider serve`` reads it). Org2 offers predictions at 101 credits with a 15% fee and serves them
over TLS gRPC with its org's provider identity; Org3's Admin is the consumer. Every figure is a
difference from what the ledger held before, because the session's network is shared.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from races import race, the_one_winner
from support.cli import run_cli
from support.keys import SAFE_2048_P, SAFE_2048_Q
from support.raw_calls import query_or_none

from fedledger.crypto.keys import PrivateKey, PublicKey
from fedledger.errors import ContractError, PredictionError
from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.model import PolyMlp
from fedledger.inference.params import DEFAULT_PARAMS, get_params
from fedledger.learning.models import parameter_count
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.ledger.profile import load_profile
from fedledger.network.local import LocalNetwork
from fedledger.protocol.assets import party_id
from fedledger.protocol.predictions import MIN_REQUEST_SECONDS, PredictionOffer
from fedledger.protocol.prorata import split_pro_rata
from fedledger.roles.ledger_io import register_party
from fedledger.roles.prediction.consumer import PredictionConsumer
from fedledger.roles.prediction.gate import LedgerGate
from fedledger.roles.prediction.market import (
    buy_prediction,
    create_offer,
    get_receipt,
    get_request,
    pay_for,
    reclaim,
)
from fedledger.roles.prediction.provider import PredictionProvider
from fedledger.roles.prediction.served_model import consumer_layout, current_model, poly_mlp
from fedledger.roles.prediction.transport import PredictionClient, ServerTls
from fedledger.roles.training.checkpoints import ModelStore
from fedledger.roles.training.coordinator import Coordinator, TaskPlan

pytestmark = pytest.mark.fabric
CLI_BUYER = "User21"  # a consumer of its own (see conftest.py for who uses which user)

SAMPLES = {"Org1": 100, "Org2": 200, "Org3": 300}
PRICE, FEE_BP = 101, 1500
READ_WAIT_SECONDS = 15.0


@dataclass
class Market:
    participants: dict[str, GatewayContract]
    consumer: GatewayContract
    task_id: str
    offer: PredictionOffer
    model: PolyMlp
    provider: PredictionProvider
    client: PredictionClient

    def keyholder(self) -> KeyHolder:
        params = get_params(self.offer.params)
        return KeyHolder(params, consumer_layout(self.offer.model, params))


def _me(contract: GatewayContract) -> str:
    return party_id(contract.identity.msp_id, contract.identity.certificate_pem)


def _balance(contract: GatewayContract, account: str) -> int:
    return int(json.loads(contract.evaluate("BalanceOf", account)))


def _balance_until(contract: GatewayContract, account: str, expected: int) -> int:
    """Read on ``contract``'s peer until it shows ``expected`` (it may be a block behind)."""
    deadline = time.monotonic() + READ_WAIT_SECONDS
    value = _balance(contract, account)
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = _balance(contract, account)
    return value


def _mint(minter: GatewayContract, party: GatewayContract, amount: int) -> None:
    """Mint for a party registered through another org's peer, once the minter's peer has it."""
    deadline = time.monotonic() + READ_WAIT_SECONDS
    while query_or_none(minter, "GetParty", _me(party)) is None:
        assert time.monotonic() < deadline, "the registration never reached the minter's peer"
        time.sleep(0.2)
    minter.submit("Mint", _me(party), str(amount))


def _kx() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _active_task(participants: dict[str, GatewayContract]) -> str:
    """An mlp32q task of the three participants, proposed by Org1, approved by all."""
    records = [
        {**register_party(c, ["trainer"], _kx()), "samples": SAMPLES[org]}
        for org, c in participants.items()
    ]
    public = PublicKey(SAFE_2048_P * SAFE_2048_Q)
    initial = np.random.default_rng(11).normal(0.0, 0.05, parameter_count("mlp32q"))
    plan = TaskPlan(model="mlp32q", rounds=1, threshold=2)
    task_id = Coordinator(participants["Org1"]).propose_task(
        plan, records, initial, (public, PrivateKey(public, SAFE_2048_P, SAFE_2048_Q))
    )
    for contract in participants.values():
        contract.submit("ApproveTask", task_id)
    return task_id


@pytest.fixture(scope="module")
def market(
    fabric_network: LocalNetwork, fabric_profile: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Market]:
    participants = {org: connect(fabric_profile, org=org, user="User1") for org in SAMPLES}
    consumer = connect(fabric_profile, org="Org3", user="Admin")
    try:
        task_id = _active_task(participants)
        register_party(consumer, ["consumer"], _kx())
        _mint(participants["Org1"], consumer, 3 * PRICE)
        seller = participants["Org2"]
        served = current_model(seller, ModelStore(tmp_path_factory.mktemp("models")), task_id)
        model = poly_mlp(served.model, served.weights)
        org2 = fabric_network.topo.org("Org2")
        tls_dir = fabric_network.layout.provider_dir(org2) / "tls"
        tls = ServerTls(
            (tls_dir / "server.crt").read_bytes(), (tls_dir / "server.key").read_bytes()
        )
        provider = PredictionProvider(
            EncryptedMlp(model, get_params(DEFAULT_PARAMS)), LedgerGate(seller, [])
        )
        port = provider.start(host="127.0.0.1", port=0, tls=tls)
        offer = create_offer(
            seller, task_id, price=PRICE, fee_bp=FEE_BP,
            endpoint=f"127.0.0.1:{port}", params=DEFAULT_PARAMS,
        )  # fmt: skip
        provider.gate = LedgerGate(seller, [offer.id])
        profile = load_profile(fabric_profile)
        client = PredictionClient(
            offer.endpoint,
            tls_ca_pem=profile.org("Org2").peer.tls_ca.read_bytes(),
            server_name=org2.provider_name,
            timeout=60,
        )
        yield Market(participants, consumer, task_id, offer, model, provider, client)
        client.close()
        provider.stop()
    finally:
        for contract in [*participants.values(), consumer]:
            contract.close()


def test_a_paid_prediction_is_served_receipted_and_splits_the_price_exactly(
    market: Market,
) -> None:
    # Prepare
    ids = {org: _me(c) for org, c in market.participants.items()}
    reader = market.participants["Org1"]  # another org's peer than the consumer's and the seller's
    before = {org: _balance(reader, pid) for org, pid in ids.items()}
    consumer_id = _me(market.consumer)
    paid_before = _balance(reader, consumer_id)
    consumer = PredictionConsumer(market.keyholder(), market.client)
    image = np.random.default_rng(12).random(784)

    # Execute
    paid = buy_prediction(market.consumer, consumer, market.offer, image, ttl_seconds=60)

    # Assert: the answer is the model's, and its hash is the receipt's
    expected = market.model.logits(image[None, :])[0]
    assert paid.prediction.label == int(np.argmax(expected))
    assert np.abs(paid.prediction.logits - expected).max() < get_params(DEFAULT_PARAMS).tolerance
    receipt = get_receipt(market.participants["Org2"], paid.request.id)
    assert receipt.response_sha256 == paid.prediction.response_sha256

    # Assert: fee 15 to Org2, the 86 left split 100:200:300 (14, 29, 43) by largest remainder
    fee = PRICE * FEE_BP // 10_000
    shares = split_pro_rata(PRICE - fee, {ids[org]: n for org, n in SAMPLES.items()})
    assert (receipt.provider_fee, receipt.shares) == (fee, shares)
    assert (fee, sorted(shares.values())) == (15, [14, 29, 43])
    gained = {org: shares[ids[org]] + (fee if org == "Org2" else 0) for org in ids}
    for org, pid in ids.items():
        assert _balance_until(reader, pid, before[org] + gained[org]) == before[org] + gained[org]
    assert _balance_until(reader, consumer_id, paid_before - PRICE) == paid_before - PRICE
    assert _balance(reader, paid.request.escrow) == 0

    # Execute / Assert: the same request again is refused, and so is an unpaid one
    with pytest.raises(PredictionError) as replayed:
        consumer.send(paid.request.id, consumer.encrypt(image))
    with pytest.raises(PredictionError) as unpaid:
        consumer.send("req-" + "e" * 32, consumer.encrypt(image))
    assert replayed.value.code == "ALREADY_EXISTS"
    assert unpaid.value.code == "FAILED_PRECONDITION"
    audit = json.loads(reader.evaluate("TokenAudit"))
    assert audit["total_supply"] == sum(audit["balances"].values()) + sum(audit["escrows"].values())


def test_an_unanswered_request_is_reclaimed_after_its_deadline_and_then_never_served(
    market: Market,
) -> None:
    # Prepare: pay for a ciphertext with the shortest deadline and do not send it
    consumer = PredictionConsumer(market.keyholder(), market.client)
    ciphertext = consumer.encrypt(np.random.default_rng(13).random(784))
    me = _me(market.consumer)
    before = _balance(market.consumer, me)
    request = pay_for(market.consumer, market.offer.id, ciphertext, MIN_REQUEST_SECONDS)

    # Execute: too early, then after the deadline (by this machine's clock, which the peers
    # accept within their time window)
    with pytest.raises(ContractError) as early:
        reclaim(market.consumer, request.id)
    while time.time() < request.deadline + 1:
        time.sleep(0.25)
    refunded = reclaim(market.consumer, request.id)
    with pytest.raises(PredictionError) as late:
        consumer.send(request.id, ciphertext)

    # Assert
    assert early.value.message.startswith(
        f"prediction request {request.id} is open until {request.deadline}; "
        "it cannot be reclaimed at "
    )
    assert refunded.status == "reclaimed"
    assert _balance_until(market.consumer, me, before) == before
    assert get_request(market.consumer, request.id).status == "reclaimed"
    # The seller's peer may not have the reclaim's block yet; then the deadline refuses it.
    assert late.value.code == "FAILED_PRECONDITION"
    assert late.value.message.endswith(f"request {request.id} was reclaimed by its consumer") or (
        f"request {request.id} expires at {request.deadline}" in late.value.message
    )


def test_the_predict_command_pays_decrypts_and_verifies_each_answer_against_its_receipt(
    market: Market,
    fabric_network: LocalNetwork,
    fabric_profile: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Prepare: two images labelled with the plaintext model's classes; Org3's User2 pays
    images = (np.random.default_rng(14).random((2, 784)) * 255).astype(np.uint8)
    labels = market.model.logits(images / 255.0).argmax(axis=1)
    source = tmp_path / "inputs.npz"
    np.savez(source, x=images, y=labels)
    with connect(fabric_profile, org="Org3", user=CLI_BUYER) as buyer:
        register_party(buyer, ["consumer"], _kx())
        _mint(market.participants["Org1"], buyer, 2 * PRICE)
        before = _balance(buyer, _me(buyer))

    # Execute
    code, out, err = run_cli(
        capsys, "predict", "--offer", market.offer.id, "--input", str(source), "--count", "2",
        "--verify", "--json", "--org", "Org3", "--user", CLI_BUYER,
        "--state", str(fabric_network.layout.root),
    )  # fmt: skip

    # Assert
    assert code == 0, err
    summary = json.loads(out)
    assert [p["class"] for p in summary["predictions"]] == [int(c) for c in labels]
    assert summary["accuracy"] == 1.0
    assert (summary["count"], summary["receipts_verified"]) == (2, 2)
    assert (summary["balance_before"], summary["paid"]) == (before, 2 * PRICE)
    assert all(p["response_bytes"] < 100_000 for p in summary["predictions"])


def test_two_concurrent_receipts_of_one_request_pay_it_exactly_once(
    market: Market, fabric_profile: Path
) -> None:
    # Prepare: a paid request, and two connections of the seller submitting its receipt at once
    request = pay_for(market.consumer, market.offer.id, b"concurrent input", 60)
    reader = market.participants["Org1"]
    seller_id = _me(market.participants["Org2"])
    before = _balance(reader, seller_id)
    deadline = time.monotonic() + READ_WAIT_SECONDS  # the seller's peer may be a block behind
    while query_or_none(market.participants["Org2"], "GetPredictionRequest", request.id) is None:
        assert time.monotonic() < deadline, "the payment never reached the seller's peer"
        time.sleep(0.2)
    with (
        connect(fabric_profile, org="Org2", user="User1") as first,
        connect(fabric_profile, org="Org2", user="User1") as second,
    ):
        # Execute
        outcomes = race(
            [lambda: first.submit("SubmitReceipt", request.id, "0" * 64),
             lambda: second.submit("SubmitReceipt", request.id, "1" * 64)]
        )  # fmt: skip

    # Assert: one receipt committed; the other was refused on the status it left, or lost the
    # MVCC race at commit; the seller was paid once
    winner = the_one_winner(outcomes, f"prediction request {request.id} already has a receipt")
    fee = PRICE * FEE_BP // 10_000
    share = json.loads(outcomes[winner])["shares"][seller_id]  # type: ignore[arg-type]
    assert _balance_until(reader, seller_id, before + fee + share) == before + fee + share
