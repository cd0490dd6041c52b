"""The token rules in plain Python, for the conservation machines to predict the contract by.

Each machine (``test_cc_token_conservation.py`` with enrichment plans,
``test_cc_prediction_conservation.py`` with paid predictions) subclasses :class:`TokenModel`
with the state of the feature it drives and overrides :meth:`TokenModel.copy_extra`.
"""

from __future__ import annotations

from typing import Any, Self

from token_helpers import escrow

from fedledger.protocol.fields import MAX_INT64
from fedledger.protocol.prorata import split_pro_rata


class Rejected(Exception):
    """The model's prediction that the contract refuses a call, with the exact message."""


class TokenModel:
    """Balances, escrow contributions and the supply, over the accounts a movement touched;
    ``outsider`` is the one party id that is never registered."""

    def __init__(self, outsider: str) -> None:
        self.outsider = outsider
        self.accounts: dict[str, int] = {}
        self.funded: dict[str, dict[str, int]] = {}
        self.supply = 0

    def copy(self) -> Self:
        clone = type(self)()  # type: ignore[call-arg]
        clone.outsider = self.outsider
        clone.accounts = dict(self.accounts)
        clone.funded = {k: dict(v) for k, v in self.funded.items()}
        clone.supply = self.supply
        self.copy_extra(clone)
        return clone

    def copy_extra(self, clone: Self) -> None:
        """Copy a subclass's own state into ``clone``."""

    def _move(self, source: str | None, target: str, value: int) -> None:
        if source is not None:
            self.accounts[source] = self.accounts.get(source, 0) - value
        self.accounts[target] = self.accounts.get(target, 0) + value

    def _require_party(self, party: str) -> None:
        if party == self.outsider:
            raise Rejected(f"recipient {party} is not a registered party")

    def mint(self, recipient: str, value: int) -> None:
        self._require_party(recipient)
        if self.supply + value > MAX_INT64:
            raise Rejected(
                f"minting {value} credits would raise the total supply of {self.supply} above "
                f"{MAX_INT64}"
            )
        self.supply += value
        self._move(None, recipient, value)

    def _debit(self, party: str, value: int) -> None:
        have = self.accounts.get(party, 0)
        if have < value:
            raise Rejected(f"insufficient balance: {party} has {have} credits, needs {value}")

    def transfer(self, sender: str, recipient: str, value: int) -> None:
        if sender == recipient:
            raise Rejected(f"cannot transfer credits to yourself ({sender})")
        if value == 0:
            return
        self._require_party(recipient)
        self._debit(sender, value)
        self._move(sender, recipient, value)

    def fund(self, ref: str, funder: str, value: int) -> None:
        self.fund_account(escrow(ref), funder, value)

    def fund_account(self, account: str, funder: str, value: int) -> None:
        if value == 0:
            return
        self._debit(funder, value)
        contributions = self.funded.setdefault(account, {})
        contributions[funder] = contributions.get(funder, 0) + value
        self._move(funder, account, value)

    def _debit_escrow(self, account: str, value: int) -> None:
        have = self.accounts.get(account, 0)
        if have < value:
            raise Rejected(
                f"insufficient escrow: {account} holds {have} credits, cannot pay {value}"
            )

    def pay(self, ref: str, recipient: str, value: int) -> None:
        self.pay_account(escrow(ref), recipient, value)

    def pay_account(self, account: str, recipient: str, value: int) -> None:
        if value == 0:
            return
        self._require_party(recipient)
        self._debit_escrow(account, value)
        self._move(account, recipient, value)

    def refund_account(self, account: str) -> None:
        rest = self.accounts.get(account, 0)
        if rest:
            for party, part in split_pro_rata(rest, self.funded[account]).items():
                self.pay_account(account, party, part)

    def run(self, step: tuple[Any, ...]) -> None:
        """One step of the test-only EscrowScript transaction."""
        op, *args = step
        if op == "transfer":
            self.transfer(*args)
        elif op == "fund":
            self.fund(*args)
        elif op == "pay":
            self.pay(*args)
        elif op == "fund_pro_rata":
            ref, total, by = args
            for party, part in split_pro_rata(total, by).items():
                self.fund(ref, party, part)
        elif op == "pay_pro_rata":
            ref, total, by = args
            self._debit_escrow(escrow(ref), total)
            for party, part in split_pro_rata(total, by).items():
                self.pay(ref, party, part)
        elif op == "refund":
            (ref,) = args
            self.refund_account(escrow(ref))
