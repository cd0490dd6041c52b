"""Multiparty lattice encryption without a dealer: RLWE (BFV-style exact integers) through Lattigo.

Modules: :mod:`.params` (sizes derived from the task), :mod:`.session` (one task's helper,
parameters, key id and public seeds), :mod:`.keys` (secret shares, public-key shares, Shamir
re-sharing), :mod:`.cipher` (encrypt, flooded decryption shares, combination), :mod:`.helper` (the
process), :mod:`.build` (building it). The wire format and the mod-q adder the chaincode will use
are :mod:`fedledger.protocol.lattice_wire` and :mod:`fedledger.protocol.lattice_sum`.

Why a long-lived helper process rather than a c-shared library loaded with ctypes: the roles that
encrypt run inside TensorFlow and gRPC processes, and a Go runtime loaded into them brings its own
threads and signal handlers into a process that already has two other runtimes; a Go panic in a
shared library kills the participant, whereas a dead helper is an error the caller reports (and a
new helper is one process start away). The cost of the boundary is one pipe copy per call: 101,770
values are 0.8 MB in and 1.6 MB out, a millisecond or two against tens of milliseconds of ring
arithmetic (``benchmarks/lattice.py`` measures the calls end to end, copies included). CI needs
only ``go build`` (no cgo, no C toolchain), and the helper is a static binary built once by
``make`` from the pinned module in ``lattice/``.

Security argument
=================

**Statement.** Against an adversary that controls fewer than ``threshold`` participants, plus the
coordinator, every peer and anyone reading the ledger, and whose parties follow the protocol (see
"What remains" for active attacks), the ledger reveals about an honest party's update nothing
beyond the sums of the rounds it contributed to; this rests on RLWE at the chosen ring (N and
log q within the HE Standard's 128-bit bound, ternary secrets, error sigma 3.2), on SHA-256 and
Lattigo's BLAKE2b-keyed PRNG behaving as random oracles for the public polynomials, and, for each
published decryption share, on a statistical distance of at most ``2^-(stat_security+1)``
(``stat_security = 40`` by default) between the real share and one simulated from the round's sum.

**No process ever holds the collective secret.** Each party samples its ternary secret ``s_i`` in
its own helper. What leaves the party: its public-key share ``p_i = -a * s_i + e_i`` (an RLWE
sample), its Shamir shares ``f_i(j)`` (``f_i`` of degree ``threshold - 1`` with ``f_i(0) = s_i``;
fewer than ``threshold`` evaluations are uniformly distributed whatever ``s_i`` is), its
ciphertexts and its decryption shares. The collective key ``sum_i p_i`` is public and computed by
the adder. A decryptor j turns the Shamir shares it received from the round's contributors C into
``s'_j = lambda_j * sum_{i in C} f_i(j)`` for the round's active set (Lattigo's Combiner); the
active shares sum to ``s_C = sum_{i in C} s_i``, but only inside ``sum_j (a * s'_j + E_j)``, which
is a noisy product with ``a``: ``s_C`` itself is never formed anywhere, the coordinator's process
included (it has no key material at all).

**Seeded ciphertexts (one polynomial per block of values instead of two).** Party i's round-r
ciphertext is
``c0 = Delta * m - a_r * s_i + e`` with ``a_r`` the round's common polynomial, derived from a
public seed under its own label; only ``c0`` travels and the adder sums ``c0`` coefficient-wise,
giving a ciphertext of the sum under ``s_C``. Each ``c0`` is an RLWE sample under ``s_i`` with a
uniform public ``a_r`` that is independent of the public-key polynomial and of every other round's
(distinct labels and counters, random-oracle model), so a party's ciphertexts across rounds are
RLWE samples with fresh ``a``. What a shared ``a_r`` implies, and the rules that follow:

- a party must never encrypt twice in one round: two ``c0`` under the same ``a_r`` differ by
  ``Delta * (m - m')`` plus small noise, which reveals ``m - m'`` (a test shows it). The chaincode
  keeps one submission per (task, round, party); a client retrying a transaction resends the same
  bytes, never a fresh encryption;
- a decryption share must never use a party's own secret: with a shared ``a_r``, ``a_r * s_j + E``
  would decrypt party j's own ``c0``. Shares always use the Shamir-derived ``s'_j`` (also when
  ``threshold = participants``); an adversary holding fewer than ``threshold`` points of
  ``F_H = sum_{i in C, honest} f_i`` learns from the honest shares only ``a_r * F_H(0) + noise``,
  i.e. the honest part of the round's sum, which the sum itself already reveals. No individual
  ``f_i`` of an honest party ever appears outside a sum over all honest contributors;
- drop-outs are free: the round is decrypted under exactly the contributors' key, from the Shamir
  shares those dealers gave, so no secret of a silent party is needed or exposed.

**What noise flooding protects.** Without it, the shares of a round reveal the ciphertext's noise
``e_C = sum_i e_i`` (from ``c0``, the shares and the published sum), hence ``a_r * s_C`` exactly,
hence ``s_C`` (``a_r`` is invertible with overwhelming probability: the Li-Micciancio attack that
Lattigo's SECURITY.md describes for approximate decryption), and from two rounds whose contributor
sets differ by one party, that party's ``s_i`` and every update it ever sent. Each share therefore
adds a fresh flood uniform in ``[-2^b, 2^b)`` from the operating system's CSPRNG, with
``b = ceil(stat_security + log2(coefficients) + log2(noise bound))`` (:mod:`.params` derives it and
the modulus that keeps decryption exact with every share flooded); each honest share floods on its
own, so the bound holds even if every other decryptor adds nothing.

**Never two shares for one ciphertext.** Two shares of the same ciphertext by the same party carry
the same ``a * s'_j`` with independent floods; their difference is a difference of floods and
their average halves the flood's effect, so after enough of them the flood no longer hides
``e_C`` and the attack above applies. The rule is the multiparty form of the CPA-D caution in
Lattigo's SECURITY.md: a party publishes at most one decryption share per (task, round), keeps the
bytes, and resends exactly them on a retry; the chaincode must refuse a second, different share. A
round whose active set cannot finish fails and the next round starts from fresh ciphertexts (a new
``a_r``), never by re-sharing the old aggregate with a different active set.

**What remains for integration (not in this package yet).**

- *Copying and cancelling.* The adder cannot tell a party's own ``c0`` from a copy of another's
  (which doubles that party's weight in the sum and, with one honest contributor, isolates it) or
  from the negation of another's (which cancels it). Defence: commit-then-reveal (each contributor
  first commits SHA-256 of its ciphertext bound to task, round and party; reveals are accepted only
  after every contributor committed or the commit deadline passed, and must match their commitment),
  so no ciphertext can depend on another's.
- *Integrity of decryption shares.* :func:`.cipher.combine_shares` checks every coefficient's
  noise against the honest bound and the padding against zero, so a random or mismatched share
  (wrong active set, wrong round, corrupted bytes) is refused with overwhelming probability. A
  share shifted by ``Delta * delta`` for a chosen ``delta`` stays within the bound and changes the
  decrypted sum; detecting it needs redundancy (a second, disjoint active set decrypting the same
  aggregate: each party still shares once, and each share's flood bound composes additively) or
  a check value each contributor can verify, and is the next step of the integration.
- *Malformed key material.* A public-key share or Shamir share that does not match the dealer's
  secret is caught before round 1 by the end-to-end key check (:func:`.cipher.check_vector`
  encrypted under the collective key and decrypted by a quorum); the chaincode should also refuse a
  task whose quorum cannot decrypt (fewer than ``threshold`` participants holding shares).
"""
