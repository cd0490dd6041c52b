"""The typed client against the in-memory ledger: parties, advertisements, history, credits."""

from __future__ import annotations

import pytest

from fedledger.contract import credits, parties, training
from fedledger.errors import AssetNotFound, ContractError
from fedledger.ledger.identity import self_signed_identity
from fedledger.ledger.memory import InMemoryContract, InMemoryLedger
from fedledger.protocol.asset_requests import (
    AdvertisementListing,
    AdvertisementRequest,
    PartyRequest,
)

KX = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="


@pytest.fixture
def ledger() -> InMemoryLedger:
    return InMemoryLedger()


def _member(ledger: InMemoryLedger, msp: str) -> InMemoryContract:
    contract = ledger.contract(self_signed_identity(msp, "user"))
    parties.register_party(contract, PartyRequest(("trainer",), KX))
    return contract


def test_parties_are_registered_found_and_listed(ledger: InMemoryLedger) -> None:
    org1, org2 = _member(ledger, "Org1MSP"), _member(ledger, "Org2MSP")
    listed = parties.list_parties(org1)
    assert [p.msp_id for p in listed] == ["Org1MSP", "Org2MSP"]
    assert parties.get_party(org2, listed[0].id) == listed[0]
    assert parties.find_party(org2, "Org9MSP/" + "e" * 64) is None
    with pytest.raises(AssetNotFound):
        parties.get_party(org2, "Org9MSP/" + "e" * 64)


def test_an_advertisement_goes_through_its_life_and_history(ledger: InMemoryLedger) -> None:
    owner = _member(ledger, "Org1MSP")
    created = parties.create_advertisement(owner, AdvertisementRequest("d", 10, "g", {"0": 10}))
    updated = parties.update_advertisement(owner, created.id, AdvertisementRequest("d", 12, "g"))
    assert (updated.version, updated.samples, updated.labels) == (2, 12, {})
    withdrawn = parties.withdraw_advertisement(owner, created.id)
    assert parties.get_advertisement(owner, created.id) == withdrawn
    assert parties.list_advertisements(owner) == []
    assert parties.list_advertisements(owner, AdvertisementListing(True)) == [withdrawn]
    history = parties.get_history(owner, "Advertisement", [created.id])
    assert [entry["value"]["version"] for entry in history] == [3, 2, 1]


def test_credits_move_and_are_audited(ledger: InMemoryLedger) -> None:
    minter, other = _member(ledger, "Org1MSP"), _member(ledger, "Org2MSP")
    me, them = (p.id for p in parties.list_parties(minter))
    minted = credits.mint(minter, me, 50)
    assert (minted.total_supply, minted.event.balances) == (50, {me: 50})
    moved = credits.transfer(minter, them, 20)
    assert moved.balances == {me: 30, them: 20}
    assert (credits.balance_of(other, me), credits.total_supply(other)) == (30, 50)
    audit = credits.token_audit(other)
    assert (audit.total_supply, audit.balances, audit.escrows) == (50, {me: 30, them: 20}, {})
    assert credits.token_info(other).minter_msp == "Org1MSP"
    with pytest.raises(ContractError, match="insufficient balance"):
        credits.transfer(other, me, 21)
    assert credits.balance_of(other, them) == 20


def test_an_empty_ledger_lists_no_tasks(ledger: InMemoryLedger) -> None:
    assert training.list_tasks(_member(ledger, "Org1MSP")) == []
