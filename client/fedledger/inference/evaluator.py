"""The provider's side: evaluate a PolyMlp on a CKKS-encrypted input, returning encrypted logits.

The weights are encoded once into plaintext diagonals (:class:`SlotLayout`), at the levels and
scales the evaluation reaches them, so one evaluation is only SEAL operations:

    level 0  x                      baby rotations of the input, products with diagonals
    level 1  z = W1·x + b1 + delta  giant rotations (Horner), full-cycle sum, bias
    level 2  u = z²                 square, relinearise; baby rotations, products
    level 3  logits                 giant rotations, bias

The activation c2·z² + c1·z + c0 is rewritten as c2·(z + delta)² + gamma, with delta folded into
the first bias and c2, gamma into the second layer, so it costs one square and nothing else.
Plaintext scales are the primes each rescaling divides by, so every level returns to the input
scale times a ratio of primes close to 1; the biases are encoded at exactly the scale the
ciphertext has when they are added (computed with SEAL's own double arithmetic).

What the consumer learns: the result holds the logits (each in all slots of its coset) and zeros
elsewhere, no partial sums or hidden activations. CKKS offers no circuit privacy, though: the
noise of the result depends on the computation and, to a small extent, on the weights. What the
provider learns: nothing about the input (IND-CPA under RLWE); the consumer must not reveal exact
decrypted values back to it, as CKKS decryptions leak noise that can help recover the secret key
(Li and Micciancio, 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fedledger.errors import InferenceError
from fedledger.inference.ciphertext import load_ciphertext
from fedledger.inference.layout import FloatArray, SlotLayout, baby_step_plan
from fedledger.inference.model import PolyMlp
from fedledger.inference.params import (
    CkksParams,
    data_primes,
    import_sealapi,
    level_parms_ids,
    scale_chain,
    seal_context,
)
from fedledger.inference.public_context import EvaluationKeys, parse_public_context
from fedledger.inference.seal_io import save_object

__all__ = ["EncryptedMlp", "layout_for"]

_Groups = dict[int, list[tuple[int, Any]]]


def layout_for(model: PolyMlp, params: CkksParams) -> SlotLayout:
    """The slot layout of ``model`` in the slots of ``params``."""
    return SlotLayout(params.slots, model.inputs, model.hidden, model.classes)


class EncryptedMlp:
    """A PolyMlp encoded for encrypted evaluation under one CKKS parameter set."""

    def __init__(self, model: PolyMlp, params: CkksParams) -> None:
        s1, _, s3 = scale_chain(params)
        sa = import_sealapi()
        self.params = params
        self.layout = layout_for(model, params)
        self._context = seal_context(params)
        self._evaluator = sa.Evaluator(self._context)
        self._encoder = sa.CKKSEncoder(self._context)
        self._levels = level_parms_ids(params)
        q = data_primes(params)
        delta, gamma = model.activation.completed_square()
        c2 = model.activation.c2
        self._first = self._groups(self.layout.first_layer_diagonals(model.w1), 0, q[3])
        self._bias1 = self._encode(self.layout.per_coset(model.b1 + delta), 1, s1)
        self._second = self._groups(self.layout.second_layer_diagonals(c2 * model.w2), 2, q[1])
        bias2 = model.b2 + gamma * model.w2.sum(axis=0)
        self._bias2 = self._encode(self.layout.per_coset(bias2), 3, s3)
        if not self._first or not self._second:
            raise InferenceError("a layer of the model has only zero weights")

    def load_context(self, data: bytes) -> EvaluationKeys:
        """Parse a consumer's public context for this model; raises InferenceError if unusable."""
        return parse_public_context(data, self.params, self.layout)

    def load_input(self, data: bytes) -> Any:
        """Parse an encrypted input: top level, the parameter set's scale; else InferenceError."""
        return load_ciphertext(
            data, self.params, level=0, what="input ciphertext", scale=self.params.scale
        )

    def evaluate_bytes(self, keys: EvaluationKeys, data: bytes) -> bytes:
        """Evaluate on serialised input bytes and return the serialised encrypted logits."""
        return self.result_bytes(self.evaluate(keys, self.load_input(data)))

    @staticmethod
    def result_bytes(result: Any) -> bytes:
        """The bytes of an encrypted result, as the consumer receives them."""
        return save_object(result)

    def evaluate(self, keys: EvaluationKeys, x: Any) -> Any:
        """The encrypted logits of encrypted input ``x`` (a checked SEAL ciphertext)."""
        if keys.params != self.params or keys.layout != self.layout:
            raise InferenceError("evaluation keys are for another parameter set or layout")
        layout, ev = self.layout, self._evaluator
        z = self._dense(keys, x, self._first, layout.first_baby)
        for step in layout.cycle_steps():
            ev.add_inplace(z, self._rotate(keys, z, step))
        ev.add_plain_inplace(z, self._bias1)
        u = self._new()
        ev.square(z, u)
        ev.relinearize_inplace(u, keys.relin_keys)
        ev.rescale_to_next_inplace(u)
        logits = self._dense(keys, u, self._second, layout.second_baby)
        ev.add_plain_inplace(logits, self._bias2)
        return logits

    def _dense(self, keys: EvaluationKeys, x: Any, groups: _Groups, baby: int) -> Any:
        """Σ_g rot(Σ_b P[b,g] ⊙ rot(x, b), baby·g), by baby steps then Horner on giant steps."""
        rotated = [x]
        for source, key in baby_step_plan(baby):
            rotated.append(self._rotate(keys, rotated[source], key))
        acc = None
        for g in range(max(groups), -1, -1):
            if acc is not None:
                acc = self._rotate(keys, acc, baby)
            if g in groups:
                part = self._products(rotated, groups[g])
                acc = part if acc is None else self._add(acc, part)
        return acc

    def _products(self, rotated: Sequence[Any], terms: list[tuple[int, Any]]) -> Any:
        ev = self._evaluator
        acc = None
        for b, plain in terms:
            product = self._new()
            ev.multiply_plain(rotated[b], plain, product)
            acc = product if acc is None else self._add(acc, product)
        ev.rescale_to_next_inplace(acc)
        return acc

    def _groups(
        self, diagonals: dict[tuple[int, int], FloatArray], level: int, scale: float
    ) -> _Groups:
        groups: _Groups = {}
        for (b, g), vector in sorted(diagonals.items()):
            if np.any(vector):
                groups.setdefault(g, []).append((b, self._encode(vector, level, scale)))
        return groups

    def _encode(self, vector: FloatArray, level: int, scale: float) -> Any:
        plain = import_sealapi().Plaintext()
        self._encoder.encode(np.asarray(vector).tolist(), self._levels[level], scale, plain)
        return plain

    def _rotate(self, keys: EvaluationKeys, x: Any, step: int) -> Any:
        out = self._new()
        self._evaluator.rotate_vector(x, step, keys.galois_keys, out)
        return out

    def _add(self, a: Any, b: Any) -> Any:
        self._evaluator.add_inplace(a, b)
        return a

    def _new(self) -> Any:
        return import_sealapi().Ciphertext()
