"""The local network's parts without starting Fabric: topology, ports, packages, records."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from fedledger.errors import NetworkError
from fedledger.network import ccaas, material, processes
from fedledger.network.layout import Layout
from fedledger.network.local import LocalNetwork
from fedledger.network.nodes import ccserver_env
from fedledger.network.topology import make_topology


def test_topology_gives_every_node_its_own_ports_in_one_block_per_org() -> None:
    topo = make_topology(3, base_port=7050)

    ports = topo.ports()

    assert len(set(ports.values())) == len(ports) == 3 * 3 + 4 * 3
    assert topo.org("org2").peer_address == "127.0.0.1:7251"
    assert topo.org("Org3").ccserver_port == 7354
    assert [o.msp_id for o in topo.orgs] == ["Org1MSP", "Org2MSP", "Org3MSP"]


@pytest.mark.parametrize("count", [1, 3, 5])
def test_each_raft_node_has_its_own_ports_below_the_first_org(count: int) -> None:
    topo = make_topology(2, orderers=count, base_port=9050)

    nodes = topo.orderers

    names = ["orderer"] + [f"orderer{k}" for k in range(2, count + 1)]
    assert [o.name for o in nodes] == [f"{n}.fedledger.local" for n in names]
    assert [(o.port, o.admin_port, o.operations_port) for o in nodes] == [
        (9050 + 10 * k, 9053 + 10 * k, 9054 + 10 * k) for k in range(count)
    ]
    assert len(set(topo.ports().values())) == len(topo.ports()) == 3 * count + 4 * 2
    assert all(o.operations_port < topo.orgs[0].peer_port for o in nodes)
    assert topo.orderer_node("orderer.fedledger.local") is nodes[0]


@pytest.mark.parametrize("count", [0, 2, 4, 6])
def test_an_orderer_count_that_is_not_1_3_or_5_is_refused(count: int) -> None:
    with pytest.raises(NetworkError) as caught:
        make_topology(3, orderers=count)

    assert str(caught.value) == (
        f"--orderers must be 1, 3 or 5 (Raft with 2f+1 nodes tolerates f crashes), got {count}"
    )


def test_cryptogen_and_configtx_name_every_raft_node(tmp_path: Path) -> None:
    topo = make_topology(2, orderers=3)
    layout = Layout(tmp_path, tmp_path / "bin")

    crypto = material.cryptogen_config(topo)
    orderer = material.configtx(topo, layout)["Profiles"]["FedLedgerChannel"]["Orderer"]  # type: ignore[index]

    specs = crypto["OrdererOrgs"][0]["Specs"]  # type: ignore[index]
    assert [s["Hostname"] for s in specs] == ["orderer", "orderer2", "orderer3"]
    consenters = orderer["EtcdRaft"]["Consenters"]
    assert [c["Port"] for c in consenters] == [o.port for o in topo.orderers]
    assert consenters[2]["ServerTLSCert"].endswith(
        "orderers/orderer3.fedledger.local/tls/server.crt"
    )
    assert orderer["Organizations"][0]["OrdererEndpoints"] == [o.address for o in topo.orderers]
    assert crypto["PeerOrgs"][0]["Users"] == {"Count": material.USERS_PER_ORG}  # type: ignore[index]


@pytest.mark.parametrize(
    ("orgs", "base", "message"),
    [
        (0, 7050, "--orgs must be between 1 and 20, got 0"),
        (21, 7050, "--orgs must be between 1 and 20, got 21"),
        (3, 80, "base port 80 with 3 organisations needs ports 80..384"),
        (3, 65400, "needs ports 65400..65704"),
    ],
)
def test_topology_refuses_bad_sizes_and_port_ranges(orgs: int, base: int, message: str) -> None:
    with pytest.raises(NetworkError, match=message.replace(".", r"\.")):
        make_topology(orgs, base_port=base)


def test_unknown_org_names_the_orgs_there_are() -> None:
    with pytest.raises(
        NetworkError, match="unknown organisation 'Org9'; this network has Org1, Org2"
    ):
        make_topology(2).org("Org9")


def test_a_taken_port_is_named_with_the_node_that_needs_it() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]

        with pytest.raises(NetworkError) as caught:
            processes.check_ports_free("127.0.0.1", {"peer0.org1 listen": port, "other": 1})

    assert f"{port} (peer0.org1 listen)" in str(caught.value)


def test_a_missing_binary_is_named(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "state", tmp_path / "bin")

    with pytest.raises(NetworkError, match="Fabric binary 'peer' is missing from"):
        layout.binary("peer")


def test_up_with_missing_binaries_says_which_and_starts_nothing(tmp_path: Path) -> None:
    network = LocalNetwork.open(tmp_path / "state", tmp_path / "bin", tmp_path / "builder")

    with pytest.raises(NetworkError, match="Fabric binary 'peer' is missing"):
        network.up()

    assert processes.load(network.layout.processes_file) == []


def test_a_network_remembers_its_shape_and_refuses_another(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "topology.json").write_text(json.dumps({"orgs": 2, "base_port": 9050}))

    reopened = LocalNetwork.open(state, tmp_path / "bin", tmp_path / "b")

    assert len(reopened.topo.orgs) == 2
    assert len(reopened.topo.orderers) == 1  # recorded before Raft clusters: one orderer
    with pytest.raises(NetworkError, match="has 2 organisations and 1 orderer on base port 9050"):
        LocalNetwork.open(state, tmp_path / "bin", tmp_path / "b", orgs=3)
    with pytest.raises(NetworkError, match="and 1 orderer on"):
        LocalNetwork.open(state, tmp_path / "bin", tmp_path / "b", orderers=3)


def test_a_new_network_has_three_raft_orderers_by_default(tmp_path: Path) -> None:
    network = LocalNetwork.open(tmp_path / "state", tmp_path / "bin", tmp_path / "b")

    assert [o.name for o in network.topo.orderers] == [
        "orderer.fedledger.local",
        "orderer2.fedledger.local",
        "orderer3.fedledger.local",
    ]


def test_the_minter_is_one_of_the_networks_organisations_and_is_remembered(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    with pytest.raises(
        NetworkError,
        match=r"--minter-msp must be the MSP id of one of the organisations \(Org1MSP, Org2MSP\)"
        r", got 'Org3MSP'",
    ):
        make_topology(2, minter_msp="Org3MSP")

    network = LocalNetwork.open(state, tmp_path / "bin", tmp_path / "b", minter_msp="Org2MSP")
    state.mkdir()
    recorded = {"orgs": 3, "base_port": 7050, "time_window": 60, "minter_msp": "Org2MSP"}
    (state / "topology.json").write_text(json.dumps(recorded))
    reopened = LocalNetwork.open(state, tmp_path / "bin", tmp_path / "b")

    assert network.topo.minter_msp == reopened.topo.minter_msp == "Org2MSP"
    env = ccserver_env(reopened.topo.orgs[0], reopened.layout, "cc:1", 60, "Org2MSP")
    assert env["FEDLEDGER_MINTER_MSP"] == "Org2MSP"
    with pytest.raises(NetworkError, match="and minter Org2MSP; run 'fedledger network down"):
        LocalNetwork.open(state, tmp_path / "bin", tmp_path / "b", minter_msp="Org1MSP")


def test_a_network_recorded_before_minters_existed_mints_with_org1(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "topology.json").write_text(json.dumps({"orgs": 2, "base_port": 9050}))

    assert LocalNetwork.open(state, tmp_path / "bin", tmp_path / "b").topo.minter_msp == "Org1MSP"


def test_process_records_survive_a_round_trip_and_a_dead_pid_is_not_alive(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    node = processes.NodeProcess("n", "peer", child.pid, [sys.executable], str(tmp_path / "l"))
    path = tmp_path / "processes.json"

    processes.save(path, [node])

    assert processes.load(path) == [node]
    assert not processes.alive(node)
    assert processes.stop(node) is False


def test_a_running_process_of_another_program_is_not_taken_for_the_node(tmp_path: Path) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        # Until the forked child has exec'd, /proc shows the parent's command line.
        deadline = time.monotonic() + 10
        while b"sleep" not in Path(f"/proc/{child.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline, "the child never exec'd sleep"
            time.sleep(0.01)
        ours = processes.NodeProcess("n", "peer", child.pid, ["sleep"], str(tmp_path / "l"))
        recycled = processes.NodeProcess("n", "peer", child.pid, ["/bin/peer"], str(tmp_path / "l"))

        assert processes.alive(ours)
        assert not processes.alive(recycled)
        assert processes.stop(ours) is True
        assert not processes.alive(ours)
    finally:
        child.kill()
        child.wait()


def _crypto_stub(layout: Layout, topo_orgs: int = 1) -> None:
    topo = make_topology(topo_orgs)
    for org in topo.orgs:
        for node in (layout.peer_dir(org), layout.ccserver_dir(org)):
            tls = node / "tls"
            tls.mkdir(parents=True)
            for name in ("server.key", "server.crt", "ca.crt"):
                (tls / name).write_text(f"{node.name} {name}")


def test_ccaas_package_id_is_the_label_and_sha256_of_the_package_file(tmp_path: Path) -> None:
    layout = Layout(tmp_path, tmp_path / "bin")
    _crypto_stub(layout)
    org = make_topology(1).orgs[0]

    path, package_id = ccaas.package(org, layout, "fedledger_1.0")
    _, again_id = ccaas.package(org, layout, "fedledger_1.0")

    assert package_id == "fedledger_1.0:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert again_id == package_id  # deterministic: same inputs, same id
    with tarfile.open(path) as outer:
        metadata = json.loads(outer.extractfile("metadata.json").read())  # type: ignore[union-attr]
        code = outer.extractfile("code.tar.gz").read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(code)) as inner:
        connection = json.loads(inner.extractfile("connection.json").read())  # type: ignore[union-attr]
    assert metadata == {"type": "ccaas", "label": "fedledger_1.0"}
    assert connection["address"] == "127.0.0.1:7154"
    assert connection["tls_required"] and connection["client_auth_required"]


def test_channel_profile_uses_majority_endorsement_and_anchor_peers(tmp_path: Path) -> None:
    topo = make_topology(3)
    layout = Layout(tmp_path, tmp_path / "bin")

    profile = material.configtx(topo, layout)["Profiles"]["FedLedgerChannel"]  # type: ignore[index]

    app = profile["Application"]
    assert app["Policies"]["Endorsement"]["Rule"] == "MAJORITY Endorsement"
    assert app["Policies"]["LifecycleEndorsement"]["Rule"] == "MAJORITY Endorsement"
    assert [o["AnchorPeers"][0]["Port"] for o in app["Organizations"]] == [7151, 7251, 7351]
    assert profile["Orderer"]["OrdererType"] == "etcdraft"


def test_a_node_is_alive_from_the_moment_start_returns(tmp_path: Path) -> None:
    # Without waiting for the exec, /proc briefly shows an empty or parent command line and a
    # starting node looked dead (seen as "exited while starting" and leaked processes).
    for attempt in range(30):
        node = processes.start(
            f"n{attempt}", "peer", ["sleep", "5"], {"PATH": "/usr/bin:/bin"}, tmp_path / "log"
        )
        try:
            assert processes.alive(node)
        finally:
            assert processes.stop(node, grace=2) is True
