"""Exported global models: Keras files that load back with the same weights."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fedledger.errors import LearningError
from fedledger.learning.export import save_keras_model
from fedledger.learning.models import initial_weights
from fedledger.learning.runtime import import_keras
from fedledger.learning.weights import get_weight_vector

pytestmark = pytest.mark.slow


def test_a_relu_model_loads_with_plain_keras_and_holds_the_exported_weights(
    tmp_path: Path,
) -> None:
    weights = initial_weights("mlp32", seed=3) + 0.5

    path = save_keras_model("mlp32", weights, tmp_path / "m.keras")

    loaded = get_weight_vector(import_keras().models.load_model(path))
    assert np.array_equal(loaded.astype(np.float32), weights.astype(np.float32))


def test_a_quadratic_model_loads_in_a_fresh_process_through_load_keras_model(
    tmp_path: Path,
) -> None:
    weights = initial_weights("mlp32q", seed=1)
    path = save_keras_model("mlp32q", weights, tmp_path / "q.keras")
    code = (
        "import sys, numpy as np\n"
        "from fedledger.learning.export import load_keras_model\n"
        "from fedledger.learning.weights import get_weight_vector\n"
        "print(float(np.sum(get_weight_vector(load_keras_model(sys.argv[1])))))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) == pytest.approx(float(np.sum(weights)))


def test_a_file_name_without_the_keras_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LearningError, match=r"m\.h5: a Keras model file must end in \.keras"):
        save_keras_model("mlp32", initial_weights("mlp32"), tmp_path / "m.h5")
