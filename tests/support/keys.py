"""Fixed test keys (generated once by fedledger.crypto.keys): safe primes, so tests stay fast.

The crypto tests build Paillier keys from them and the chaincode tests use their moduli, so
both areas agree on one fixture. These keys are public: never use them for anything real.
"""

from __future__ import annotations

SAFE_2048_P = int(
    "d1e36aac54a04e746b0ffe26c13cbb52f34cf0c5dda8689daad27911c7aaecea9825e554337cc583"
    "37dbed299203acedb782e557418aff9b863f3109ce4570d4e3177e63688fe2f630b0dcc8b117b58f"
    "2b5e2ffaa88d8ae5c5099f4d8eed102ce651ba8adc039ec6057c352f702bc8b02b66802ef8be1282"
    "fd0b3438d633312f",
    16,
)
SAFE_2048_Q = int(
    "ebbc191ca5e7582ecf61c7198abbb36401e0bf258815dd2eece256ab4363a4231d4e6dc9ff0c62df"
    "014298704c7fa7381562d4019e6c644c1b3ed4c8f43560e3a96850821804c2890573d0637acbb252"
    "426ad51b2bd2f66c64c77f1b97ccf78d3beada9fa52c1e8592379f003f61ade81f5bda00c50c2ad8"
    "f5802748b6c811e7",
    16,
)
OTHER_2048_P = int(
    "de603896e9cdd751837dcac4c0066374d513b06a1c223a60db867e2e7527b83d18a0c088ceb8106b"
    "18e3fc7d9dfdcb8c1e77a59234a9d898242c5a83fc13969661cff6d8fe7b78fb7dc409df0c2e0a20"
    "17eba83976a234a8d739395ae1ce48a29943a94b2822785e0290d7aa807f51c5a0b366ab41d65be5"
    "2a6b5156b67d16c3",
    16,
)
OTHER_2048_Q = int(
    "c379a9567cd12d7eece86d34842a0912d6bc46a191852ecaa2f8051a20b838a05f8ca62b197df695"
    "47d5cdcc98130f21e57d7ea8d8de06e3d014d1566556a8f2933b2de1ef93ad835e81189a95efe02c"
    "03969f751bb839e8ac012d4d627ace9727d8c6b226bf6009d984eb49c68a0dcec4f33eed1e67ba1a"
    "3435c7d62e2a19bb",
    16,
)
TINY_256_P = int("dffdfa628aec662aea2b4e6547bda31f", 16)
TINY_256_Q = int("dc12c2aa7143963796a96676d3d0bd73", 16)
