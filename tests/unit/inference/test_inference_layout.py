"""The slot layout's linear algebra, checked in plaintext: rotations simulated with numpy.

If the diagonals, the baby-step/giant-step split and the full-cycle sums are right, evaluating
them on plaintext slot vectors gives exactly the dense model's logits, with zeros outside the
output cosets. Hypothesis draws small shapes so every branch of the layout is exercised.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedledger.errors import InferenceError
from fedledger.inference.layout import SlotLayout, baby_step_plan


def rot(v: np.ndarray, step: int) -> np.ndarray:
    """CKKS rotate_vector by ``step`` (left): slot s receives slot s + step."""
    return np.roll(v, -step)


def dense(
    layout: SlotLayout, x: np.ndarray, diagonals: dict[tuple[int, int], np.ndarray], baby: int
) -> np.ndarray:
    rotated = [x]
    for source, key in baby_step_plan(baby):
        rotated.append(rot(rotated[source], key))
    giants = max(g for _, g in diagonals) + 1
    acc = np.zeros(layout.slots)
    for g in range(giants - 1, -1, -1):
        acc = rot(acc, baby) + sum(
            (d * rotated[b] for (b, gg), d in diagonals.items() if gg == g),
            start=np.zeros(layout.slots),
        )
    return acc


def plaintext_pipeline(layout: SlotLayout, x, w1, b1, w2, b2) -> np.ndarray:
    z = dense(layout, layout.pack(x), layout.first_layer_diagonals(w1), layout.first_baby)
    for step in layout.cycle_steps():
        z = z + rot(z, step)
    u = (z + layout.per_coset(b1)) ** 2
    out = dense(layout, u, layout.second_layer_diagonals(w2), layout.second_baby)
    return out + layout.per_coset(b2)


@settings(max_examples=40, deadline=None)
@given(
    log_slots=st.integers(6, 9),
    log_hidden=st.integers(2, 4),
    inputs=st.integers(1, 60),
    classes=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_layout_pipeline_equals_the_dense_model(
    log_slots: int, log_hidden: int, inputs: int, classes: int, seed: int
) -> None:
    # Prepare
    slots, hidden = 1 << log_slots, 1 << log_hidden
    try:
        layout = SlotLayout(slots, inputs, hidden, classes)
    except InferenceError:
        return  # too many inputs for this ring: rejected, checked separately
    rng = np.random.default_rng(seed)
    x = rng.normal(size=inputs)
    w1, b1 = rng.normal(size=(inputs, hidden)), rng.normal(size=hidden)
    w2, b2 = rng.normal(size=(hidden, classes)), rng.normal(size=classes)

    # Execute
    out = plaintext_pipeline(layout, x, w1, b1, w2, b2)

    # Assert
    expected = ((x @ w1 + b1) ** 2) @ w2 + b2
    grid = out.reshape(layout.positions, hidden)
    np.testing.assert_allclose(grid[:, :classes], np.tile(expected, (layout.positions, 1)))
    np.testing.assert_allclose(grid[:, classes:], 0.0, atol=1e-9)
    np.testing.assert_allclose(layout.logits(out), expected)


def test_mlp32_at_n8192_needs_ten_galois_keys_and_eight_chunks() -> None:
    layout = SlotLayout(4096, 784, 32, 10)
    assert (layout.positions, layout.chunks, layout.chunk_size) == (128, 8, 98)
    assert layout.rotation_steps() == [1, 2, 4, 32, 64, 128, 256, 512, 1024, 2048]


def test_every_input_is_packed_once_per_chunk_coset() -> None:
    layout = SlotLayout(4096, 784, 32, 10)
    index = layout.input_index()
    counts = np.bincount(index[index >= 0], minlength=784)
    assert counts.min() == counts.max() == 32 // 8


def test_baby_steps_use_power_of_two_keys_one_rotation_each() -> None:
    assert baby_step_plan(4) == [(0, 1), (0, 2), (1, 2)]
    assert baby_step_plan(8)[-1] == (3, 4)


@pytest.mark.parametrize(
    ("slots", "inputs", "hidden", "classes", "message"),
    [
        (4096, 784, 24, 10, "hidden width 24 must be a power of two dividing 4096 slots"),
        (4096, 784, 8, 10, "10 classes do not fit 8 hidden cosets"),
        (512, 784, 32, 10, "784 inputs need 64 chunks of at most 16 slots"),
    ],
)
def test_layouts_that_cannot_work_are_rejected(
    slots: int, inputs: int, hidden: int, classes: int, message: str
) -> None:
    with pytest.raises(InferenceError, match=message):
        SlotLayout(slots, inputs, hidden, classes)


def test_an_input_of_the_wrong_length_is_rejected() -> None:
    layout = SlotLayout(4096, 784, 32, 10)
    with pytest.raises(InferenceError, match=r"an input must have shape \(784,\), got \(783,\)"):
        layout.pack(np.zeros(783))
