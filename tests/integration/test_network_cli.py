"""The network and ledger commands of the CLI against real networks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_cli

from fedledger.network import processes
from fedledger.network.local import LocalNetwork

pytestmark = pytest.mark.fabric


def test_status_json_lists_every_node_with_pid_ports_health_and_height(
    fabric_network: LocalNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys, "network", "status", "--json", "--state", str(fabric_network.layout.root)
    )

    report = json.loads(out)
    nodes = {n["name"]: n for n in report["nodes"]}
    assert code == 0
    orderers = {"orderer.fedledger.local", "orderer2.fedledger.local", "orderer3.fedledger.local"}
    assert set(nodes) == {
        *orderers,
        *(f"peer0.org{i}.fedledger.local" for i in (1, 2, 3)),
        *(f"ccserver.org{i}.fedledger.local" for i in (1, 2, 3)),
    }
    assert all(n["healthy"] and n["pid"] > 0 and n["ports"] for n in nodes.values())
    assert nodes["peer0.org1.fedledger.local"]["block_height"] >= 4  # genesis + lifecycle txs
    # Exactly one Raft leader, named at the top and flagged on its node; orderers know heights.
    leaders = [name for name, n in nodes.items() if n["raft_leader"]]
    assert leaders == [report["raft_leader"]] and report["raft_leader"] in orderers
    assert all(nodes[o]["raft_leader"] is not None and nodes[o]["block_height"] for o in orderers)
    assert report["memory_bytes"] == sum(n["memory_bytes"] for n in nodes.values())


def test_a_second_up_finds_the_running_network_and_says_so(
    fabric_network: LocalNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    before = [n.pid for n in processes.load(fabric_network.layout.processes_file)]

    code, out, _ = run_cli(capsys, "network", "up", "--state", str(fabric_network.layout.root))

    assert code == 0
    assert "already running" in out
    assert [n.pid for n in processes.load(fabric_network.layout.processes_file)] == before


def test_cli_registers_advertises_and_another_org_reads_it_as_json(
    fabric_network: LocalNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(fabric_network.layout.root)
    run_cli(capsys, "--org", "Org3", "party", "register", "--role", "trainer", "--state", state)
    code, out, err = run_cli(
        capsys,
        "advertise",
        "--org",
        "Org3",
        "--state",
        state,
        "--description",
        "clinic scans",
        "--samples",
        "1200",
        "--goal",
        "digit classifier",
        "--labels",
        '{"7": 120}',
        "--json",
    )
    assert code == 0, err
    ad_id = json.loads(out)["id"]

    code, out, _ = run_cli(
        capsys, "query", "advertisements", "--org", "Org2", "--state", state, "--json"
    )

    listed = {ad["id"]: ad for ad in json.loads(out)}
    assert code == 0
    assert listed[ad_id]["owner_msp"] == "Org3MSP"
    assert listed[ad_id]["labels"] == {"7": 120}


def test_cli_reports_a_contract_rejection_as_a_message_not_a_traceback(
    fabric_network: LocalNetwork, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(fabric_network.layout.root)

    code, _, err = run_cli(
        capsys,
        "advertise",
        "--org",
        "Org2",
        "--user",
        "Admin",
        "--state",
        state,
        "--description",
        "x",
        "--samples",
        "-3",
        "--goal",
        "g",
    )

    assert code == 2
    assert "rejected by the chaincode: samples must be a positive integer, got -3" in err
    assert "Traceback" not in err


def test_down_stops_exactly_the_processes_up_started(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fabric_network: LocalNetwork
) -> None:
    # A second, one-org network on its own ports, beside the session's network.
    state = str(tmp_path / "solo")
    base = str(fabric_network.topo.orderer.port + 1000)
    code, _, err = run_cli(
        capsys, "network", "up", "--orgs", "1", "--base-port", base, "--state", state
    )
    assert code == 0, err
    started = processes.load(Path(state) / "processes.json")
    assert {n.kind for n in started} == {"orderer", "peer", "ccserver"}

    code, out, _ = run_cli(capsys, "network", "down", "--state", state, "--json")

    assert code == 0
    assert sorted(json.loads(out)["stopped"]) == sorted(n.name for n in started)
    assert not any(processes.alive(n) for n in started)
    assert all(processes.alive(n) for n in processes.load(fabric_network.layout.processes_file))

    # Restarting keeps the ledger and the committed chaincode: the network serves again.
    code, _, err = run_cli(capsys, "network", "up", "--state", state)
    assert code == 0, err
    code, out, err = run_cli(
        capsys, "query", "parties", "--org", "Org1", "--state", state, "--json"
    )
    assert code == 0, err
    assert json.loads(out) == []
    code, _, _ = run_cli(capsys, "network", "down", "--purge", "--state", state)
    assert code == 0
    assert not Path(state).exists()
