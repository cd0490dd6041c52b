"""CKKS parameter sets for encrypted prediction, named so an offer on the ledger can cite one.

A parameter set fixes everything both sides must agree on: the ring degree N, the coefficient
moduli (bit sizes; SEAL picks the primes deterministically from them), the input scale and the
multiplicative depth the evaluation uses. The evaluation of a one-hidden-layer MLP needs depth 3
(input times weights, the square of the activation, hidden times weights), so the modulus chain is
``q0 | three rescaling primes | special prime``:

- ``q0`` (40 bits) holds the result: logits up to 2^(40-30-1) = 512 in magnitude decode exactly;
- the three rescaling primes (30 bits) match the scale 2^30, so each rescaling returns the
  ciphertext to roughly the same scale and the error stays near 2^-30 relative;
- the special prime (60 bits) is used only for key switching (rotations, relinearisation); being
  wider than every data prime it keeps key-switching noise small (with 40 bits the logits were
  ten times less precise in our measurements).

Security: N = 8192 with 190 bits of total modulus is below the 218 bits that the Homomorphic
Encryption Standard allows for 128-bit security with ternary secrets at that degree; SEAL checks
this (``sec_level_type.tc128``) when the context is built and refuses weaker parameters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from fedledger.errors import InferenceError

__all__ = ["DEFAULT_PARAMS", "PARAMETER_SETS", "CkksParams", "get_params"]


@dataclass(frozen=True)
class CkksParams:
    """A named CKKS parameter set: ring degree, modulus bit sizes, input scale, depth."""

    name: str
    poly_modulus_degree: int
    coeff_bits: tuple[int, ...]
    scale_bits: int
    # Largest difference between an encrypted and a plaintext logit that still counts as equal:
    # about 40 times the largest error measured for mlp32/mlp32q on MNIST (2.3e-4).
    tolerance: float = 0.01

    @property
    def slots(self) -> int:
        """Number of CKKS slots (N / 2)."""
        return self.poly_modulus_degree // 2

    @property
    def depth(self) -> int:
        """Number of rescalings the chain allows (data primes minus q0)."""
        return len(self.coeff_bits) - 2

    @property
    def scale(self) -> float:
        """The scale inputs are encoded at."""
        return float(2**self.scale_bits)

    def describe(self) -> dict[str, Any]:
        """The parameter set as JSON-ready data, as an offer records it."""
        return {
            "name": self.name,
            "poly_modulus_degree": self.poly_modulus_degree,
            "coeff_bits": list(self.coeff_bits),
            "scale_bits": self.scale_bits,
            "tolerance": self.tolerance,
        }


PARAMETER_SETS: dict[str, CkksParams] = {
    "ckks-n8192-d3": CkksParams("ckks-n8192-d3", 8192, (40, 30, 30, 30, 60), 30),
}
DEFAULT_PARAMS = "ckks-n8192-d3"


def get_params(name: str) -> CkksParams:
    """Return the parameter set called ``name``; raise InferenceError listing the known ones."""
    params = PARAMETER_SETS.get(name)
    if params is None:
        known = ", ".join(sorted(PARAMETER_SETS))
        raise InferenceError(f"unknown CKKS parameter set {name!r}; known: {known}")
    return params


@functools.lru_cache(maxsize=4)
def seal_context(params: CkksParams) -> Any:
    """The SEAL context of ``params`` (built once per process; SEAL contexts are immutable).

    Raises InferenceError when SEAL refuses the parameters (for example as insecure).
    """
    sa = import_sealapi()
    parms = sa.EncryptionParameters(sa.SCHEME_TYPE.CKKS)
    parms.set_poly_modulus_degree(params.poly_modulus_degree)
    parms.set_coeff_modulus(
        sa.CoeffModulus.Create(params.poly_modulus_degree, list(params.coeff_bits))
    )
    context = sa.SEALContext(parms, True, sa.SEC_LEVEL_TYPE.TC128)
    if not context.parameters_set():
        raise InferenceError(
            f"SEAL refuses parameter set {params.name}: {context.parameters_error_message()}"
        )
    return context


def level_parms_ids(params: CkksParams) -> list[Any]:
    """The parms_id of every level of the data chain, from the top (all data primes) down."""
    data = seal_context(params).first_context_data()
    ids = []
    while data is not None:
        ids.append(data.parms_id())
        data = data.next_context_data()
    return ids


def data_primes(params: CkksParams) -> list[int]:
    """The data primes q0, q1, ... (without the special prime), as SEAL chose them."""
    moduli = seal_context(params).first_context_data().parms().coeff_modulus()
    return [int(m.value()) for m in moduli]


def scale_chain(params: CkksParams) -> tuple[float, float, float]:
    """The scales after the first layer, the square and the second layer, as SEAL computes them.

    Raises InferenceError unless ``params`` has exactly the depth 3 the evaluation uses.

    The layers' plaintexts are encoded at the prime the next rescaling divides by, so those
    rescalings restore the scale; the square's rescaling divides the squared scale by q2.
    """
    if params.depth != 3:
        raise InferenceError(
            f"parameter set {params.name} allows depth {params.depth}; "
            "the evaluation needs exactly 3"
        )
    q = data_primes(params)
    first = params.scale * q[3] / q[3]
    square = first * first / q[2]
    return first, square, square * q[1] / q[1]


def import_sealapi() -> Any:
    """Import TenSEAL's SEAL binding; raise InferenceError when the ``paas`` extra is missing.

    TenSEAL's high-level CKKSVector cannot rotate by chosen steps or generate only chosen Galois
    keys, which a fast layout needs, so the engine uses the SEAL binding TenSEAL ships.
    """
    try:
        import tenseal.sealapi as sa
    except ImportError as exc:
        raise InferenceError("TenSEAL is not installed; install fedledger's 'paas' extra") from exc
    return sa
