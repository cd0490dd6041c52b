"""The consumer's side: the CKKS secret key, the public context, encryption and decryption.

A KeyHolder generates a fresh secret key for a parameter set and layout and keeps it in this
process only: nothing here serialises it, and the public context it exports carries just the
relinearisation key and the Galois keys the layout needs. Inputs are encrypted under the secret
key (symmetric CKKS, with randomness from SEAL's CSPRNG): the ciphertext's second polynomial is
then expanded from a seed, which halves the request. The consumer should not reveal exact
decrypted values to anyone holding its ciphertexts (see fedledger.inference.evaluator).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fedledger.errors import InferenceError
from fedledger.inference.ciphertext import load_ciphertext
from fedledger.inference.layout import FloatArray, SlotLayout
from fedledger.inference.params import CkksParams, import_sealapi, level_parms_ids, seal_context
from fedledger.inference.public_context import KeyLayout, encode_public_context, galois_elements
from fedledger.inference.seal_io import save_object

__all__ = ["KeyHolder"]


class KeyHolder:
    """A consumer's CKKS keys for one parameter set and model layout."""

    def __init__(self, params: CkksParams, layout: KeyLayout) -> None:
        sa = import_sealapi()
        self.params = params
        self.layout = layout
        self._context = seal_context(params)
        self._keygen = sa.KeyGenerator(self._context)
        secret_key = self._keygen.secret_key()
        self._encryptor = sa.Encryptor(self._context, secret_key)
        self._decryptor = sa.Decryptor(self._context, secret_key)
        self._encoder = sa.CKKSEncoder(self._context)
        self._public: bytes | None = None

    def public_context(self) -> bytes:
        """The public context to upload once per session (generated on first use, then cached)."""
        if self._public is None:
            relin = save_object(self._keygen.create_relin_keys())
            elements = galois_elements(self.params, self.layout.rotation_steps())
            galois = save_object(self._keygen.create_galois_keys(elements))
            self._public = encode_public_context(self.params, self.layout, relin, galois)
        return self._public

    def encrypt(self, x: FloatArray) -> bytes:
        """The serialised ciphertext of one input vector (length D, values as the model takes)."""
        return self.encrypt_slots(self._slot_layout().pack(x))

    def encrypt_slots(self, slots: FloatArray) -> bytes:
        """The serialised top-level ciphertext of a slot vector, at the parameter set's scale."""
        plain = import_sealapi().Plaintext()
        top = level_parms_ids(self.params)[0]
        self._encoder.encode(np.asarray(slots).tolist(), top, self.params.scale, plain)
        return save_object(self._encryptor.encrypt_symmetric(plain))

    def decrypt(self, data: bytes) -> FloatArray:
        """The logits in a serialised encrypted result; raises InferenceError if it is not one."""
        return self._slot_layout().logits(self.decrypt_result(data))

    def decrypt_result(self, data: bytes) -> FloatArray:
        """Every slot of a serialised result (lowest level); raises InferenceError if not one."""
        levels = len(level_parms_ids(self.params))
        result = load_ciphertext(data, self.params, level=levels - 1, what="encrypted result")
        return self.decrypt_slots(result)

    def _slot_layout(self) -> SlotLayout:
        if not isinstance(self.layout, SlotLayout):
            raise InferenceError("these keys are for batches: encrypt slot vectors per feature")
        return self.layout

    def decrypt_slots(self, ciphertext: Any) -> FloatArray:
        """Every slot of a ciphertext under this key (for checks and tests)."""
        plain = import_sealapi().Plaintext()
        self._decryptor.decrypt(ciphertext, plain)
        return np.asarray(self._encoder.decode_double(plain))
