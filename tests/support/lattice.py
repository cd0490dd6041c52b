"""A dealer-free lattice consortium for the tests: each party's secret, key share and Shamir shares.

Built with the library's own functions, party by party, as the parties would: no function here
ever sees more than what the party it plays would hold, except the test itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedledger.crypto.lattice import cipher, keys
from fedledger.crypto.lattice.build import build_helper, default_module_dir, default_out_dir
from fedledger.crypto.lattice.helper import LatticeHelper
from fedledger.crypto.lattice.params import LatticeParameters
from fedledger.crypto.lattice.session import LatticeSession
from fedledger.protocol.lattice_sum import add_blobs
from fedledger.protocol.lattice_wire import CIPHERTEXT

BINDING = bytes(range(32))


def start_helper() -> LatticeHelper:
    """Build the helper of this checkout when it is not current, and start it."""
    return LatticeHelper(build_helper(default_module_dir(), default_out_dir()))


@dataclass(repr=False)
class Consortium:
    """Parties 1..N with their secrets, public-key shares and the Shamir shares each received."""

    session: LatticeSession
    secrets: dict[int, bytes]
    key_shares: dict[int, bytes]
    received: dict[int, dict[int, bytes]]  # recipient -> dealer -> share

    def __repr__(self) -> str:  # Hypothesis prints fixtures: keep the key bytes out of it
        params = self.session.params
        return f"Consortium({params.participants} parties, threshold {params.threshold})"

    @property
    def parties(self) -> list[int]:
        return sorted(self.secrets)

    def public_key(self) -> bytes:
        return keys.collective_public_key(self.session, list(self.key_shares.values()))

    def round_sum(self, round_number: int, updates: dict[int, Sequence[int]]) -> bytes:
        """Each contributor encrypts its update; return the adder's aggregate."""
        s = self.session
        cts = [cipher.encrypt(s, self.secrets[i], round_number, v) for i, v in updates.items()]
        return add_blobs(cts, s.params.ring, CIPHERTEXT, s.key_id)

    def share(
        self,
        aggregate: bytes,
        round_number: int,
        own: int,
        dealers: Sequence[int],
        actives: Sequence[int],
    ) -> bytes:
        """Party ``own``'s decryption share of a round's aggregate under ``dealers``' keys."""
        return cipher.decryption_share(
            self.session,
            aggregate,
            received=self.received[own],
            dealers=list(dealers),
            own=own,
            actives=actives,
            round_number=round_number,
        )

    def decrypt_round(
        self,
        aggregate: bytes,
        round_number: int,
        contributors: Sequence[int],
        actives: Sequence[int],
    ) -> list[int]:
        shares = [self.share(aggregate, round_number, j, contributors, actives) for j in actives]
        return cipher.combine_shares(
            self.session, aggregate, shares, contributors=len(contributors)
        )

    def decrypt_public(self, ciphertext: bytes, actives: Sequence[int]) -> list[int]:
        shares = [
            cipher.decryption_share(
                self.session,
                ciphertext,
                received=self.received[j],
                dealers=self.parties,
                own=j,
                actives=actives,
            )
            for j in actives
        ]
        return cipher.combine_shares(self.session, ciphertext, shares)


def consortium(helper: LatticeHelper, params: LatticeParameters) -> Consortium:
    """Return parties 1..participants that made their keys without a dealer."""
    session = LatticeSession(helper, params, BINDING)
    parties = list(range(1, params.participants + 1))
    secrets = {i: keys.generate_secret_key(session) for i in parties}
    key_shares = {i: keys.public_key_share(session, secrets[i]) for i in parties}
    dealt = {i: keys.deal_shamir_shares(session, secrets[i], parties) for i in parties}
    received = {j: {i: dealt[i][j] for i in parties} for j in parties}
    return Consortium(session, secrets, key_shares, received)
