"""Credits on the real network: Org1 mints, Org2 may not, transfers cross orgs, events arrive.

The session's network is shared with other tests and keeps its ledger between runs of this
module, so every expectation is a difference from what the ledger held before. Reads that check
a commit go to another org's peer than the one that endorsed and committed it.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from races import race, the_one_winner
from support.cli import run_cli

from fedledger.errors import ContractError
from fedledger.ledger.gateway import GatewayContract, connect
from fedledger.network.local import LocalNetwork
from fedledger.protocol.assets import party_id
from fedledger.protocol.tokens import Movement, parse_transfer_event
from fedledger.roles.ledger_io import register_party

pytestmark = pytest.mark.fabric

EVENT_WAIT_SECONDS = 60.0
READ_WAIT_SECONDS = 15.0


@pytest.fixture
def orgs(fabric_profile: Path) -> Iterator[dict[str, GatewayContract]]:
    """Org1..Org3's User1, each through its own org's peer, registered as parties."""
    contracts = {
        org: connect(fabric_profile, org=org, user="User1") for org in ("Org1", "Org2", "Org3")
    }
    try:
        for contract in contracts.values():
            key = base64.b64encode(secrets.token_bytes(32)).decode()
            register_party(contract, ["trainer"], key)
        yield contracts
    finally:
        for contract in contracts.values():
            contract.close()


def _me(contract: GatewayContract) -> str:
    return party_id(contract.identity.msp_id, contract.identity.certificate_pem)


def _read(contract: GatewayContract, function: str, *args: str) -> int:
    return int(json.loads(contract.evaluate(function, *args)))


def _read_until(contract: GatewayContract, expected: int, function: str, *args: str) -> int:
    """Read on ``contract``'s peer until it shows ``expected`` (it may be a block behind)."""
    deadline = time.monotonic() + READ_WAIT_SECONDS
    value = _read(contract, function, *args)
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = _read(contract, function, *args)
    return value


def test_org1_mints_org2_may_not_and_credits_move_across_orgs(
    orgs: dict[str, GatewayContract],
) -> None:
    # Prepare
    org1, org2, org3 = orgs["Org1"], orgs["Org2"], orgs["Org3"]
    a, b = _me(org2), _me(org3)
    supply = _read(org1, "TotalSupply")
    before = {p: _read(org1, "BalanceOf", p) for p in (a, b)}

    # Execute: Org1 mints for Org2; Org2 tries to mint; Org2 pays Org3
    minted = json.loads(org1.submit("Mint", a, "50"))
    with pytest.raises(ContractError) as refused:
        org2.submit("Mint", a, "1000")
    paid = org2.submit("Transfer", b, "20")

    # Assert: the refusal's exact message, and every figure read back on Org3's peer
    assert minted["total_supply"] == supply + 50
    assert minted["transfers"] == [{"from": "0x0", "to": a, "value": 50}]
    assert refused.value.message == (
        "only identities of the minter organisation Org1MSP may mint credits; "
        "the caller belongs to Org2MSP"
    )
    assert refused.value.stage == "endorse"
    assert parse_transfer_event(paid).transfers == (Movement(a, b, 20),)
    assert _read_until(org3, before[b] + 20, "BalanceOf", b) == before[b] + 20
    assert _read_until(org3, before[a] + 30, "BalanceOf", a) == before[a] + 30
    assert _read_until(org3, supply + 50, "TotalSupply") == supply + 50
    audit = json.loads(org3.evaluate("TokenAudit"))
    held = sum(audit["balances"].values()) + sum(audit["escrows"].values())
    assert audit["total_supply"] == held == supply + 50

    # Assert: the Transfer event of the payment reaches a client of yet another org's gateway
    found = None
    for event in org1.events(start_block=0, timeout=EVENT_WAIT_SECONDS):
        if event.name == "Transfer" and event.payload == paid:
            found = event
            break
    assert found is not None, "the Transfer event of the payment never arrived"
    assert parse_transfer_event(found.payload).balances == {
        a: before[a] + 30,
        b: before[b] + 20,
    }


def test_the_cli_mints_through_org1_and_reads_it_back_through_org2(
    fabric_network: LocalNetwork,
    orgs: dict[str, GatewayContract],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Prepare
    state = ["--state", str(fabric_network.layout.root)]
    recipient = _me(orgs["Org3"])
    before = _read(orgs["Org1"], "BalanceOf", recipient)

    # Execute
    minted, mint_line, _ = run_cli(
        capsys, "token", "mint", "--to", recipient, "--amount", "7", *state
    )
    _read_until(orgs["Org2"], before + 7, "BalanceOf", recipient)
    read, out, _ = run_cli(
        capsys, "token", "balance", "--party", recipient, "--org", "Org2", "--json", *state
    )
    balance = json.loads(out)
    _, out, _ = run_cli(capsys, "token", "supply", "--org", "Org2", "--json", *state)
    supply = json.loads(out)

    # Assert
    assert (minted, read) == (0, 0)
    assert mint_line.startswith(f"minted 7 credits to {recipient}, which now holds {before + 7}")
    assert balance == {"account": recipient, "balance": before + 7}
    assert supply == {"total_supply": _read(orgs["Org2"], "TotalSupply")}


def test_two_concurrent_spends_of_one_balance_move_it_exactly_once(
    orgs: dict[str, GatewayContract], fabric_profile: Path
) -> None:
    # Prepare: Org2's user gets 10 more credits and pays its whole balance twice at once
    org1, org3 = orgs["Org1"], orgs["Org3"]
    with (
        connect(fabric_profile, org="Org2", user="User1") as first,
        connect(fabric_profile, org="Org2", user="User1") as second,
    ):
        spender = _me(first)
        held = json.loads(org1.submit("Mint", spender, "10"))["balances"][spender]
        targets = (_me(org1), _me(org3))
        before = {t: _read(org1, "BalanceOf", t) for t in targets}
        supply = _read(org1, "TotalSupply")

        # Execute
        outcomes = race(
            [lambda: first.submit("Transfer", targets[0], str(held)),
             lambda: second.submit("Transfer", targets[1], str(held))]
        )  # fmt: skip

    # Assert: one payment committed; the other was refused on the balance it left, or lost the
    # MVCC race at commit; either way the credits moved once and the supply is unchanged
    paid = the_one_winner(outcomes, f"insufficient balance: {spender} has 0 credits, needs {held}")
    winner = targets[paid]
    assert _read_until(org3, before[winner] + held, "BalanceOf", winner) == before[winner] + held
    assert _read(org3, "BalanceOf", spender) == 0
    assert _read(org3, "BalanceOf", targets[1 - paid]) == before[targets[1 - paid]]
    assert _read(org3, "TotalSupply") == supply
