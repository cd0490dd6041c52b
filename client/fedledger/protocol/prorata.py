"""Pro-rata splits of a whole number of credits: exact, deterministic, integers only.

:func:`split_pro_rata` divides ``total`` among keys in proportion to integer weights (e.g. a
participant's declared samples) by the largest-remainder method:

1. every key gets ``floor(total * w / W)``, where ``W`` is the sum of the weights;
2. the units left over (fewer than the number of keys with a positive weight) go one each to the
   keys with the largest remainders ``total * w mod W``, ties broken by key in ascending order.

So the parts always sum to ``total`` exactly, each part is its exact share rounded down or up,
and the result depends only on the weights, never on the order they were given in. Every endorsing
peer computes the same split, which is what lets the chaincode pay by it.
"""

from __future__ import annotations

from collections.abc import Mapping

from fedledger.protocol.canonical import show
from fedledger.protocol.errors import ProtocolError

__all__ = ["split_pro_rata"]


def _check_whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError(f"{what} must be a non-negative integer, got {show(value)}")
    return value


def split_pro_rata(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` among the keys of ``weights`` in proportion to their weights.

    Returns ``{key: part}`` for every key (a zero weight gets 0), keys in ascending order; the
    parts sum to ``total``. Raises ``ProtocolError`` when ``total`` or a weight is not a
    non-negative integer, or when there is no positive weight to split by.
    """
    _check_whole(total, "the amount to split")
    for key, weight in weights.items():
        _check_whole(weight, f"the weight of {key}")
    whole = sum(weights.values())
    if whole == 0:
        raise ProtocolError("a pro-rata split needs at least one positive weight")
    keys = sorted(weights)
    parts = {key: total * weights[key] // whole for key in keys}
    left = total - sum(parts.values())
    by_remainder = sorted(keys, key=lambda key: (-(total * weights[key] % whole), key))
    for key in by_remainder[:left]:
        parts[key] += 1
    return parts
