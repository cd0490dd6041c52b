"""Network profiles (the network.json shape) for tests that need one organisation, Org1."""

from __future__ import annotations

from typing import Any


def org1_profile(peer: dict[str, str], users: dict[str, str]) -> dict[str, Any]:
    """Return a profile of channel and chaincode ``fedledger`` with Org1 as the only org.

    ``peer`` (host, address, tls_ca) is Org1's peer and, under the orderer's host name, the
    orderer too; ``users`` maps user names to their MSP folders.
    """
    return {
        "channel": "fedledger",
        "chaincode": "fedledger",
        "orgs": {
            "Org1": {
                "msp_id": "Org1MSP",
                "domain": "org1.fedledger.local",
                "peer": peer,
                "users": users,
            }
        },
        "orderer": {**peer, "host": "orderer.fedledger.local"},
    }
