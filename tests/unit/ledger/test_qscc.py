"""Block hashes as Fabric chains them, checked against blocks of a real v3.1.1 network."""

from __future__ import annotations

import pytest
from fabric_protos.common import common_pb2

from fedledger.errors import GatewayError
from fedledger.ledger.qscc import block_header_hash


def _header(number: int, previous: str, data: str) -> common_pb2.BlockHeader:
    return common_pb2.BlockHeader(
        number=number, previous_hash=bytes.fromhex(previous), data_hash=bytes.fromhex(data)
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # A genesis block and the previous_hash its successor recorded.
        (
            _header(0, "", "85da6dfee236f1c24c75c393a3542285b0ee29e0ddc5a10a78db80924a0e4980"),
            "5ca26450585a2c35c5917262a3e8fd21bcc09143d26c14d9d708719e4496463f",
        ),
        # Block 153 and the currentBlockHash the peer's GetChainInfo reported at height 154.
        (
            _header(
                153,
                "e6808bdda6932bb97ccabf26728c992eac04cbd86f879237bb10dcef6c1b719d",
                "8cd75d913e8e66f634eb31821211964f15d4cc07f0444430399b10e4b4e96184",
            ),
            "2a662757ccb5fba8e7755186eab052f0b6037b43d9551e9551db3302e1e02eac",
        ),
    ],
)
def test_block_header_hash_is_the_hash_fabric_chains_blocks_with(
    header: common_pb2.BlockHeader, expected: str
) -> None:
    assert block_header_hash(header).hex() == expected


def test_block_numbers_of_every_size_hash_differently() -> None:
    digest = "00" * 32
    hashes = {block_header_hash(_header(n, digest, digest)) for n in (0, 127, 128, 255, 2**63)}
    assert len(hashes) == 5


def test_a_header_field_that_is_no_digest_is_refused() -> None:
    with pytest.raises(GatewayError, match="200 bytes is not a digest"):
        block_header_hash(_header(1, "00" * 200, "00" * 32))
