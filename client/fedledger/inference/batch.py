"""Batched encrypted prediction: one slot per image, one ciphertext per input feature.

The other way to fill the slots (the single-image layout in :mod:`fedledger.inference.layout`
replicates one image across them): ciphertext i holds feature i of up to S images, slot b being
image b. Both dense layers are then scalar products with no rotation at all, so the consumer
sends no Galois keys (only the relinearisation key) and the provider's cost per ciphertext is
shared by every image in the batch. The price is granularity: a batch is always D = 784
ciphertexts up and C = 10 down, whatever the number of images in it, so it pays only for large
batches; benchmarks/prediction.py measures where. The prediction service serves single images:
a batch request (about 125 MB for ckks-n8192-d3) exceeds the service's message limit and one
ledger request binds one input hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fedledger.errors import InferenceError
from fedledger.inference.ciphertext import load_ciphertext
from fedledger.inference.keyholder import KeyHolder
from fedledger.inference.layout import FloatArray
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

__all__ = ["BatchLayout", "BatchedMlp", "decrypt_batch", "encrypt_batch"]


@dataclass(frozen=True)
class BatchLayout:
    """Feature-major layout: D ciphertexts of up to ``slots`` images each; no rotations."""

    slots: int
    inputs: int
    hidden: int
    classes: int

    def rotation_steps(self) -> list[int]:
        """No rotation is needed, so no Galois key."""
        return []

    def pack(self, images: FloatArray) -> list[FloatArray]:
        """One slot vector per feature, from rows ``images`` (at most ``slots`` of them)."""
        x = np.asarray(images, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.inputs or not 1 <= x.shape[0] <= self.slots:
            raise InferenceError(
                f"a batch must have shape (1..{self.slots}, {self.inputs}), got {x.shape}"
            )
        return [column for column in x.T]

    def logits(self, slot_vectors: list[FloatArray], count: int) -> FloatArray:
        """The (count, C) logits from the decrypted per-class slot vectors."""
        return np.stack([np.asarray(v)[:count] for v in slot_vectors], axis=1)


class BatchedMlp:
    """A PolyMlp evaluated on feature-major batches: z = Σ_i W[i, j]·X_i, then as before."""

    def __init__(self, model: PolyMlp, params: CkksParams) -> None:
        self._s1, _, self._s3 = scale_chain(params)
        sa = import_sealapi()
        self.model = model
        self.params = params
        self.layout = BatchLayout(params.slots, model.inputs, model.hidden, model.classes)
        context = seal_context(params)
        self._evaluator = sa.Evaluator(context)
        self._encoder = sa.CKKSEncoder(context)
        self._levels = level_parms_ids(params)
        self._q = data_primes(params)
        self._delta, self._gamma = model.activation.completed_square()

    def load_context(self, data: bytes) -> EvaluationKeys:
        """Parse a consumer's batch context (relinearisation key, no Galois keys)."""
        return parse_public_context(data, self.params, self.layout)

    def load_input(self, data: bytes) -> Any:
        """Parse one per-feature input ciphertext (top level, the parameter set's scale)."""
        return load_ciphertext(
            data, self.params, level=0, what="input ciphertext", scale=self.params.scale
        )

    def evaluate_bytes(self, keys: EvaluationKeys, inputs: list[bytes]) -> list[bytes]:
        """Serialised per-class results of a batch given as serialised per-feature inputs."""
        loaded = [self.load_input(data) for data in inputs]
        return [save_object(result) for result in self.evaluate(keys, loaded)]

    def evaluate(self, keys: EvaluationKeys, inputs: list[Any]) -> list[Any]:
        """The C encrypted logit vectors of a batch given as D top-level ciphertexts."""
        if len(inputs) != self.model.inputs:
            raise InferenceError(f"a batch has {self.model.inputs} ciphertexts, got {len(inputs)}")
        m, ev = self.model, self._evaluator
        hidden = []
        for j in range(m.hidden):
            z = self._combine(inputs, m.w1[:, j], level=0, scale=float(self._q[3]))
            ev.add_plain_inplace(z, self._constant(m.b1[j] + self._delta, 1, self._s1))
            u = import_sealapi().Ciphertext()
            ev.square(z, u)
            ev.relinearize_inplace(u, keys.relin_keys)
            ev.rescale_to_next_inplace(u)
            hidden.append(u)
        bias = m.b2 + self._gamma * m.w2.sum(axis=0)
        outputs = []
        for c in range(m.classes):
            o = self._combine(
                hidden, m.activation.c2 * m.w2[:, c], level=2, scale=float(self._q[1])
            )
            ev.add_plain_inplace(o, self._constant(bias[c], 3, self._s3))
            outputs.append(o)
        return outputs

    def _combine(
        self, ciphertexts: list[Any], weights: FloatArray, level: int, scale: float
    ) -> Any:
        """Σ_i weights[i]·ciphertexts[i], rescaled once; zero weights are skipped."""
        ev = self._evaluator
        acc = None
        for ciphertext, weight in zip(ciphertexts, weights, strict=True):
            if weight == 0:
                continue
            product = import_sealapi().Ciphertext()
            ev.multiply_plain(ciphertext, self._constant(weight, level, scale), product)
            if acc is None:
                acc = product
            else:
                ev.add_inplace(acc, product)
        if acc is None:
            raise InferenceError("a unit of the model has only zero weights")
        ev.rescale_to_next_inplace(acc)
        return acc

    def _constant(self, value: float, level: int, scale: float) -> Any:
        plain = import_sealapi().Plaintext()
        self._encoder.encode(float(value), self._levels[level], scale, plain)
        return plain


def encrypt_batch(keyholder: KeyHolder, images: FloatArray) -> list[bytes]:
    """The D serialised per-feature ciphertexts of a batch; ``keyholder`` has a BatchLayout."""
    layout = keyholder.layout
    if not isinstance(layout, BatchLayout):
        raise InferenceError("these keys are for single images, not batches")
    return [keyholder.encrypt_slots(vector) for vector in layout.pack(images)]


def decrypt_batch(keyholder: KeyHolder, results: list[bytes], count: int) -> FloatArray:
    """The (count, C) logits of a batch's serialised per-class results."""
    layout = keyholder.layout
    if not isinstance(layout, BatchLayout) or len(results) != layout.classes:
        raise InferenceError(f"expected {layout.classes} batch results, got {len(results)}")
    return layout.logits([keyholder.decrypt_result(data) for data in results], count)
