"""The label-skewed consortium of the enrichment demo and the enricher's data."""

from __future__ import annotations

import numpy as np
import pytest

from fedledger.errors import LearningError
from fedledger.learning.datasets import Dataset, DataSplit
from fedledger.roles.enrichment.data import parse_skewed_digits, skewed_split


def _split(per_class: int = 100) -> DataSplit:
    labels = np.repeat(np.arange(10), per_class)
    x = np.random.default_rng(0).random((labels.size, 784), dtype=np.float32)
    return DataSplit(Dataset(x, labels), Dataset(x[:10], labels[:10]))


def test_participants_rarely_see_the_skewed_digits_which_the_enricher_holds() -> None:
    split = _split()

    skewed = skewed_split(split, 3, (7, 8, 9), seed=0)

    pooled = np.concatenate([d.y for d in skewed.train])
    counts = np.bincount(pooled, minlength=10)
    enricher = np.bincount(skewed.enricher.y, minlength=10)
    # 90 per digit after validation: the enricher takes 95 % of 7-9 and 15 % of the others
    assert list(counts[7:]) == [4, 4, 4] and all(c == 76 for c in counts[:7])
    assert list(enricher[7:]) == [86, 86, 86] and all(c == 14 for c in enricher[:7])
    for validation in skewed.validation:
        assert set(validation.y.tolist()) == set(range(10))
    assert sum(len(v) for v in skewed.validation) == 100
    assert len(pooled) + len(skewed.enricher) + 100 == 1000


def test_the_split_is_the_same_in_every_process() -> None:
    first = skewed_split(_split(), 3, (1, 2), seed=4)
    second = skewed_split(_split(), 3, (1, 2), seed=4)

    assert all(np.array_equal(a.y, b.y) for a, b in zip(first.train, second.train, strict=True))
    assert np.array_equal(first.enricher.x, second.enricher.x)


@pytest.mark.parametrize("text", ["skewed:", "skewed:a", "skewed:10", "skewed:0,1,2,3,4,5,6,7,8,9"])
def test_a_skewed_partition_names_some_digits(text: str) -> None:
    with pytest.raises(LearningError) as refused:
        parse_skewed_digits(text)

    assert "a skewed partition names some of the digits 0-9" in str(refused.value)
