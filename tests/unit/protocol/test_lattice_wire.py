"""The lattice wire format and the mod-q adder, as the chaincode sees them (no helper needed)."""

from __future__ import annotations

import re
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedledger.protocol.errors import ProtocolError
from fedledger.protocol.lattice_sum import add_blobs
from fedledger.protocol.lattice_wire import (
    CIPHERTEXT,
    DECRYPTION_SHARE,
    HEADER,
    KEY_SHARE,
    PUBLIC_CIPHERTEXT,
    RingSpec,
    encode_blob,
    parse_blob,
)

# A toy ring: the wire never needs the moduli to be NTT-friendly or the ring to be secure.
SPEC = RingSpec(log_n=2, moduli=(97, (1 << 61) - 1), plaintext_modulus=11)
KEY = b"K" * 8
N = 4


def _residues(polys: int, fill: int = 5) -> bytes:
    return b"".join(struct.pack("<Q", fill) for _ in range(polys * len(SPEC.moduli) * N))


def _ciphertext(values: int = 6, fill: int = 5) -> bytes:
    return encode_blob(
        SPEC, CIPHERTEXT, KEY, values, _residues(SPEC.polynomials(CIPHERTEXT, values), fill)
    )


def _header(**fields: object) -> bytes:
    base = dict(
        magic=b"FLLT",
        version=1,
        kind=CIPHERTEXT,
        log_n=2,
        moduli=2,
        param_id=SPEC.param_id,
        key=KEY,
        values=6,
        polys=2,
        reserved=0,
    )
    base.update(fields)
    return HEADER.pack(*base.values())


def test_a_well_formed_ciphertext_round_trips() -> None:
    blob = parse_blob(_ciphertext(), SPEC, CIPHERTEXT, KEY)

    assert (blob.values, blob.polys, blob.residues) == (6, 2, _residues(2))


def test_public_ciphertexts_carry_two_polynomials_per_block_of_values() -> None:
    assert SPEC.polynomials(PUBLIC_CIPHERTEXT, 5) == 4
    assert SPEC.polynomials(KEY_SHARE, 0) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"FLLT", "4 bytes is shorter than the header"),
        (_header(magic=b"FLCV") + _residues(2), "bad magic b'FLCV'"),
        (_header(version=2) + _residues(2), "unsupported version 2"),
        (_header(kind=DECRYPTION_SHARE) + _residues(2), "got a decryption share"),
        (_header(kind=9) + _residues(2), "got a unknown kind 9"),
        (_header(log_n=3) + _residues(2), "ring 2^3 with 2 moduli, expected 2^2 with 2"),
        (_header(moduli=1) + _residues(2), "ring 2^2 with 1 moduli, expected 2^2 with 2"),
        (_header(param_id=b"\0" * 8) + _residues(2), "parameter id 0000000000000000 is not"),
        (_header(key=b"X" * 8) + _residues(2), "key id 5858585858585858 is not 4b4b4b4b4b4b4b4b"),
        (_header(values=0, polys=0), "value count 0 out of range"),
        (_header(polys=3) + _residues(3), "3 polynomials for 6 values, expected 2"),
        (_header(reserved=1) + _residues(2), "reserved field is 1, must be 0"),
        (_header() + _residues(2)[:-1], "body is 127 bytes, expected 128"),
        (_header() + _residues(2) + b"\0", "body is 129 bytes, expected 128"),
    ],
)
def test_every_malformed_ciphertext_is_refused_with_its_reason(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=f"^lattice ciphertext: {re.escape(message)}"):
        parse_blob(data, SPEC, CIPHERTEXT, KEY)


@pytest.mark.parametrize(("modulus", "poly"), [(0, 0), (1, 1)])
def test_a_residue_not_below_its_modulus_is_refused_and_located(modulus: int, poly: int) -> None:
    words = list(struct.unpack(f"<{2 * 2 * N}Q", _residues(2)))
    words[(poly * 2 + modulus) * N + 3] = SPEC.moduli[modulus]
    data = _header() + struct.pack(f"<{len(words)}Q", *words)

    with pytest.raises(
        ProtocolError, match=f"polynomial {poly} has a residue not below modulus {modulus}"
    ):
        parse_blob(data, SPEC, CIPHERTEXT, KEY)


