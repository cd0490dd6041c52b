"""The multiparty lattice scheme end to end, through the real helper: exact sums, t-of-N, keys."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.lattice import Consortium, consortium, start_helper

from fedledger.crypto.lattice import cipher, keys
from fedledger.crypto.lattice.helper import HelperError, LatticeHelper
from fedledger.crypto.lattice.params import derive_parameters
from fedledger.errors import CryptoError, EncodingOverflowError
from fedledger.protocol.lattice_wire import CIPHERTEXT, parse_blob

MAX_ABS = 1000
MAX_VALUES = 5000  # two polynomials at N = 4096
SHAPES = ((3, 2), (4, 4), (5, 3))  # (participants, threshold)


@pytest.fixture(scope="module")
def helper() -> Iterator[LatticeHelper]:
    with start_helper() as running:
        yield running


@pytest.fixture(scope="module")
def groups(helper: LatticeHelper) -> dict[tuple[int, int], Consortium]:
    return {
        (p, t): consortium(helper, derive_parameters(p, t, MAX_ABS, MAX_VALUES)) for p, t in SHAPES
    }


@st.composite
def rounds(draw: st.DrawFn) -> tuple[tuple[int, int], dict[int, list[int]], list[int], int]:
    shape = draw(st.sampled_from(SHAPES))
    parties, threshold = shape
    contributors = draw(st.sets(st.integers(1, parties), min_size=1))
    length = draw(st.integers(1, 300))
    values = st.lists(st.integers(-MAX_ABS, MAX_ABS), min_size=length, max_size=length)
    updates = {i: draw(values) for i in sorted(contributors)}
    actives = draw(st.permutations(range(1, parties + 1)))[:threshold]
    return shape, updates, actives, draw(st.integers(1, 1000))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds())
def test_decrypting_the_sum_equals_the_plaintext_sum(
    groups: dict[tuple[int, int], Consortium],
    case: tuple[tuple[int, int], dict[int, list[int]], list[int], int],
) -> None:
    shape, updates, actives, round_number = case
    group = groups[shape]

    aggregate = group.round_sum(round_number, updates)
    result = group.decrypt_round(aggregate, round_number, list(updates), actives)

    assert result == [sum(column) for column in zip(*updates.values(), strict=True)]


@pytest.mark.parametrize("sign", [1, -1])
def test_an_honest_sum_at_the_bound_never_wraps(groups: dict, sign: int) -> None:
    group = groups[(5, 3)]
    updates = {i: [sign * MAX_ABS] * MAX_VALUES for i in group.parties}

    aggregate = group.round_sum(7, updates)

    assert (
        group.decrypt_round(aggregate, 7, group.parties, [2, 4, 5])
        == [sign * 5 * MAX_ABS] * MAX_VALUES
    )


def test_every_t_subset_decrypts_the_same_sum(groups: dict) -> None:
    group = groups[(5, 3)]
    updates = {i: [i, -i, 10 * i] for i in group.parties}
    aggregate = group.round_sum(2, updates)

    for actives in combinations(group.parties, 3):
        assert group.decrypt_round(aggregate, 2, group.parties, actives) == [15, -15, 150]


def test_a_value_outside_the_bound_is_refused(groups: dict) -> None:
    group = groups[(3, 2)]

    with pytest.raises(EncodingOverflowError, match=r"\(1001\) is outside \[-1000, 1000\]"):
        cipher.encrypt(group.session, group.secrets[1], 1, [0, MAX_ABS + 1])


def test_too_many_values_are_refused(groups: dict) -> None:
    group = groups[(3, 2)]

    with pytest.raises(CryptoError, match="5001 values exceed the task's 5000"):
        cipher.encrypt(group.session, group.secrets[1], 1, [0] * (MAX_VALUES + 1))


def test_the_collective_key_decrypts_the_known_vector_with_a_quorum(groups: dict) -> None:
    group = groups[(4, 4)]
    known = cipher.check_vector(group.session)

    ciphertext = cipher.encrypt_public(group.session, group.public_key(), known)

    assert group.decrypt_public(ciphertext, group.parties) == known
    assert max(map(abs, known)) > MAX_ABS // 2  # the check spans the range, not only zeros


def _key_check_passes(group: Consortium, public_key: bytes, actives: list[int]) -> bool:
    known = cipher.check_vector(group.session)
    ciphertext = cipher.encrypt_public(group.session, public_key, known)
    try:
        return group.decrypt_public(ciphertext, actives) == known
    except CryptoError:
        return False


def test_a_key_share_from_another_secret_fails_the_key_check(groups: dict) -> None:
    group = groups[(3, 2)]
    impostor = keys.public_key_share(group.session, keys.generate_secret_key(group.session))
    shares = {**group.key_shares, 2: impostor}

    bad_key = keys.collective_public_key(group.session, list(shares.values()))

    assert _key_check_passes(group, group.public_key(), [1, 3])
    assert not _key_check_passes(group, bad_key, [1, 3])


def test_a_wrong_decryption_share_does_not_decrypt_silently(groups: dict) -> None:
    group = groups[(3, 2)]
    s = group.session
    aggregate = group.round_sum(3, {1: [5, 6], 2: [7, 8]})
    shares = [group.share(aggregate, 3, j, [1, 2], [1, 2]) for j in (1, 2)]
    # Party 2 answers for the wrong active set: a well-formed share of the wrong thing.
    shares[1] = group.share(aggregate, 3, 2, [1, 2], [2, 3])

    with pytest.raises(HelperError, match="noise beyond the bound: a wrong share or ciphertext"):
        cipher.combine_shares(s, aggregate, shares, contributors=2)


def test_fewer_than_threshold_shares_are_refused(groups: dict) -> None:
    group = groups[(5, 3)]
    aggregate = group.round_sum(1, {1: [1]})
    share = group.share(aggregate, 1, 1, [1], [1, 2, 3])

    with pytest.raises(CryptoError, match="need exactly 3 decryption shares, got 1"):
        cipher.combine_shares(group.session, aggregate, [share], contributors=1)


def test_a_decryptor_outside_the_active_set_is_refused(groups: dict) -> None:
    group = groups[(5, 3)]
    aggregate = group.round_sum(1, {1: [1]})

    with pytest.raises(CryptoError, match="need exactly 3 distinct decryptors including 4"):
        group.share(aggregate, 1, 4, [1], [1, 2, 3])


def test_a_missing_shamir_share_is_named(groups: dict) -> None:
    group = groups[(3, 2)]
    aggregate = group.round_sum(1, {1: [1]})
    received = {1: group.received[2][1]}

    with pytest.raises(CryptoError, match=r"no Shamir share from dealer\(s\) \[3\]"):
        cipher.decryption_share(
            group.session,
            aggregate,
            received=received,
            dealers=[1, 3],
            own=2,
            actives=[1, 2],
            round_number=1,
        )


def test_a_share_of_another_length_is_refused(groups: dict) -> None:
    group = groups[(3, 2)]
    s = group.session
    short = group.round_sum(1, {1: [1]})
    long = group.round_sum(1, {1: [1] * 4097})
    share = group.share(long, 1, 1, [1], [1, 2])

    with pytest.raises(CryptoError, match="share 0 covers 4097 values, the ciphertext 1"):
        cipher.combine_shares(s, short, [share, share], contributors=1)


def test_two_encryptions_in_one_round_reveal_the_difference(groups: dict) -> None:
    """Why a party must never encrypt twice for a round: c0 - c0' = Delta (m - m') + small."""
    group = groups[(3, 2)]
    s = group.session
    first = cipher.encrypt(s, group.secrets[1], 9, [100, -3])
    second = cipher.encrypt(s, group.secrets[1], 9, [40, 5])
    q0 = s.params.ring.moduli[0]
    delta = s.params.ring.moduli[0] * s.params.ring.moduli[1] // s.params.ring.plaintext_modulus
    a = parse_blob(first, s.params.ring, CIPHERTEXT, s.key_id).residues
    b = parse_blob(second, s.params.ring, CIPHERTEXT, s.key_id).residues

    def coeff(blob: bytes, k: int) -> int:
        return int.from_bytes(blob[8 * k : 8 * k + 8], "little")

    # Only the first residue ring is read: Delta mod q0 times the difference, plus tiny noise.
    recovered = []
    for k in range(2):
        diff = (coeff(a, k) - coeff(b, k)) % q0
        guess = min(
            range(-200, 201), key=lambda m: abs(((m * delta - diff + q0 // 2) % q0) - q0 // 2)
        )
        recovered.append(guess)
    assert recovered == [60, -8]


def test_an_aggregate_of_another_round_does_not_decrypt(groups: dict) -> None:
    group = groups[(3, 2)]
    aggregate = group.round_sum(4, {1: [1, 2], 2: [3, 4]})

    with pytest.raises(HelperError, match="noise beyond the bound: a wrong share or ciphertext"):
        group.decrypt_round(aggregate, 5, [1, 2], [1, 2])


def test_the_helper_names_an_unknown_operation(helper: LatticeHelper) -> None:
    with pytest.raises(HelperError, match='unknown operation "nope"'):
        helper.call("nope", None)


def test_a_dead_helper_is_reported_not_hung() -> None:
    running = start_helper()
    running._proc.kill()
    running._proc.wait()

    with pytest.raises(HelperError, match="the lattice helper failed"):
        running.call("ping", None)
    running.close()
