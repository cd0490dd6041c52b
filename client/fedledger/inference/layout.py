"""Where each value sits in the CKKS slots, and the weight diagonals that match, for an MLP.

The layout makes both dense layers cheap in rotations (each rotation is a key switch, the costly
operation) and leaves nothing in the result but the logits.

Slots are indexed s = 0..S-1 (S = N/2). With H hidden units (a power of two), slot s belongs to
*coset* c(s) = s mod H and *position* t(s) = s // H; the T = S/H slots of a coset are exactly the
slots a rotation by a multiple of H permutes among themselves, so summing a vector with its
rotations by H, 2H, 4H, ..., S/2 ("full-cycle sum", log2 T rotations) gives every slot of coset c
the sum over all of coset c: a clean total, no partial sums anywhere.

Input (the consumer packs it; it costs the consumer nothing): the D inputs are cut into K chunks
(K a power of two dividing H, K x T >= D); coset c holds chunk c mod K at its first positions, so
any K consecutive cosets hold all D inputs.

First layer: hidden unit j accumulates in coset j. Rotating the input by k = 0..K-1 brings coset
j+k (mod H) to coset j, a whole coset, merely cyclically shifted in position; so with diagonal
plaintexts P_k[s] = W[input at slot s+k, c(s)] the sum of P_k ⊙ rot(x, k) over k, full-cycle
summed, holds Σ_i W[i, j] x_i in every slot of coset j. Baby-step/giant-step splits k = b + B·g:
rotate the input B-1 times, multiply, and rotate the per-g sums (Horner, K/B - 1 rotations).

Second layer: the activation leaves a_j in every slot of coset j, so rotating by d brings
a_{(j+d) mod H} to coset j; with diagonals D_d[s] = V[(c(s)+d) mod H, c(s)] for c(s) below the
number of classes (zero elsewhere) the sum over d holds logit m in every slot of coset m and
exactly zero in the other cosets. Again baby-step/giant-step.

For mlp32 at N = 8192 (H = 32, T = 128, K = 8): 1 + 3 + 7 rotations in the first layer, 3 + 7 in
the second, and ten distinct Galois keys: 1, 2, 4 and 32, 64, ..., 2048.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fedledger.errors import InferenceError

__all__ = ["SlotLayout", "baby_step_plan"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Baby steps per layer: the first layer's baby rotations act on the input at the top level
# (four data primes) and its giant rotations one level lower, so few baby steps pay; the second
# layer's baby rotations run at level 2 and its giant ones at level 3, where rotations are cheap.
FIRST_LAYER_BABY = 2
SECOND_LAYER_BABY = 4


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def baby_step_plan(count: int) -> list[tuple[int, int]]:
    """For baby rotations 1..count-1: (step made from, power-of-two key), each one rotation.

    Rotation b is made from rotation b minus its highest bit, so only power-of-two keys are used.
    """
    return [(b - (1 << (b.bit_length() - 1)), 1 << (b.bit_length() - 1)) for b in range(1, count)]


@dataclass(frozen=True)
class SlotLayout:
    """The slot layout of a D-H-C perceptron in S slots (see the module docstring)."""

    slots: int
    inputs: int
    hidden: int
    classes: int

    def __post_init__(self) -> None:
        if not _is_power_of_two(self.hidden) or self.slots % self.hidden:
            raise InferenceError(
                f"hidden width {self.hidden} must be a power of two dividing {self.slots} slots"
            )
        if not 1 <= self.classes <= self.hidden:
            raise InferenceError(f"{self.classes} classes do not fit {self.hidden} hidden cosets")
        if self.chunks > self.hidden:
            raise InferenceError(
                f"{self.inputs} inputs need {self.chunks} chunks of at most {self.positions} "
                f"slots, more than the {self.hidden} cosets: use a larger ring"
            )

    @property
    def positions(self) -> int:
        """T: slots per coset."""
        return self.slots // self.hidden

    @property
    def chunks(self) -> int:
        """K: the smallest power of two with K x T >= D."""
        return 1 << max(0, math.ceil(math.log2(math.ceil(self.inputs / self.positions))))

    @property
    def chunk_size(self) -> int:
        return math.ceil(self.inputs / self.chunks)

    @property
    def first_baby(self) -> int:
        return min(FIRST_LAYER_BABY, self.chunks)

    @property
    def second_baby(self) -> int:
        return min(SECOND_LAYER_BABY, self.hidden)

    def cycle_steps(self) -> list[int]:
        """Rotation steps of the full-cycle sum over a coset: H, 2H, ..., S/2."""
        return [self.hidden << i for i in range(int(math.log2(self.positions)))]

    def rotation_steps(self) -> list[int]:
        """Every rotation step the evaluation uses, ascending: the Galois keys it needs."""
        steps = {key for _, key in baby_step_plan(self.first_baby)}
        steps |= {key for _, key in baby_step_plan(self.second_baby)}
        if self.chunks > self.first_baby:
            steps.add(self.first_baby)
        if self.hidden > self.second_baby:
            steps.add(self.second_baby)
        return sorted(steps | set(self.cycle_steps()))

    def input_index(self) -> IntArray:
        """For every slot, the index of the input it holds, or -1 for a zero slot."""
        s = np.arange(self.slots, dtype=np.int64)
        coset, position = s % self.hidden, s // self.hidden
        index = (coset % self.chunks) * self.chunk_size + position
        valid = (position < self.chunk_size) & (index < self.inputs)
        return np.where(valid, index, -1)

    def pack(self, x: FloatArray) -> FloatArray:
        """The slot vector of one input vector ``x`` (length D)."""
        values = np.asarray(x, dtype=np.float64)
        if values.shape != (self.inputs,):
            raise InferenceError(f"an input must have shape ({self.inputs},), got {values.shape}")
        index = self.input_index()
        packed = np.zeros(self.slots)
        packed[index >= 0] = values[index[index >= 0]]
        return packed

    def first_layer_diagonals(self, kernel: FloatArray) -> dict[tuple[int, int], FloatArray]:
        """Plaintext vectors of the first layer keyed (baby b, giant g), pre-rotated for BSGS.

        ``kernel`` has shape (D, H), Keras' layout.
        """
        index = self.input_index()
        coset = np.arange(self.slots) % self.hidden
        baby = self.first_baby
        out = {}
        for k in range(self.chunks):
            source = index[(np.arange(self.slots) + k) % self.slots]
            diagonal = np.zeros(self.slots)
            used = source >= 0
            diagonal[used] = kernel[source[used], coset[used]]
            out[(k % baby, k // baby)] = np.roll(diagonal, baby * (k // baby))
        return out

    def second_layer_diagonals(self, kernel: FloatArray) -> dict[tuple[int, int], FloatArray]:
        """Plaintext vectors of the second layer keyed (baby b, giant g); ``kernel`` is (H, C)."""
        coset = np.arange(self.slots) % self.hidden
        out_coset = coset < self.classes
        baby = self.second_baby
        out = {}
        for d in range(self.hidden):
            diagonal = np.zeros(self.slots)
            c = coset[out_coset]
            diagonal[out_coset] = kernel[(c + d) % self.hidden, c]
            out[(d % baby, d // baby)] = np.roll(diagonal, baby * (d // baby))
        return out

    def per_coset(self, values: FloatArray) -> FloatArray:
        """A slot vector holding ``values[c]`` in every slot of coset c (for biases)."""
        vector = np.zeros(self.hidden)
        vector[: len(values)] = values
        return np.tile(vector, self.positions)

    def logits(self, slots: FloatArray) -> FloatArray:
        """The C logits from a decrypted result: the mean of each output coset's T copies."""
        grid = np.asarray(slots, dtype=np.float64)[: self.slots].reshape(self.positions, -1)
        return np.asarray(grid[:, : self.classes].mean(axis=0))