def test_a_residue_with_the_top_bit_set_is_refused() -> None:
    words = [5] * (2 * 2 * N)
    words[N] = (1 << 64) - 1  # would carry out of its lane if the check did not test it first
    data = _header() + struct.pack(f"<{len(words)}Q", *words)

    with pytest.raises(ProtocolError, match="polynomial 0 has a residue not below modulus 1"):
        parse_blob(data, SPEC, CIPHERTEXT, KEY)


@pytest.mark.parametrize("kind", [KEY_SHARE, DECRYPTION_SHARE])
def test_key_shares_and_decryption_shares_name_their_kind(kind: int) -> None:
    values = 0 if kind == KEY_SHARE else 6
    data = encode_blob(SPEC, kind, KEY, values, _residues(SPEC.polynomials(kind, values)))

    with pytest.raises(ProtocolError, match=r"^lattice (public-key|decryption) share: key id"):
        parse_blob(data, SPEC, kind, b"Z" * 8)


def test_a_key_share_carrying_values_is_refused() -> None:
    data = HEADER.pack(b"FLLT", 1, KEY_SHARE, 2, 2, SPEC.param_id, KEY, 3, 1, 0) + _residues(1)

    with pytest.raises(ProtocolError, match="a key carries no values, got 3"):
        parse_blob(data, SPEC, KEY_SHARE, KEY)


residue_lists = st.lists(
    st.tuples(*(st.integers(0, q - 1) for q in SPEC.moduli for _ in range(N))),
    min_size=1,
    max_size=6,
)


@given(residue_lists)
def test_the_sum_is_the_residue_wise_sum_modulo_each_modulus(rows: list[tuple[int, ...]]) -> None:
    blobs = [
        encode_blob(SPEC, KEY_SHARE, KEY, 0, struct.pack(f"<{len(row)}Q", *row)) for row in rows
    ]
    moduli = [q for q in SPEC.moduli for _ in range(N)]

    total = parse_blob(add_blobs(blobs, SPEC, KEY_SHARE, KEY), SPEC, KEY_SHARE, KEY)

    expected = [sum(column) % q for column, q in zip(zip(*rows, strict=True), moduli, strict=True)]
    assert list(struct.unpack(f"<{len(moduli)}Q", total.residues)) == expected


def test_the_sum_refuses_blobs_of_different_lengths() -> None:
    with pytest.raises(ProtocolError, match="blob 1 carries 5 values, the first 6"):
        add_blobs([_ciphertext(6), _ciphertext(5)], SPEC, CIPHERTEXT, KEY)


def test_the_sum_refuses_nothing_and_unaddable_kinds() -> None:
    with pytest.raises(ProtocolError, match="nothing to add"):
        add_blobs([], SPEC, CIPHERTEXT, KEY)
    with pytest.raises(ProtocolError, match="cannot add a decryption share"):
        add_blobs([_ciphertext()], SPEC, DECRYPTION_SHARE, KEY)


def test_the_sum_refuses_a_malformed_member_before_adding() -> None:
    with pytest.raises(ProtocolError, match="lattice ciphertext: bad magic"):
        add_blobs([_ciphertext(), b"XXXX" + _ciphertext()[4:]], SPEC, CIPHERTEXT, KEY)


def test_encoding_refuses_parts_that_do_not_fit() -> None:
    with pytest.raises(ProtocolError, match="40 bytes of residues for 2 polynomials"):
        encode_blob(SPEC, CIPHERTEXT, KEY, 6, b"\0" * 40)
    with pytest.raises(ProtocolError, match="key id must be 8 bytes, got 3"):
        encode_blob(SPEC, CIPHERTEXT, b"abc", 6, _residues(2))
