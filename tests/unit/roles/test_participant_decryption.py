"""A participant's decryption reads the round's aggregate from the ledger once.

The aggregate is the largest thing a participant reads in a round (one ciphertext per packed
slot group): the share it publishes and the combination of t shares use the same copy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from support.consortium import Consortium

from fedledger.ledger.interface import ChaincodeEvent, Contract, Identity
from fedledger.roles.training.decryptors import DecryptorPolicy
from fedledger.roles.training.participant import Participant


class CountingContract:
    """A ``Contract`` that counts its evaluate calls by function."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.evaluated: Counter[str] = Counter()

    @property
    def identity(self) -> Identity:
        return self.contract.identity

    def submit(self, function: str, *args: str) -> bytes:
        return self.contract.submit(function, *args)

    def evaluate(self, function: str, *args: str) -> bytes:
        self.evaluated[function] += 1
        return self.contract.evaluate(function, *args)

    def events(
        self, start_block: int | None = 0, *, timeout: float | None = None
    ) -> Iterator[ChaincodeEvent]:
        return self.contract.events(start_block, timeout=timeout)


def test_each_participant_fetches_the_aggregate_once_to_decrypt_and_combine() -> None:
    with Consortium(DecryptorPolicy(everyone=True)) as consortium:
        counters = []
        for member in consortium.members:
            counting = CountingContract(member.contract)
            role = member.role
            member.role = Participant(
                counting, role.party_id, member.kx_key, role.data, policy=role.policy,
                training=role.training, decryptors=role.decryptors, pacing=role.pacing,
            )  # fmt: skip
            counters.append(counting)
        task = consortium.propose()
        states = [m.role.join(task, timeout=1) for m in consortium.members]

        outcome, reports = consortium.play_round(task, states, 1)

    assert outcome.status in ("accepted", "rejected")
    assert all(r.decrypted for r in reports)  # each one published a share and combined t
    assert [c.evaluated["GetAggregate"] for c in counters] == [1, 1, 1]
