"""Key ceremony: shares dealt, sealed to their parties, bound to task and party, verified."""

from __future__ import annotations

import dataclasses

import pytest

from fedledger.crypto.ceremony import (
    CeremonyResult,
    deal_from_private_key,
    key_share_associated_data,
    open_key_share,
    run_ceremony,
    share_indices,
)
from fedledger.crypto.envelope import generate_private_key, public_key_bytes, seal
from fedledger.crypto.keys import PrivateKey
from fedledger.crypto.threshold import KeyShare
from fedledger.crypto.wire import key_share_to_bytes, threshold_key_from_bytes
from fedledger.errors import CryptoError, EnvelopeError

TASK = b"task-7"
PARTY_IDS = ["Org1MSP/" + "a" * 64, "Org2MSP/" + "b" * 64, "Org3MSP/" + "c" * 64]


@pytest.fixture(scope="module")
def x25519_keys() -> dict[str, bytes]:
    return {party_id: generate_private_key() for party_id in PARTY_IDS}


@pytest.fixture(scope="module")
def ceremony(key2048: PrivateKey, x25519_keys: dict[str, bytes]) -> CeremonyResult:
    parties = [(party_id, public_key_bytes(x25519_keys[party_id])) for party_id in PARTY_IDS]
    return deal_from_private_key(key2048, parties, 2, associated_data=TASK)


def _open(
    ceremony: CeremonyResult, party_id: str, x25519: bytes, *, task: bytes = TASK
) -> KeyShare:
    return open_key_share(
        ceremony.envelopes[party_id], x25519, associated_data=task, party_id=party_id,
        threshold_key=ceremony.threshold_key,
    )  # fmt: skip


def test_every_party_opens_its_share_at_its_list_index(
    ceremony: CeremonyResult, x25519_keys: dict[str, bytes]
) -> None:
    # Execute
    shares = {p: _open(ceremony, p, x25519_keys[p]) for p in PARTY_IDS}
    # Assert
    assert {p: s.index for p, s in shares.items()} == {p: i for i, p in enumerate(PARTY_IDS, 1)}
    assert ceremony.indices == share_indices(PARTY_IDS)
    assert len({s.secret for s in shares.values()}) == 3


def test_published_data_is_the_threshold_key_and_nothing_private(
    key2048: PrivateKey, ceremony: CeremonyResult
) -> None:
    # Execute
    parsed = threshold_key_from_bytes(ceremony.threshold_public)
    # Assert
    assert parsed == ceremony.threshold_key
    assert (parsed.threshold, parsed.parties) == (2, 3)
    assert ceremony.public_key == key2048.public_key
    assert [f.name for f in dataclasses.fields(ceremony)] == [
        "public_key", "threshold_key", "threshold_public", "envelopes", "indices",
    ]  # fmt: skip
    assert not any(isinstance(v, PrivateKey | KeyShare) for v in vars(ceremony).values())


def test_another_party_cannot_open_an_envelope(
    ceremony: CeremonyResult, x25519_keys: dict[str, bytes]
) -> None:
    alice, bob = PARTY_IDS[:2]
    with pytest.raises(EnvelopeError, match="sealed to another recipient"):
        _open(ceremony, alice, x25519_keys[bob])


def test_an_envelope_does_not_open_for_another_task(
    ceremony: CeremonyResult, x25519_keys: dict[str, bytes]
) -> None:
    alice = PARTY_IDS[0]
    with pytest.raises(EnvelopeError, match="tampered with or sealed to another recipient"):
        _open(ceremony, alice, x25519_keys[alice], task=b"task-8")


def test_an_envelope_does_not_open_as_another_partys(
    ceremony: CeremonyResult, x25519_keys: dict[str, bytes]
) -> None:
    # Prepare: Bob's envelope re-published as Alice's, sealed to the same key pair.
    alice, bob = PARTY_IDS[:2]
    # Execute / Assert
    with pytest.raises(EnvelopeError):
        open_key_share(
            ceremony.envelopes[bob], x25519_keys[bob], associated_data=TASK, party_id=alice,
            threshold_key=ceremony.threshold_key,
        )  # fmt: skip


def test_a_share_that_does_not_match_its_verification_key_is_refused(
    ceremony: CeremonyResult, x25519_keys: dict[str, bytes]
) -> None:
    # Prepare: a well-formed but wrong share, sealed exactly as the dealer would.
    alice = PARTY_IDS[0]
    forged = key_share_to_bytes(ceremony.threshold_key, KeyShare(1, 12345))
    envelope = seal(
        public_key_bytes(x25519_keys[alice]), forged,
        associated_data=key_share_associated_data(TASK, alice),
    )  # fmt: skip
    # Execute / Assert
    with pytest.raises(CryptoError, match="key share 1 does not match its verification key"):
        open_key_share(
            envelope, x25519_keys[alice], associated_data=TASK, party_id=alice,
            threshold_key=ceremony.threshold_key,
        )  # fmt: skip


def test_associated_data_is_unambiguous() -> None:
    assert key_share_associated_data(b"ab", "c") != key_share_associated_data(b"a", "bc")


def test_share_indices_follow_the_participant_list() -> None:
    assert share_indices(["z", "a", "m"]) == {"z": 1, "a": 2, "m": 3}


@pytest.mark.parametrize(
    ("party_ids", "message"),
    [([], "at least one party"), (["a", "a"], "'a' is listed twice"), (["a", ""], "party 2 has")],
)
def test_share_indices_reject_bad_lists(party_ids: list[str], message: str) -> None:
    with pytest.raises(CryptoError, match=message):
        share_indices(party_ids)


@pytest.mark.parametrize(
    ("parties", "threshold", "message"),
    [
        ([("a", bytes(32)), ("b", bytes(32))], 3, "threshold ≤ parties, got 3 of 2"),
        ([("a", bytes(32)), ("b", bytes(32))], 0, "threshold ≤ parties, got 0 of 2"),
        ([("a", bytes(32)), ("b", b"short")], 1, "party 'b': an X25519 public key is 32"),
        ([("a", bytes(32)), ("a", bytes(32))], 1, "listed twice"),
    ],
)
def test_bad_ceremony_input_is_refused_before_any_key_is_generated(
    parties: list[tuple[str, bytes]], threshold: int, message: str
) -> None:
    with pytest.raises(CryptoError, match=message):
        run_ceremony(parties, threshold)


def test_dealing_to_an_unusable_x25519_key_fails(key2048: PrivateKey) -> None:
    # Prepare: the all-zero point has small order, so no shared secret exists.
    parties = [("a", public_key_bytes(generate_private_key())), ("b", bytes(32))]
    # Execute / Assert
    with pytest.raises(EnvelopeError, match="unusable recipient public key"):
        deal_from_private_key(key2048, parties, 2)
