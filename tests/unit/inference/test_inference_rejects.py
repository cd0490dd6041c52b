"""Bad contexts, ciphertexts and parameters are rejected with a clear InferenceError.

A provider parses whatever a consumer sends; every malformed or mismatched object must raise
InferenceError naming the problem (never crash, never evaluate on it).
"""

from __future__ import annotations

import struct
from dataclasses import replace

import numpy as np
import pytest

from fedledger.errors import InferenceError
from fedledger.inference.batch import BatchedMlp
from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.layout import SlotLayout
from fedledger.inference.model import PolyMlp, Quadratic
from fedledger.inference.params import CkksParams, get_params, import_sealapi, seal_context
from fedledger.inference.public_context import (
    MAX_CONTEXT_BYTES,
    EvaluationKeys,
    encode_public_context,
    galois_elements,
)
from fedledger.inference.seal_io import save_object
from fedledger.learning.datasets import DataSplit


def _split_context(data: bytes) -> tuple[bytes, bytes]:
    """The relinearisation and Galois key bytes inside a version-1 public context."""
    offset = 4 + 2 + data[5] + 6
    (relin_len,) = struct.unpack_from(">I", data, offset)
    relin = data[offset + 4 : offset + 4 + relin_len]
    return relin, data[offset + 8 + relin_len :]


@pytest.fixture(scope="module")
def context_bytes(keyholder: KeyHolder) -> bytes:
    return keyholder.public_context()


@pytest.fixture(scope="module")
def image_bytes(keyholder: KeyHolder, mnist_split: DataSplit) -> bytes:
    return keyholder.encrypt(mnist_split.test.x[0])


def test_unknown_parameter_set_is_rejected_listing_known_ones() -> None:
    with pytest.raises(InferenceError, match=r"unknown CKKS parameter set 'tiny'; known: ckks-n"):
        get_params("tiny")


def test_insecure_parameters_are_refused_by_seal() -> None:
    weak = CkksParams("too-wide", 8192, (60, 60, 60, 60), 40)  # 240 bits > 218 for N=8192
    with pytest.raises(InferenceError, match="SEAL refuses parameter set too-wide"):
        seal_context(weak)


@pytest.mark.parametrize("bits", [(40, 30, 60), (40, 30, 30, 30, 30, 60)])
def test_parameters_of_another_depth_than_three_are_refused(
    trained_model: PolyMlp, bits: tuple[int, ...]
) -> None:
    other = CkksParams("other-depth", 8192, bits, 30)
    message = f"allows depth {len(bits) - 2}; the evaluation needs exactly 3"
    with pytest.raises(InferenceError, match=message):
        EncryptedMlp(trained_model, other)
    with pytest.raises(InferenceError, match=message):
        BatchedMlp(trained_model, other)


def test_a_linear_activation_is_not_a_quadratic() -> None:
    with pytest.raises(InferenceError, match="not a quadratic activation"):
        Quadratic(0.0, 1.0, 0.0)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:3], "public context is truncated in its magic"),
        (lambda b: b"XXXX" + b[4:], "public context has the wrong magic bytes"),
        (lambda b: b[:4] + b"\x02" + b[5:], "public context version 2 is not supported"),
        (lambda b: b + b"\x00", "public context has 1 trailing bytes"),
        (lambda b: b[: len(b) - 10], "public context is truncated in its Galois keys"),
        (lambda b: b[:6] + b"ckks-n8192-d4" + b[19:], "is for parameter set 'ckks-n8192-d4'"),
        (lambda b: b[:19] + struct.pack(">HHH", 784, 64, 10) + b[25:], "784-64-10 model"),
    ],
)
def test_malformed_public_contexts_are_rejected(
    encrypted_model: EncryptedMlp, context_bytes: bytes, mutate, message: str
) -> None:
    with pytest.raises(InferenceError, match=message):
        encrypted_model.load_context(mutate(context_bytes))


def test_an_oversized_public_context_is_rejected_before_parsing(
    encrypted_model: EncryptedMlp,
) -> None:
    with pytest.raises(InferenceError, match=f"the limit is {MAX_CONTEXT_BYTES}"):
        encrypted_model.load_context(b"\x00" * (MAX_CONTEXT_BYTES + 1))


def test_keys_that_seal_cannot_load_are_rejected(
    encrypted_model: EncryptedMlp, ckks_params: CkksParams, context_bytes: bytes
) -> None:
    relin, galois = _split_context(context_bytes)
    zeroed = relin[:16] + b"\x00" * (len(relin) - 16)  # a SEAL header, then no valid stream
    bad = encode_public_context(ckks_params, encrypted_model.layout, zeroed, galois)
    with pytest.raises(InferenceError, match="relinearisation keys does not parse"):
        encrypted_model.load_context(bad)
    not_seal = encode_public_context(ckks_params, encrypted_model.layout, relin, b"hello" * 10)
    with pytest.raises(InferenceError, match="Galois keys is not a SEAL object"):
        encrypted_model.load_context(not_seal)


