"""Loading a CKKS ciphertext from untrusted bytes and checking it is the one expected.

Beyond SEAL's own validation (sizes, coefficient ranges, parameters), a ciphertext must be fresh
enough for what follows: two polynomials (relinearised), in NTT form, at the expected level of the
modulus chain, and — for inputs — at exactly the parameter set's scale, so the provider's
precomputed plaintexts match it.
"""

from __future__ import annotations

from typing import Any

from fedledger.errors import InferenceError
from fedledger.inference.params import CkksParams, import_sealapi, level_parms_ids, seal_context
from fedledger.inference.seal_io import load_object

__all__ = ["MAX_CIPHERTEXT_BYTES", "load_ciphertext"]

# A seeded top-level ciphertext of ckks-n8192-d3 is about 160 KB, an unseeded one about 330 KB.
MAX_CIPHERTEXT_BYTES = 1024 * 1024


def load_ciphertext(
    data: bytes, params: CkksParams, *, level: int, what: str, scale: float | None = None
) -> Any:
    """Parse ``data`` as a ciphertext at chain ``level`` (0 = top) and, if given, ``scale``.

    Returns the SEAL ciphertext. Raises InferenceError naming ``what`` and the problem.
    """
    sa = import_sealapi()
    context = seal_context(params)
    ciphertext = load_object(data, what, MAX_CIPHERTEXT_BYTES, sa.Ciphertext, context)
    levels = level_parms_ids(params)
    if ciphertext.parms_id() != levels[level]:
        found = next((i for i, p in enumerate(levels) if p == ciphertext.parms_id()), None)
        where = "the special-prime level" if found is None else f"level {found}"
        raise InferenceError(f"{what} is at {where}; expected level {level}")
    if ciphertext.size() != 2:
        raise InferenceError(f"{what} has {ciphertext.size()} polynomials; expected 2")
    if not ciphertext.is_ntt_form():
        raise InferenceError(f"{what} is not in NTT form")
    if ciphertext.is_transparent():
        raise InferenceError(f"{what} is transparent (it would reveal its plaintext)")
    if scale is not None and ciphertext.scale != scale:
        raise InferenceError(f"{what} has scale {ciphertext.scale!r}; expected {scale!r}")
    return ciphertext
