"""Proof of plaintext knowledge for a packed cipher vector: statement, wire format, verification.

Why it exists: the chaincode multiplies every submitted vector into the round's aggregate, and
only the aggregate is decrypted. Without a proof, participant B could submit A's vector inverted
(c ↦ c⁻¹ mod n²), so that the aggregate of A, B and C decrypts to C's update alone, or copy A's
vector (byte for byte, or re-randomised by E(0)) and free-ride. With it, every submitter proves it
knows the plaintext of every ciphertext it submits, which it cannot for a function of another
party's ciphertexts without decrypting them. The proof is bound to its task, round, party and key,
so it cannot be replayed by anyone else or anywhere else. The prover is
:mod:`fedledger.crypto.popk`; this module is what the chaincode and the clients verify with.

Statement. Public: n, g = n + 1, the vector's ciphertexts c_1..c_k ∈ Z*(n²), the context
κ = (task id, round, party id, key fingerprint). Witness: m_j ∈ Z_n, r_j ∈ Z*_n with
c_j = g^(m_j) · r_j^n mod n² for every j.

Batching (random linear combination). seed = SHA-256(domain ‖ "batch" ‖ κ ‖ SHA-256(vector
bytes)); e_j = the first 128 bits of SHA-256(seed ‖ j); C = Π c_j^(e_j) mod n², an encryption of
M = Σ e_j m_j mod n with randomness R = Π r_j^(e_j) mod n.

Σ-protocol for C (Cramer-Damgård-Nielsen, EUROCRYPT 2001; Damgård-Jurik, PKC 2001), made
non-interactive with Fiat-Shamir: the prover draws x ∈ Z_n and s ∈ Z*_n, sets a = g^x s^n mod n²,
e = SHA-256(domain ‖ "popk" ‖ κ ‖ seed ‖ C ‖ a) (256 bits), z = x + e·M mod n and w = s·R^e mod n.
The proof is (e, z, w); the verifier recomputes a = g^z · w^n · C^(-e) mod n² and the hash. g^z is
1 + z·n mod n² because g has order n, so no carry term is needed.

Security argument.
- Special soundness (unconditional): two accepting answers (z, w), (z', w') to challenges e ≠ e'
  for the same a give g^(z-z') (w/w')^n = C^(e-e'). Since |e - e'| < 2^256 is below both prime
  factors of n, it is invertible mod n: M = (z - z')/(e - e') mod n, and with u(e - e') + vn = 1,
  C = g^M · ((w/w')^u C^v)^n. So an accepting prover knows the plaintext of C.
- Batching: with the random oracle reprogrammed at the seed, an extractor obtains M^(i) =
  Σ_j e_j^(i) m_j mod n for k independent coefficient vectors; the k-by-k matrix of 128-bit random
  coefficients is singular mod p or mod q with probability at most 2k/2^128 (Schwartz-Zippel),
  so every m_j follows. The reduction rewinds k times: polynomial, not tight, as usual for batched
  proofs of knowledge. A cheater who does not know some m_j must hit a bad coefficient vector,
  probability about 2^-128 per hash it tries, or a bad challenge, 2^-256.
- Consequence for the attacks: submitting c_A⁻¹, c_A, c_A·E(0) or any vector whose plaintexts
  depend on A's would require knowing A's plaintexts, i.e. breaking Paillier's semantic security
  (the decisional composite residuosity assumption). Copying A's proof along fails because the
  challenge hashes the submitter's party id (and the task, round and key).
- Zero knowledge: z is uniform in Z_n and w uniform in Z*_n whatever the witness (x, s uniform),
  so (e, z, w) is simulated by drawing them and solving for a: perfect honest-verifier zero
  knowledge, and zero knowledge in the random-oracle model once made non-interactive.
- Assumptions: SHA-256 as a random oracle (Fiat-Shamir and the batch coefficients); DCR for the
  confidentiality of what is proven. Not proven here: that plaintexts lie within the encoding's
  clip bound; an out-of-range update is caught only when the aggregate fails to decode.

Wire format, version 1 (unsigned big-endian; ``b`` is the byte length of n)::

    "FLPK" | 1 | key fingerprint 32 | b u16 | e (32 bytes) | z (b bytes) | w (b bytes)

The ledger stores its canonical padded base64, 780 characters for a 2048-bit key.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from fedledger.protocol.bigint import gcd, multi_exp, powmod
from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.fields import decode_base64
from fedledger.protocol.keyid import key_fingerprint

__all__ = [
    "BATCH_BITS",
    "CHALLENGE_BITS",
    "PlaintextProof",
    "ProofContext",
    "batch_coefficients",
    "batch_seed",
    "combine",
    "proof_base64_chars",
    "proof_challenge",
    "verify_plaintext_proof",
]

BATCH_BITS = 128
CHALLENGE_BITS = 256
_DOMAIN = b"fedledger/plaintext-knowledge/v1\x00"
_MAGIC = b"FLPK"
_VERSION = 1
_HEADER = struct.Struct(">4sB32sH")
_CHALLENGE_BYTES = CHALLENGE_BITS // 8


def _field(raw: bytes) -> bytes:
    return len(raw).to_bytes(4, "big") + raw


@dataclass(frozen=True)
class ProofContext:
    """What a proof is bound to: the task, the round, the submitting party and the key."""

    task_id: str
    round: int
    party: str
    key_fingerprint: str

    def to_bytes(self) -> bytes:
        """Return the unambiguous (length-prefixed) encoding hashed into the proof."""
        return b"".join(
            [
                _field(self.task_id.encode("utf-8")),
                self.round.to_bytes(4, "big"),
                _field(self.party.encode("utf-8")),
                _field(bytes.fromhex(self.key_fingerprint)),
            ]
        )


@dataclass(frozen=True)
class PlaintextProof:
    """A proof (challenge e, response z, randomness response w) under the key with modulus n."""

    n: int
    challenge: int
    z: int
    w: int

    @property
    def _width(self) -> int:
        return (self.n.bit_length() + 7) // 8

    def to_bytes(self) -> bytes:
        """Return the canonical binary encoding (module docstring).

        Raises ``ProtocolError`` when a field does not fit its width.
        """
        width = self._width
        if not 0 <= self.challenge < 1 << CHALLENGE_BITS:
            raise ProtocolError("proof challenge does not fit 32 bytes")
        if not (0 <= self.z < self.n and 0 <= self.w < self.n):
            raise ProtocolError("proof responses must lie in [0, n)")
        header = _HEADER.pack(_MAGIC, _VERSION, bytes.fromhex(key_fingerprint(self.n)), width)
        return b"".join(
            [
                header,
                self.challenge.to_bytes(_CHALLENGE_BYTES, "big"),
                self.z.to_bytes(width, "big"),
                self.w.to_bytes(width, "big"),
            ]
        )

    def to_base64(self) -> str:
        """Return the standard padded base64 of :meth:`to_bytes` (what the ledger stores)."""
        return base64.b64encode(self.to_bytes()).decode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes, n: int) -> PlaintextProof:
        """Parse a proof made under the key with modulus ``n``.

        Raises ``ProtocolError``: truncated or wrong-length input, bad magic, unknown version,
        another key's fingerprint, a width other than that of n, or responses outside [0, n).
        """
        if len(data) < _HEADER.size:
            raise ProtocolError(f"proof truncated: {len(data)} bytes")
        magic, version, fingerprint, width = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            raise ProtocolError("not a proof of plaintext knowledge: bad magic bytes")
        if version != _VERSION:
            raise ProtocolError(f"unknown proof format version {version}")
        if fingerprint.hex() != key_fingerprint(n):
            raise ProtocolError(
                f"proof is for key {fingerprint.hex()[:16]}…, the task's key is "
                f"{key_fingerprint(n)[:16]}…"
            )
        expected_width = (n.bit_length() + 7) // 8
        if width != expected_width:
            raise ProtocolError(f"proof uses {width}-byte integers, n needs {expected_width}")
        size = _HEADER.size + _CHALLENGE_BYTES + 2 * width
        if len(data) != size:
            raise ProtocolError(f"proof must be {size} bytes, got {len(data)}")
        at = _HEADER.size
        challenge = int.from_bytes(data[at : at + _CHALLENGE_BYTES], "big")
        at += _CHALLENGE_BYTES
        z = int.from_bytes(data[at : at + width], "big")
        w = int.from_bytes(data[at + width : at + 2 * width], "big")
        if z >= n or w >= n:
            raise ProtocolError("proof responses must lie in [0, n)")
        return cls(n, challenge, z, w)

    @classmethod
    def from_base64(cls, text: str, n: int) -> PlaintextProof:
        """Parse canonical base64 of :meth:`to_bytes`; raises ``ProtocolError``."""
        if not isinstance(text, str):
            raise ProtocolError("proof must be base64 text")
        return cls.from_bytes(decode_base64(text, "proof"), n)


def proof_base64_chars(n: int) -> int:
    """Return the base64 length of a proof under modulus ``n`` (for size limits)."""
    raw = _HEADER.size + _CHALLENGE_BYTES + 2 * ((n.bit_length() + 7) // 8)
    return 4 * (-(-raw // 3))


def batch_seed(context: ProofContext, vector_digest: bytes) -> bytes:
    """Return the seed of the batch coefficients: it hashes the context and the whole vector."""
    return hashlib.sha256(_DOMAIN + b"batch" + context.to_bytes() + _field(vector_digest)).digest()


def batch_coefficients(seed: bytes, count: int) -> list[int]:
    """Return the ``count`` 128-bit coefficients e_j = SHA-256(seed ‖ j)[:16]."""
    return [
        int.from_bytes(hashlib.sha256(seed + j.to_bytes(4, "big")).digest()[:16], "big")
        for j in range(count)
    ]


def combine(ciphertexts: Sequence[int], coefficients: Sequence[int], n: int) -> int:
    """Return C = Π c_j^(e_j) mod n², the ciphertext the batched proof is about."""
    return multi_exp(ciphertexts, coefficients, n * n, BATCH_BITS)


def proof_challenge(context: ProofContext, seed: bytes, big_c: int, commitment: int, n: int) -> int:
    """Return the 256-bit Fiat-Shamir challenge for commitment a on the combined ciphertext C."""
    width = ((n * n).bit_length() + 7) // 8
    digest = hashlib.sha256(_DOMAIN + b"popk" + context.to_bytes() + _field(seed))
    digest.update(big_c.to_bytes(width, "big"))
    digest.update(commitment.to_bytes(width, "big"))
    return int.from_bytes(digest.digest(), "big")


def verify_plaintext_proof(
    n: int,
    ciphertexts: Sequence[int],
    vector_digest: bytes,
    proof: PlaintextProof,
    context: ProofContext,
) -> None:
    """Return None if ``proof`` shows knowledge of every plaintext of ``ciphertexts``.

    ``ciphertexts`` must already be checked to lie in Z*(n²) (as the chaincode does) and
    ``vector_digest`` is the SHA-256 of the vector's canonical bytes. Costs one multi-
    exponentiation over the ciphertexts with 128-bit exponents and two exponentiations.
    Raises ``ProtocolError`` "the proof of plaintext knowledge does not verify for party …" or a
    message naming a malformed response.
    """
    if proof.n != n:
        raise ProtocolError("the proof is under another modulus than the task's")
    if not 0 < proof.w < n or gcd(proof.w, n) != 1:
        raise ProtocolError("the proof's response w is not in Z*(n)")
    nsquare = n * n
    seed = batch_seed(context, vector_digest)
    big_c = combine(ciphertexts, batch_coefficients(seed, len(ciphertexts)), n)
    g_z = (1 + proof.z * n) % nsquare
    commitment = g_z * powmod(proof.w, n, nsquare) * powmod(big_c, -proof.challenge, nsquare)
    commitment %= nsquare
    if proof_challenge(context, seed, big_c, commitment, n) != proof.challenge:
        raise ProtocolError(
            f"the proof of plaintext knowledge does not verify for party {context.party} in "
            f"round {context.round} of {context.task_id}: the submitter does not know the "
            f"plaintexts it submitted, or the proof was made for another party, round or task"
        )
