"""The proof of plaintext knowledge: complete, bound to its context, refused for others' vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.crypto.encoding import EncodingParams
from fedledger.crypto.keys import PrivateKey
from fedledger.crypto.randomness import RandomnessPool
from fedledger.crypto.vectors import decrypt_vector, encrypt_update
from fedledger.errors import CryptoError
from fedledger.protocol.ciphervec import CipherVector
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.popk import (
    PlaintextProof,
    ProofContext,
    proof_base64_chars,
    verify_plaintext_proof,
)

TASK = "task-" + "1" * 32
ALICE = "Org1MSP/" + "a" * 64
BOB = "Org2MSP/" + "b" * 64


def _params(key: PrivateKey) -> EncodingParams:
    return EncodingParams.create(
        frac_bits=8, clip=1.0, max_summands=3, modulus_bits=key.public_key.bits
    )


def _context(key: PrivateKey, party: str = ALICE, number: int = 1) -> ProofContext:
    return ProofContext(TASK, number, party, key.public_key.fingerprint)


def _verify(
    key: PrivateKey, vector: CipherVector, proof: PlaintextProof, ctx: ProofContext
) -> None:
    digest = hashlib.sha256(vector.to_bytes()).digest()
    verify_plaintext_proof(key.public_key.n, vector.ciphertexts, digest, proof, ctx)


def _with(vector: CipherVector, ciphertexts: tuple[int, ...]) -> CipherVector:
    return CipherVector(
        vector.key_fingerprint, vector.spec, vector.value_count, vector.ciphertext_width,
        ciphertexts,
    )  # fmt: skip


values = st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(values=values, number=st.integers(1, 999_999))
def test_an_honest_proof_verifies_and_the_vector_still_decrypts(
    tiny_key: PrivateKey, tiny_pool: RandomnessPool, values: list[float], number: int
) -> None:
    params = _params(tiny_key)
    ctx = _context(tiny_key, number=number)

    vector, proof = encrypt_update(values, tiny_key.public_key, params, tiny_pool, ctx)

    _verify(tiny_key, vector, proof, ctx)
    decoded = decrypt_vector(tiny_key, vector)
    assert max(abs(a - b) for a, b in zip(decoded, values, strict=True)) <= params.resolution


@settings(max_examples=40, deadline=None)
@given(
    values=values,
    field=st.sampled_from(["task", "round", "party", "challenge", "z", "w"]),
)
def test_a_proof_verifies_for_nothing_but_its_own_context_and_responses(
    tiny_key: PrivateKey, tiny_pool: RandomnessPool, values: list[float], field: str
) -> None:
    ctx = _context(tiny_key)
    vector, proof = encrypt_update(values, tiny_key.public_key, _params(tiny_key), tiny_pool, ctx)
    n = tiny_key.public_key.n
    if field == "task":
        ctx = ProofContext("task-" + "2" * 32, ctx.round, ctx.party, ctx.key_fingerprint)
    elif field == "round":
        ctx = ProofContext(ctx.task_id, ctx.round + 1, ctx.party, ctx.key_fingerprint)
    elif field == "party":
        ctx = ProofContext(ctx.task_id, ctx.round, BOB, ctx.key_fingerprint)
    elif field == "challenge":
        proof = PlaintextProof(n, proof.challenge ^ 1, proof.z, proof.w)
    elif field == "z":
        proof = PlaintextProof(n, proof.challenge, (proof.z + 1) % n, proof.w)
    else:
        proof = PlaintextProof(n, proof.challenge, proof.z, proof.w * 4 % n)

    with pytest.raises(ProtocolError, match=r"does not verify|not in Z"):
        _verify(tiny_key, vector, proof, ctx)


@settings(max_examples=30, deadline=None)
@given(values=values, data=st.data())
def test_changing_any_ciphertext_breaks_the_proof(
    tiny_key: PrivateKey, tiny_pool: RandomnessPool, values: list[float], data: st.DataObject
) -> None:
    ctx = _context(tiny_key)
    vector, proof = encrypt_update(values, tiny_key.public_key, _params(tiny_key), tiny_pool, ctx)
    index = data.draw(st.integers(0, len(vector.ciphertexts) - 1))
    nsquare = tiny_key.public_key.nsquare
    changed = list(vector.ciphertexts)
    changed[index] = changed[index] * (1 + tiny_key.public_key.n) % nsquare  # plaintext + 1

    with pytest.raises(ProtocolError, match="does not verify"):
        _verify(tiny_key, _with(vector, tuple(changed)), proof, ctx)


def test_a_proof_survives_its_wire_format_and_is_small(
    key2048: PrivateKey, pool2048: RandomnessPool
) -> None:
    ctx = _context(key2048)
    _, proof = encrypt_update([0.25] * 500, key2048.public_key, _params(key2048), pool2048, ctx)

    text = proof.to_base64()

    assert PlaintextProof.from_base64(text, key2048.public_key.n) == proof
    assert len(text) == proof_base64_chars(key2048.public_key.n) == 780


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw[:-1], "proof must be 583 bytes, got 582"),
        (lambda raw: b"XXXX" + raw[4:], "bad magic bytes"),
        (lambda raw: raw[:4] + b"\x02" + raw[5:], "unknown proof format version 2"),
        (lambda raw: raw[:5] + bytes(32) + raw[37:], "proof is for key 0000000000000000…"),
        (lambda raw: raw[:-256] + b"\xff" * 256, r"responses must lie in \[0, n\)"),
    ],
)
def test_malformed_proofs_are_refused_with_a_reason(
    key2048: PrivateKey, pool2048: RandomnessPool, mutate: object, message: str
) -> None:
    ctx = _context(key2048)
    _, proof = encrypt_update([0.5], key2048.public_key, _params(key2048), pool2048, ctx)

    with pytest.raises(ProtocolError, match=message):
        PlaintextProof.from_bytes(mutate(proof.to_bytes()), key2048.public_key.n)  # type: ignore[operator]


def test_a_proof_for_another_key_is_refused(
    key2048: PrivateKey, other_key2048: PrivateKey, pool2048: RandomnessPool
) -> None:
    ctx = _context(key2048)
    _, proof = encrypt_update([0.5], key2048.public_key, _params(key2048), pool2048, ctx)

    with pytest.raises(ProtocolError, match="proof is for key"):
        PlaintextProof.from_bytes(proof.to_bytes(), other_key2048.public_key.n)


def test_the_prover_refuses_a_context_under_another_key(
    key2048: PrivateKey, other_key2048: PrivateKey, pool2048: RandomnessPool
) -> None:
    ctx = _context(other_key2048)

    with pytest.raises(CryptoError, match="name different keys"):
        encrypt_update([0.5], key2048.public_key, _params(key2048), pool2048, ctx)


class TestTheAttacksItStops:
    """Bob holds Alice's vector and proof from the ledger and tries to submit something of it."""

    @pytest.fixture
    def alice(
        self, key2048: PrivateKey, pool2048: RandomnessPool
    ) -> tuple[CipherVector, PlaintextProof]:
        ctx = _context(key2048, ALICE)
        return encrypt_update(
            [0.3, -0.2] * 200, key2048.public_key, _params(key2048), pool2048, ctx
        )

    def test_her_inverted_vector_cannot_be_proven(
        self, key2048: PrivateKey, alice: tuple[CipherVector, PlaintextProof]
    ) -> None:
        vector, proof = alice
        nsquare = key2048.public_key.nsquare
        inverted = _with(vector, tuple(pow(c, -1, nsquare) for c in vector.ciphertexts))
        forged = PlaintextProof(proof.n, proof.challenge, (-proof.z) % proof.n, proof.w)

        for candidate in (proof, forged):
            with pytest.raises(ProtocolError, match=f"does not verify for party {BOB}"):
                _verify(key2048, inverted, candidate, _context(key2048, BOB))

    def test_her_copied_vector_and_proof_do_not_verify_as_his(
        self, key2048: PrivateKey, alice: tuple[CipherVector, PlaintextProof]
    ) -> None:
        vector, proof = alice

        with pytest.raises(ProtocolError, match=f"does not verify for party {BOB}"):
            _verify(key2048, vector, proof, _context(key2048, BOB))

    def test_her_vector_rerandomised_by_an_encryption_of_zero_cannot_be_proven(
        self,
        key2048: PrivateKey,
        pool2048: RandomnessPool,
        alice: tuple[CipherVector, PlaintextProof],
    ) -> None:
        vector, proof = alice
        nsquare = key2048.public_key.nsquare
        zeros = pool2048.take(len(vector.ciphertexts))  # r^n: encryptions of 0
        copy = _with(
            vector,
            tuple(int(c * r % nsquare) for c, r in zip(vector.ciphertexts, zeros, strict=True)),
        )

        with pytest.raises(ProtocolError, match=f"does not verify for party {BOB}"):
            _verify(key2048, copy, proof, _context(key2048, BOB))