def _galois_for(ckks_params: CkksParams, steps: list[int]) -> bytes:
    keygen = import_sealapi().KeyGenerator(seal_context(ckks_params))
    return save_object(keygen.create_galois_keys(galois_elements(ckks_params, steps)))


def test_missing_or_extra_galois_keys_are_rejected(
    encrypted_model: EncryptedMlp, ckks_params: CkksParams, context_bytes: bytes
) -> None:
    relin, _ = _split_context(context_bytes)
    layout = encrypted_model.layout
    steps = layout.rotation_steps()
    missing = encode_public_context(
        ckks_params, layout, relin, _galois_for(ckks_params, steps[:-1])
    )
    with pytest.raises(InferenceError, match="Galois keys lack 1 of the 10 needed keys"):
        encrypted_model.load_context(missing)
    extra = encode_public_context(ckks_params, layout, relin, _galois_for(ckks_params, [*steps, 8]))
    with pytest.raises(InferenceError, match="Galois keys hold 11 keys; this layout needs exactly"):
        encrypted_model.load_context(extra)


def test_the_public_context_holds_no_secret_key(keyholder: KeyHolder, context_bytes: bytes) -> None:
    # The secret key is only reachable through the KeyHolder's private state; serialise it here
    # to prove that none of its coefficient bytes appear in what the consumer sends.
    secret = save_object(keyholder._keygen.secret_key())
    body = secret[16:]
    windows = {body[i : i + 64] for i in range(0, len(body) - 64, 4096)}
    assert windows
    assert not any(window in context_bytes for window in windows)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"", "input ciphertext is truncated: 0 bytes"),
        (lambda b: b"\x00" * 64, "input ciphertext is not a SEAL object"),
        (lambda b: b[:-1], "input ciphertext claims"),
        (lambda b: b[:16] + b"\x00" * (len(b) - 16), "input ciphertext does not parse"),
        (lambda b: b * 8, "the limit is 1048576"),
    ],
)
def test_malformed_ciphertexts_are_rejected(
    encrypted_model: EncryptedMlp, image_bytes: bytes, mutate, message: str
) -> None:
    with pytest.raises(InferenceError, match=message):
        encrypted_model.load_input(mutate(image_bytes))


def test_a_result_ciphertext_is_not_accepted_as_an_input(
    encrypted_model: EncryptedMlp, evaluation_keys: EvaluationKeys, image_bytes: bytes
) -> None:
    result = encrypted_model.evaluate_bytes(evaluation_keys, image_bytes)
    with pytest.raises(InferenceError, match="input ciphertext is at level 3; expected level 0"):
        encrypted_model.load_input(result)


def test_an_input_at_another_scale_is_rejected(
    encrypted_model: EncryptedMlp, ckks_params: CkksParams, mnist_split: DataSplit
) -> None:
    other = KeyHolder(replace(ckks_params, scale_bits=25), encrypted_model.layout)
    with pytest.raises(InferenceError, match=r"input ciphertext has scale 33554432\.0; expected"):
        encrypted_model.load_input(other.encrypt(mnist_split.test.x[0]))


def test_an_unrelinearised_ciphertext_is_rejected(
    encrypted_model: EncryptedMlp, ckks_params: CkksParams, image_bytes: bytes
) -> None:
    sa = import_sealapi()
    x = encrypted_model.load_input(image_bytes)
    cubic = sa.Ciphertext()
    sa.Evaluator(seal_context(ckks_params)).multiply(x, x, cubic)
    cubic.scale = ckks_params.scale
    with pytest.raises(InferenceError, match="input ciphertext has 3 polynomials; expected 2"):
        encrypted_model.load_input(save_object(cubic))


def test_a_ciphertext_for_another_parameter_set_does_not_parse(
    encrypted_model: EncryptedMlp, mnist_split: DataSplit
) -> None:
    # Another special prime alone would not matter (inputs live at the data level); other data
    # primes do.
    other = CkksParams("other", 8192, (40, 30, 30, 29, 60), 30)
    layout = SlotLayout(other.slots, 784, 32, 10)
    ciphertext = KeyHolder(other, layout).encrypt(mnist_split.test.x[0])
    with pytest.raises(InferenceError, match="input ciphertext does not parse for these CKKS"):
        encrypted_model.load_input(ciphertext)


def test_a_response_that_is_not_a_result_is_rejected_by_the_consumer(
    keyholder: KeyHolder, image_bytes: bytes
) -> None:
    with pytest.raises(InferenceError, match="encrypted result is at level 0; expected level 3"):
        keyholder.decrypt(image_bytes)


def test_weights_with_nan_are_rejected() -> None:
    w1 = np.zeros((4, 2))
    w1[0, 0] = np.nan
    with pytest.raises(InferenceError, match="NaN or infinite"):
        PolyMlp(w1, np.zeros(2), np.zeros((2, 2)), np.zeros(2), Quadratic(1.0, 0.0, 0.0))
