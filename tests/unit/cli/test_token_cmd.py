"""`fedledger token ...` on the in-memory ledger: sentences for people, --json, one-line errors."""

from __future__ import annotations

import json

import pytest
from support.cli import run_cli
from support.cli_ledger import route_cli
from support.identities import make_identity

from fedledger.ledger.memory import InMemoryLedger, ManualClock
from fedledger.protocol.assets import party_id

IDENTITIES = {org: make_identity(f"{org}MSP", f"User1@{org.lower()}") for org in ("Org1", "Org2")}
PARTY = {org: party_id(i.msp_id, i.certificate_pem) for org, i in IDENTITIES.items()}


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> InMemoryLedger:
    """A ledger with Org1 and Org2 registered, which the CLI reaches instead of a network."""
    ledger = InMemoryLedger(clock=ManualClock())
    for identity in IDENTITIES.values():
        request = {
            "roles": ["trainer"],
            "kx_public_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        }
        ledger.contract(identity).submit("RegisterParty", json.dumps(request))

    route_cli(monkeypatch, ledger, IDENTITIES)
    return ledger


def test_mint_transfer_balance_and_supply_print_sentences_for_people(
    ledger: InMemoryLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    org1, org2 = PARTY["Org1"], PARTY["Org2"]

    minted = run_cli(capsys, "token", "mint", "--to", org1, "--amount", "100")
    moved = run_cli(capsys, "token", "transfer", "--to", org2, "--amount", "30")
    mine = run_cli(capsys, "token", "balance")
    theirs = run_cli(capsys, "token", "balance", "--party", org2, "--org", "Org2")
    supply = run_cli(capsys, "token", "supply")

    assert minted == (
        0,
        f"minted 100 credits to {org1}, which now holds 100; total supply 100\n",
        "",
    )
    assert moved == (
        0,
        f"transferred 30 credits to {org2}; your balance is now 70, theirs 30\n",
        "",
    )
    assert mine == (0, f"{org1}: 70 credits\n", "")
    assert theirs == (0, f"{org2}: 30 credits\n", "")
    assert supply == (0, "total supply: 100 credits\n", "")


def test_json_output_is_the_chaincodes_record(
    ledger: InMemoryLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    org2 = PARTY["Org2"]

    _, minted, _ = run_cli(capsys, "token", "mint", "--to", org2, "--amount", "5", "--json")
    _, balance, _ = run_cli(capsys, "token", "balance", "--party", org2, "--json")
    _, audit, _ = run_cli(capsys, "token", "audit", "--json")

    assert json.loads(minted) == {
        "total_supply": 5,
        "transfers": [{"from": "0x0", "to": org2, "value": 5}],
        "balances": {org2: 5},
    }
    assert json.loads(balance) == {"account": org2, "balance": 5}
    assert json.loads(audit) == {
        "total_supply": 5,
        "balances": {org2: 5},
        "escrows": {},
        "conserved": True,
    }


def test_audit_for_people_lists_accounts_and_says_the_supply_is_conserved(
    ledger: InMemoryLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, "token", "mint", "--to", PARTY["Org1"], "--amount", "9")

    code, out, _ = run_cli(capsys, "token", "audit")

    assert code == 0
    assert f"{PARTY['Org1']}  balance  9" in out
    assert out.endswith("conserved: supply 9 = balances 9 + escrows 0\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["token", "mint", "--org", "Org2", "--to", PARTY["Org2"], "--amount", "5"],
            "fedledger: rejected by the chaincode: only identities of the minter organisation "
            "Org1MSP may mint credits; the caller belongs to Org2MSP (transaction ",
        ),
        (
            ["token", "transfer", "--to", PARTY["Org2"], "--amount", "5"],
            f"fedledger: rejected by the chaincode: insufficient balance: {PARTY['Org1']} has 0 "
            "credits, needs 5 (transaction ",
        ),
        (
            ["token", "mint", "--to", PARTY["Org2"], "--amount", "1.5"],
            "fedledger: ProtocolError: --amount must be a positive integer, got 1.5",
        ),
        (
            ["token", "balance", "--party", "nobody"],
            "fedledger: rejected by the chaincode: party id must look like <MSP id>/<64 hex "
            'digits>, got "nobody" (transaction ',
        ),
    ],
)
def test_errors_are_one_line_with_exit_status_2_and_change_nothing(
    ledger: InMemoryLedger, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    height = ledger.height

    code, out, err = run_cli(capsys, *argv)

    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert ledger.height == height
