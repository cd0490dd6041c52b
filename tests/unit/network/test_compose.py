"""The generated docker-compose description: the native nodes, ports and environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fedledger.cli.main import main
from fedledger.errors import NetworkError
from fedledger.network.compose import (
    CCSERVER_IMAGE,
    CONTAINER_STATE,
    HOST_ONLY,
    ORDERER_IMAGE,
    PEER_IMAGE,
    compose_document,
    compose_file,
    container_layout,
    render_yaml,
)
from fedledger.network.nodes import orderer_env, peer_env
from fedledger.network.topology import make_topology

REPO = Path(__file__).resolve().parents[3]


def _services(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    services = doc["services"]
    assert isinstance(services, dict)
    return services


def _env(service: dict[str, object]) -> dict[str, str]:
    env = service["environment"]
    assert isinstance(env, dict)
    return env


def test_committed_compose_file_is_what_the_generator_writes_for_the_default_topology() -> None:
    # Prepare
    committed = (REPO / "docker-compose.yaml").read_text()
    topo = make_topology()

    # Execute
    generated = compose_file(topo)

    # Assert
    assert committed == generated
    body = "".join(line for line in committed.splitlines(True) if not line.startswith("#"))
    assert body == render_yaml(compose_document(topo))


def test_every_port_appears_in_the_environment_of_exactly_its_own_node() -> None:
    # Prepare
    topo = make_topology()
    services = _services(compose_document(topo))

    for label, port in topo.ports().items():
        node = label.rsplit(" ", 1)[0]
        pattern = re.compile(rf"(?<!\d){port}(?!\d)")

        # Execute
        holders = {
            name
            for name, service in services.items()
            if any(pattern.search(value) for value in _env(service).values())
        }

        # Assert
        assert holders == {node}, label


@pytest.mark.parametrize("orgs", [1, 3, 5])
def test_one_service_per_orderer_peer_and_chaincode_server(orgs: int) -> None:
    # Execute
    services = _services(compose_document(make_topology(orgs)))

    # Assert
    assert len(services) == 3 + 2 * orgs
    images = [service["image"] for service in services.values()]
    assert images.count(ORDERER_IMAGE) == 3
    assert images.count(PEER_IMAGE) == orgs
    assert images.count(CCSERVER_IMAGE) == orgs


def test_node_environment_is_the_native_one_without_host_variables() -> None:
    # Prepare
    topo = make_topology()
    layout = container_layout()
    services = _services(compose_document(topo))
    org = topo.orgs[1]

    # Execute
    orderer = _env(services[topo.orderers[1].name])
    peer = _env(services[org.peer_name])

    # Assert
    native = orderer_env(topo, layout, topo.orderers[1])
    native_orderer = {k: v for k, v in native.items() if k not in HOST_ONLY}
    assert orderer == native_orderer
    native_peer = {
        k: v
        for k, v in peer_env(org, layout, topo.time_window_seconds).items()
        if k not in HOST_ONLY
    }
    assert {k: v for k, v in peer.items() if k != "FABRIC_CFG_PATH"} == {
        k: v for k, v in native_peer.items() if k != "FABRIC_CFG_PATH"
    }
    assert not set(HOST_ONLY) & (set(orderer) | set(peer))
    assert orderer["FABRIC_CFG_PATH"] == f"{CONTAINER_STATE}/config"


def test_chaincode_servers_take_their_package_id_from_a_required_variable() -> None:
    # Prepare
    topo = make_topology(2)

    # Execute
    services = _services(compose_document(topo))

    # Assert
    for org in topo.orgs:
        chaincode_id = _env(services[org.ccserver_name])["CHAINCODE_ID"]
        assert chaincode_id.startswith(f"${{FEDLEDGER_PACKAGE_ID_{org.name.upper()}:?")


def test_cli_compose_with_five_orgs_and_five_orderers_writes_fifteen_services(
    tmp_path: Path,
) -> None:
    # Prepare
    output = tmp_path / "compose.yaml"

    # Execute
    code = main(["network", "compose", "--orgs", "5", "--orderers", "5", "--output", str(output)])

    # Assert
    assert code == 0
    text = output.read_text()
    assert text == compose_file(make_topology(5, orderers=5))
    services = re.findall(r"^  (\S+):$", text, flags=re.MULTILINE)
    assert len(services) == 15


def test_cli_compose_prints_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    # Execute
    code = main(["network", "compose", "--orgs", "2", "--base-port", "9000"])

    # Assert
    assert code == 0
    assert capsys.readouterr().out == compose_file(make_topology(2, base_port=9000))


@pytest.mark.parametrize(
    "text",
    [
        "7050",
        "3.1.1",
        "-1",
        "+1",
        ".5",
        "1e3",
        "0x1F",
        "true",
        "False",
        "yes",
        "No",
        "on",
        "OFF",
        "null",
        "y",
        "~",
        "",
    ],
)
def test_strings_that_yaml_would_read_as_numbers_booleans_or_null_are_quoted(text: str) -> None:
    # Execute
    rendered = render_yaml({"key": text})

    # Assert
    assert rendered == f'key: "{text}"\n'


@pytest.mark.parametrize(
    "text", ["127.0.0.1:7050", "a: b", "image:tag", "# not a comment", "[x]", "{y}", "a b", "*ref"]
)
def test_strings_with_yaml_syntax_characters_are_quoted(text: str) -> None:
    # Execute
    rendered = render_yaml([text])

    # Assert
    assert rendered == f'- "{text}"\n'


def test_quotes_backslashes_and_control_characters_are_escaped() -> None:
    # Execute
    rendered = render_yaml({"k": 'say "hi"\\\n\tend\x07'})

    # Assert
    assert rendered == 'k: "say \\"hi\\"\\\\\\n\\tend\\u0007"\n'


def test_plain_names_and_paths_stay_unquoted() -> None:
    # Execute
    rendered = render_yaml({"peer0.org1.fedledger.local": "/var/fedledger/config", "mode": "host"})

    # Assert
    assert rendered == "peer0.org1.fedledger.local: /var/fedledger/config\nmode: host\n"


def test_nested_blocks_booleans_integers_and_empty_collections() -> None:
    # Prepare
    doc = {"a": [{"b": 1, "c": [True, False]}, ["x"]], "d": {}, "e": [], "f": {"g": 0}}

    # Execute
    rendered = render_yaml(doc, comment="line one\n\nline two")

    # Assert
    assert rendered == (
        "# line one\n#\n# line two\n"
        "a:\n  - b: 1\n    c:\n      - true\n      - false\n  -\n    - x\n"
        "d: {}\ne: []\nf:\n  g: 0\n"
    )


@pytest.mark.parametrize("doc", [{"k": 1.5}, {"k": None}, {1: "v"}, [("t",)]])
def test_values_outside_dicts_lists_str_int_bool_are_refused(doc: object) -> None:
    # Execute / Assert
    with pytest.raises(NetworkError):
        render_yaml(doc)
