"""Reading the network profile (network.json) strictly, with errors that name the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fedledger.errors import LedgerError
from fedledger.ledger.profile import load_profile

VALID: dict[str, Any] = {
    "channel": "fedledger",
    "chaincode": "fedledger",
    "orgs": {
        "Org1": {
            "msp_id": "Org1MSP",
            "domain": "org1.fedledger.local",
            "peer": {
                "host": "peer0.org1.fedledger.local",
                "address": "127.0.0.1:7051",
                "tls_ca": "/state/org1/tlsca.pem",
            },
            "users": {"Admin": "/state/org1/Admin/msp", "User1": "/state/org1/User1/msp"},
        },
        "Org2": {
            "msp_id": "Org2MSP",
            "domain": "org2.fedledger.local",
            "peer": {
                "host": "peer0.org2.fedledger.local",
                "address": "127.0.0.1:9051",
                "tls_ca": "/state/org2/tlsca.pem",
            },
            "users": {"User1": "/state/org2/User1/msp"},
        },
    },
    "orderer": {
        "host": "orderer.fedledger.local",
        "address": "127.0.0.1:7050",
        "tls_ca": "/state/orderer/tlsca.pem",
    },
}


def _write(folder: Path, data: Any) -> Path:
    path = folder / "network.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_profile_reads_every_field(tmp_path: Path) -> None:
    # Prepare
    path = _write(tmp_path, VALID)

    # Execute
    profile = load_profile(path)

    # Assert
    org2 = profile.org("Org2")
    assert (profile.channel, profile.chaincode) == ("fedledger", "fedledger")
    assert sorted(profile.orgs) == ["Org1", "Org2"]
    assert (org2.msp_id, org2.domain) == ("Org2MSP", "org2.fedledger.local")
    assert (org2.peer.host, org2.peer.address) == ("peer0.org2.fedledger.local", "127.0.0.1:9051")
    assert org2.peer.tls_ca == Path("/state/org2/tlsca.pem")
    assert org2.user_msp_dir("User1") == Path("/state/org2/User1/msp")
    assert profile.orderer.address == "127.0.0.1:7050"


def test_load_profile_accepts_the_state_folder(tmp_path: Path) -> None:
    # Prepare
    _write(tmp_path, VALID)

    # Execute
    profile = load_profile(tmp_path)

    # Assert
    assert profile.org("Org1").msp_id == "Org1MSP"


def test_load_profile_resolves_relative_paths_against_the_profile_folder(tmp_path: Path) -> None:
    # Prepare
    data = copy.deepcopy(VALID)
    data["orgs"]["Org1"]["peer"]["tls_ca"] = "org1/tlsca.pem"
    path = _write(tmp_path, data)

    # Execute
    profile = load_profile(path)

    # Assert
    assert profile.org("Org1").peer.tls_ca == tmp_path.resolve() / "org1" / "tlsca.pem"


def test_load_profile_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match=r"network profile not found: .*network.json"):
        load_profile(tmp_path)


def test_load_profile_names_a_file_that_is_not_json(tmp_path: Path) -> None:
    # Prepare
    path = tmp_path / "network.json"
    path.write_text("{not json", encoding="utf-8")

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"cannot read network profile .*network.json"):
        load_profile(path)


def test_load_profile_refuses_a_json_array(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="must hold a JSON object"):
        load_profile(_write(tmp_path, []))


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("channel",), "'channel'"),
        (("orgs",), "'orgs'"),
        (("orderer",), "'orderer'"),
        (("orgs", "Org1", "msp_id"), "'orgs.Org1.msp_id'"),
        (("orgs", "Org1", "peer"), "'orgs.Org1.peer'"),
        (("orgs", "Org2", "peer", "tls_ca"), "'orgs.Org2.peer.tls_ca'"),
        (("orgs", "Org1", "users"), "'orgs.Org1.users'"),
        (("orderer", "address"), "'orderer.address'"),
    ],
)
def test_load_profile_names_a_missing_field(path: tuple[str, ...], field: str) -> None:
    # Prepare
    data = copy.deepcopy(VALID)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]

    # Execute / Assert
    with pytest.raises(LedgerError, match=f"missing field {field}"):
        load_profile(data)


def test_load_profile_names_a_field_of_the_wrong_type() -> None:
    # Prepare
    data = copy.deepcopy(VALID)
    data["orgs"]["Org1"]["peer"]["address"] = 7051

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"'orgs.Org1.peer.address' must be a str, got int"):
        load_profile(data)


def test_load_profile_names_a_user_path_of_the_wrong_type() -> None:
    # Prepare
    data = copy.deepcopy(VALID)
    data["orgs"]["Org1"]["users"]["User1"] = ["msp"]

    # Execute / Assert
    with pytest.raises(LedgerError, match=r"'orgs.Org1.users.User1' must be a str, got list"):
        load_profile(data)


def test_load_profile_refuses_an_empty_channel_name() -> None:
    # Prepare
    data = copy.deepcopy(VALID)
    data["channel"] = "  "

    # Execute / Assert
    with pytest.raises(LedgerError, match="field 'channel' is empty"):
        load_profile(data)


def test_load_profile_refuses_a_profile_without_orgs() -> None:
    # Prepare
    data = copy.deepcopy(VALID)
    data["orgs"] = {}

    # Execute / Assert
    with pytest.raises(LedgerError, match="'orgs' is empty"):
        load_profile(data)
