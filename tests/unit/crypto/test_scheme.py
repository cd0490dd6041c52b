"""The task's encryption scheme through its seam: both halves of packed threshold Paillier.

The clients' half (:mod:`fedledger.crypto.scheme`) deals, opens keys, encrypts, makes shares and
combines them; the chaincode's half (:mod:`fedledger.protocol.scheme`) checks the update,
aggregates and checks the shares, all through the registries, as the round flow and the contract
use them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

import pytest

from fedledger.crypto.envelope import generate_private_key, public_key_bytes
from fedledger.crypto.keys import PrivateKey
from fedledger.crypto.paillier_scheme import PaillierScheme
from fedledger.crypto.scheme import SchemeRefusal, TaskKeys
from fedledger.crypto.schemes import plan_scheme, scheme_named, task_scheme
from fedledger.errors import CryptoError
from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.schemes import ledger_scheme, ledger_scheme_named, scheme_name
from fedledger.protocol.task_records import TaskRecord, task_record
from fedledger.protocol.training import parse_task_request

ALICE, BOB, CAROL = (f"Org{i}MSP/{c * 64}" for i, c in ((1, "a"), (2, "b"), (3, "c")))
PARTIES = (ALICE, BOB, CAROL)
VALUES = 5


@dataclass(frozen=True)
class Plan:
    threshold: int = 2
    key_bits: int = 2048
    frac_bits: int = 14
    clip: float = 0.25


@dataclass(frozen=True)
class Dealt:
    task: TaskRecord
    keys: dict[str, TaskKeys]


@pytest.fixture(scope="module")
def dealt(key2048: PrivateKey) -> Dealt:
    kx = {party: generate_private_key() for party in PARTIES}
    recipients = [(party, public_key_bytes(kx[party])) for party in PARTIES]
    scheme = plan_scheme(Plan())
    published = scheme.deal(Plan(), (key2048.public_key, key2048), recipients)
    request = {
        "model": "mlp32", "model_hash": "ab" * 32, "initial_weights_hash": "cd" * 32,
        "value_count": VALUES, **published.task_fields, "threshold": 2,
        "participants": [{"party": p, "samples": 10} for p in PARTIES], "quorum": 2,
        "rounds": 1, "round_seconds": 600, "tolerance_bp": 100,
    }  # fmt: skip
    task = task_record(
        parse_task_request(json.dumps(request)),
        task="task-1",
        proposer=f"Org0MSP/{'d' * 64}",
        at=1,
        tx_id="t",
    )
    public = scheme.check_key(task)
    keys = {p: public.open_keys(published.envelopes[p], kx[p], p) for p in PARTIES}
    return Dealt(task, keys)


def _submit(dealt: Dealt, party: str, values: list[float]) -> str:
    """Encrypt for round 1 and have the ledger's half check it; return the stored vector."""
    keys = dealt.keys[party]
    keys.prepare()
    update = keys.encrypt_update(values, 1, party)
    raw = base64.b64decode(update.vector)
    ledger_scheme(dealt.task).check_update(dealt.task, 1, party, raw, update.proof)
    return update.vector


def test_a_round_through_the_seam_decrypts_the_sum_of_the_updates(dealt: Dealt) -> None:
    updates = {ALICE: [0.1, -0.2, 0.0, 0.05, 0.2], BOB: [0.1, 0.1, 0.1, -0.05, 0.3]}
    stored = [_submit(dealt, party, values) for party, values in updates.items()]
    ledger = ledger_scheme(dealt.task)

    aggregate_b64 = base64.b64encode(ledger.aggregate(dealt.task, stored)).decode()
    aggregate = CipherVector.from_base64(aggregate_b64)
    shares = []
    for party in (BOB, CAROL):
        share = dealt.keys[party].decryption_share(aggregate)
        ledger.check_share(dealt.task, party, base64.b64decode(share), aggregate_b64)
        shares.append((party, share))
    total = dealt.keys[ALICE].combine(aggregate, shares, summands=2)

    expected = [0.2, -0.1, 0.1, 0.0, 0.45]  # 0.2 + 0.3 clipped to 0.25
    assert total == pytest.approx(expected, abs=2 * 2**-14)


def test_the_encryption_counts_the_values_it_clips(dealt: Dealt) -> None:
    update = dealt.keys[ALICE].encrypt_update([0.3, -0.26, 0.25, 0.0, 0.0], 1, ALICE)

    assert update.clipped == 2


def test_the_ledger_refuses_an_update_proven_for_someone_else(dealt: Dealt) -> None:
    update = dealt.keys[ALICE].encrypt_update([0.0] * VALUES, 1, ALICE)

    with pytest.raises(ProtocolError):
        ledger_scheme(dealt.task).check_update(
            dealt.task, 1, BOB, base64.b64decode(update.vector), update.proof
        )


def test_the_ledger_refuses_a_share_under_another_partys_index(dealt: Dealt) -> None:
    stored = _submit(dealt, ALICE, [0.0] * VALUES)
    aggregate_b64 = base64.b64encode(ledger_scheme(dealt.task).aggregate(dealt.task, [stored]))
    share = dealt.keys[BOB].decryption_share(CipherVector.from_base64(aggregate_b64.decode()))

    with pytest.raises(ProtocolError, match="share is invalid: it claims share index 2, party "):
        ledger_scheme(dealt.task).check_share(
            dealt.task, CAROL, base64.b64decode(share), aggregate_b64.decode()
        )


def test_a_participant_refuses_threshold_data_for_another_threshold(dealt: Dealt) -> None:
    changed = replace(dealt.task, threshold=3)

    with pytest.raises(SchemeRefusal, match="deals 2 of 3 shares, the task says 3 of 3"):
        task_scheme(changed).check_key(changed)


def test_every_task_is_paillier_until_the_record_names_a_scheme(dealt: Dealt) -> None:
    assert scheme_name(dealt.task) == "paillier"
    assert isinstance(task_scheme(dealt.task), PaillierScheme)
    assert ledger_scheme(dealt.task).name == task_scheme(dealt.task).name


def test_an_unknown_scheme_is_a_clear_error_on_both_sides() -> None:
    with pytest.raises(CryptoError, match="unknown encryption scheme 'lattice'"):
        scheme_named("lattice")
    with pytest.raises(ProtocolError, match="unknown encryption scheme 'lattice'"):
        ledger_scheme_named("lattice")


def test_the_dealer_refuses_key_material_that_is_not_a_paillier_key_pair() -> None:
    with pytest.raises(CryptoError, match="a \\(PublicKey, PrivateKey\\) pair"):
        PaillierScheme().deal(Plan(), "not a key", [])


def test_the_keys_refuse_an_aggregate_of_another_kind(dealt: Dealt) -> None:
    with pytest.raises(CryptoError, match="a Paillier aggregate is a CipherVector, got str"):
        dealt.keys[ALICE].decryption_share("AAAA")
