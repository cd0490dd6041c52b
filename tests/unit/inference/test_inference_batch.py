"""Batched (feature-major) encrypted prediction against the plaintext model."""

from __future__ import annotations

import numpy as np
import pytest

from fedledger.errors import InferenceError
from fedledger.inference.batch import BatchedMlp, decrypt_batch, encrypt_batch
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.model import PolyMlp
from fedledger.inference.params import CkksParams
from fedledger.learning.datasets import DataSplit


@pytest.fixture(scope="module")
def batched(trained_model: PolyMlp, ckks_params: CkksParams) -> BatchedMlp:
    return BatchedMlp(trained_model, ckks_params)


@pytest.mark.slow
def test_a_batch_of_held_out_images_matches_the_plaintext_model(
    batched: BatchedMlp, trained_model: PolyMlp, ckks_params: CkksParams, mnist_split: DataSplit
) -> None:
    # Prepare
    images = mnist_split.test.x[50:57]
    keyholder = KeyHolder(ckks_params, batched.layout)
    keys = batched.load_context(keyholder.public_context())

    # Execute
    results = batched.evaluate_bytes(keys, encrypt_batch(keyholder, images))
    logits = decrypt_batch(keyholder, results, len(images))

    # Assert
    expected = trained_model.logits(images)
    assert np.array_equal(logits.argmax(axis=1), expected.argmax(axis=1))
    assert np.abs(logits - expected).max() < ckks_params.tolerance
    assert keys.galois_keys.size() == 0  # no rotations, so no Galois keys were sent


def test_a_batch_context_is_not_a_single_image_context(
    batched: BatchedMlp, keyholder: KeyHolder
) -> None:
    with pytest.raises(
        InferenceError, match="Galois keys hold 10 keys; this layout needs exactly 0"
    ):
        batched.load_context(keyholder.public_context())


def test_batches_of_the_wrong_shape_or_count_are_rejected(
    batched: BatchedMlp, ckks_params: CkksParams
) -> None:
    keyholder = KeyHolder(ckks_params, batched.layout)
    with pytest.raises(InferenceError, match=r"a batch must have shape \(1..4096, 784\)"):
        encrypt_batch(keyholder, np.zeros((2, 783)))
    keys = batched.load_context(keyholder.public_context())
    with pytest.raises(InferenceError, match="a batch has 784 ciphertexts, got 1"):
        batched.evaluate(keys, [None])
