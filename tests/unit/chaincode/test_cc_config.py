"""The contract's network-wide settings: read from the chaincode server's environment."""

from __future__ import annotations

import pytest

from fedledger.protocol.errors import ProtocolError
from fedledger_chaincode.core.config import ContractConfig, contract_config_from_env
from fedledger_chaincode.fabric.server import ServerConfigError, config_from_env

SERVER = {"CHAINCODE_ID": "fedledger:ab", "CHAINCODE_SERVER_ADDRESS": "127.0.0.1:9999"}


def test_the_time_window_defaults_to_sixty_seconds_and_rounds_to_five_windows() -> None:
    config = contract_config_from_env({})

    assert config == ContractConfig(time_window_seconds=60)
    assert config.min_round_seconds == 300


def test_the_server_passes_its_time_window_to_the_contract() -> None:
    config = config_from_env({**SERVER, "FEDLEDGER_TIME_WINDOW_SECONDS": "10"})

    assert config.contract.time_window_seconds == 10
    assert config.contract.min_round_seconds == 50


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ten", "must be whole seconds, got 'ten'"),
        ("-5", "must be whole seconds, got '-5'"),
        ("²", "must be whole seconds, got '²'"),
        ("\uff11\uff12", "must be whole seconds, got '\uff11\uff12'"),  # fullwidth 12
        ("0", "must be 1 to 3600 seconds, got 0"),
        ("3601", "must be 1 to 3600 seconds, got 3601"),
    ],
)
def test_a_malformed_time_window_stops_the_server_with_its_name(text: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        contract_config_from_env({"FEDLEDGER_TIME_WINDOW_SECONDS": text})
    with pytest.raises(ServerConfigError, match=message):
        config_from_env({**SERVER, "FEDLEDGER_TIME_WINDOW_SECONDS": text})


def test_the_minter_organisation_defaults_to_org1_and_is_read_from_the_environment() -> None:
    assert contract_config_from_env({}).minter_msp == "Org1MSP"
    assert contract_config_from_env({"FEDLEDGER_MINTER_MSP": "Org2MSP"}).minter_msp == "Org2MSP"
    assert config_from_env({**SERVER, "FEDLEDGER_MINTER_MSP": "Org3MSP"}).contract.minter_msp == (
        "Org3MSP"
    )


def test_a_malformed_minter_msp_stops_the_server_with_its_name() -> None:
    message = "FEDLEDGER_MINTER_MSP: the minter MSP id must be letters, digits"
    with pytest.raises(ProtocolError, match=message):
        contract_config_from_env({"FEDLEDGER_MINTER_MSP": "Org 1"})
    with pytest.raises(ServerConfigError, match=message):
        config_from_env({**SERVER, "FEDLEDGER_MINTER_MSP": "Org/1"})
    with pytest.raises(ProtocolError, match="the minter MSP id must be"):
        ContractConfig(minter_msp="")
