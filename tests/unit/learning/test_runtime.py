"""Tests for the lazy, explicit TensorFlow runtime: light imports, validated configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fedledger.errors import LearningError
from fedledger.learning.runtime import configure_tensorflow


def test_importing_the_learning_modules_does_not_import_tensorflow_or_mlxtend() -> None:
    # Prepare: a fresh interpreter, since this test session may already have TensorFlow loaded
    modules = ", ".join(
        f"fedledger.learning.{name}"
        for name in (
            "baseline",
            "datasets",
            "evaluation",
            "fedavg",
            "idx",
            "models",
            "partition",
            "runtime",
            "training",
            "weights",
        )
    )
    heavy = "{'tensorflow', 'keras', 'mlxtend'}"
    code = f"import sys, {modules}; print(sorted({heavy} & set(sys.modules)))"

    # Execute
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    # Assert
    assert result.stdout.strip() == "[]"
    assert result.stderr == ""


def test_configure_rejects_a_non_positive_thread_count() -> None:
    with pytest.raises(LearningError, match="threads must be a positive integer, got 0"):
        configure_tensorflow(threads=0)
