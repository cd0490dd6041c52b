"""The token rules both conservation machines drive: identities, strategies and shared rules.

``test_cc_token_conservation.py`` (enrichment plans) and ``test_cc_prediction_conservation.py``
(paid predictions) subclass :class:`TokenRules`, which mints, transfers, runs escrow scripts and
checks after every step that the supply equals balances plus escrows and matches the model. A
subclass sets ``self.ledger`` and ``self.model`` (a :class:`token_model.TokenModel`) in its
``__init__`` and adds the rules of the feature it drives.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cc_helpers import reject
from enrichment_helpers import ORG1, ORG1_B, ORG2, ORG3, OUTSIDER
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from token_helpers import audit, escrow, script
from token_model import Rejected, TokenModel

from fedledger.ledger.memory import InMemoryLedger
from fedledger.protocol.assets import party_id
from fedledger.protocol.fields import MAX_INT64

# Org1's two users may mint (the default minter Org1MSP); Org2 and Org3 may not. The outsider
# is never registered.
MINTER = ORG1
MINTER_2 = ORG1_B
REGISTERED = (MINTER, MINTER_2, ORG2, ORG3)
EVERYONE = (*REGISTERED, OUTSIDER)
IDS = [party_id(i.msp_id, i.certificate_pem) for i in EVERYONE]
OUTSIDER_ID = IDS[-1]
ESCROWS = ("e0", "e1", "e2")

identities = st.sampled_from(EVERYONE)
party_ids = st.sampled_from(IDS)
amounts = st.integers(1, 150)
step_amounts = st.integers(0, 150)
weights = st.dictionaries(party_ids, st.integers(1, 5), min_size=1, max_size=4)
refs = st.sampled_from(ESCROWS)
steps = st.one_of(
    st.tuples(st.just("fund"), refs, party_ids, step_amounts),
    st.tuples(st.just("pay"), refs, party_ids, step_amounts),
    st.tuples(st.just("refund"), refs),
    st.tuples(st.just("fund_pro_rata"), refs, step_amounts, weights),
    st.tuples(st.just("pay_pro_rata"), refs, step_amounts, weights),
    st.tuples(st.just("transfer"), party_ids, party_ids, step_amounts),
)
bad_amounts = st.sampled_from(["0", "-4", "1.5", "false", "[1]", str(MAX_INT64 + 1), "7 7"])


class TokenRules(RuleBasedStateMachine):
    """Mints, transfers and escrow scripts against the model; the supply invariant."""

    ledger: InMemoryLedger
    model: Any  # a TokenModel subclass with the feature's own state

    def _expect(self, identity: Any, predict: Any, function: str, *args: str) -> None:
        """Submit a call; the model says whether it commits or which message rejects it."""
        trial = self.model.copy()
        try:
            predict(trial)
        except Rejected as expected:
            assert reject(self.ledger, self.ledger.contract(identity), function, *args) == str(
                expected
            )
            return
        self.ledger.contract(identity).submit(function, *args)
        self.model = trial

    @rule(identity=st.sampled_from((MINTER, MINTER_2)), recipient=party_ids, value=amounts)
    def mint(self, identity: Any, recipient: str, value: int) -> None:
        self._expect(
            identity, lambda model: model.mint(recipient, value), "Mint", recipient, str(value)
        )

    @rule(identity=st.sampled_from((ORG2, ORG3, OUTSIDER)), recipient=party_ids, value=amounts)
    def mint_by_another_org(self, identity: Any, recipient: str, value: int) -> None:
        message = reject(self.ledger, self.ledger.contract(identity), "Mint", recipient, str(value))

        assert message == (
            "only identities of the minter organisation Org1MSP may mint credits; "
            f"the caller belongs to {identity.msp_id}"
        )

    @precondition(lambda machine: machine.model.supply >= 3)
    @rule(recipient=party_ids, excess=st.integers(1, 3))
    def mint_past_int64(self, recipient: str, excess: int) -> None:
        value = MAX_INT64 - self.model.supply + excess
        self._expect(
            MINTER, lambda model: model.mint(recipient, value), "Mint", recipient, str(value)
        )

    def _transfer(self, identity: Any, recipient: str, value: int) -> None:
        sender = party_id(identity.msp_id, identity.certificate_pem)

        def predict(model: TokenModel) -> None:
            if sender == OUTSIDER_ID:
                raise Rejected(
                    f"caller {sender} is not a registered party; call RegisterParty first"
                )
            model.transfer(sender, recipient, value)

        self._expect(identity, predict, "Transfer", recipient, str(value))

    @rule(recipient=party_ids, data=st.data())
    def transfer_by_a_holder(self, recipient: str, data: st.DataObject) -> None:
        holders = [i for i, p in zip(EVERYONE, IDS, strict=True) if self.model.accounts.get(p)]
        identity = data.draw(st.sampled_from(holders or EVERYONE))
        held = self.model.accounts.get(party_id(identity.msp_id, identity.certificate_pem), 0)
        # Mostly within the sender's balance, sometimes just over it.
        self._transfer(identity, recipient, data.draw(st.integers(1, held + 2)))

    @rule(identity=identities, recipient=party_ids, value=amounts)
    def transfer_by_anyone(self, identity: Any, recipient: str, value: int) -> None:
        self._transfer(identity, recipient, value)

    @rule(function=st.sampled_from(["Mint", "Transfer"]), recipient=party_ids, text=bad_amounts)
    def bad_amount(self, function: str, recipient: str, text: str) -> None:
        message = reject(self.ledger, self.ledger.contract(MINTER), function, recipient, text)

        assert message.startswith("amount must be ")

    @rule(recipient=refs, value=amounts)
    def transfer_into_an_escrow(self, recipient: str, value: int) -> None:
        message = reject(
            self.ledger, self.ledger.contract(ORG2), "Transfer", escrow(recipient), str(value)
        )

        assert message == (
            f"{escrow(recipient)} is an escrow account; only the contract's rules move credits "
            "into it"
        )

    @rule(moves=st.lists(steps, min_size=1, max_size=6))
    def escrow_script(self, moves: list[tuple[Any, ...]]) -> None:
        def predict(model: TokenModel) -> None:
            for step in moves:
                model.run(step)

        self._expect(ORG3, predict, "EscrowScript", script(*[list(s) for s in moves]))

    @invariant()
    def supply_equals_balances_plus_escrows_and_matches_the_model(self) -> None:
        state = audit(self.ledger, ORG2)
        held = sum(state["balances"].values()) + sum(state["escrows"].values())
        assert state["total_supply"] == held == self.model.supply
        assert {**state["balances"], **state["escrows"]} == self.model.accounts
        assert json.loads(self.ledger.contract(ORG3).evaluate("TotalSupply")) == held


def assert_a_wrong_model_fails(machine: TokenRules) -> None:
    """A check of the harness itself: the invariant must fail when the model believes in a
    credit the ledger never minted."""
    machine.model.supply = 1
    try:
        machine.supply_equals_balances_plus_escrows_and_matches_the_model()
    except AssertionError:
        return
    raise AssertionError("the invariant accepted a supply the ledger does not have")


def slow_machine_test(machine: type[TokenRules], steps: int) -> Any:
    """Return ``machine``'s Hypothesis test case (100 runs of up to ``steps`` steps, no deadline:
    a run drives the whole contract), marked slow."""
    machine.TestCase.settings = settings(
        max_examples=100,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    return pytest.mark.slow(machine.TestCase)
