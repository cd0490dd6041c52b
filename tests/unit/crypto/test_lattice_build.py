"""The lattice helper's build is skipped exactly while its stamp matches the module's sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fedledger.crypto.lattice.build import (
    HELPER_NAME,
    STAMP,
    build_helper,
    default_module_dir,
    helper_current,
    source_digest,
)
from fedledger.errors import CryptoError


@pytest.fixture
def module(tmp_path: Path) -> Path:
    target = tmp_path / "lattice"
    target.mkdir()
    for path in default_module_dir().iterdir():
        if path.suffix == ".go" or path.name in ("go.mod", "go.sum"):
            shutil.copy(path, target / path.name)
    return target


def _pretend_built(module: Path, out: Path) -> None:
    out.mkdir(exist_ok=True)
    (out / HELPER_NAME).write_text("not a real binary")
    (out / STAMP).write_text(source_digest(module) + "\n")


def test_a_helper_built_from_these_sources_is_current_and_not_rebuilt(
    module: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _pretend_built(module, out)

    assert helper_current(module, out)
    assert build_helper(module, out) == out / HELPER_NAME
    assert (out / HELPER_NAME).read_text() == "not a real binary"  # Go never ran


@pytest.mark.parametrize("name", ["main.go", "go.sum"])
def test_changing_a_source_or_the_pin_makes_the_helper_stale(
    module: Path, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    _pretend_built(module, out)

    (module / name).write_text((module / name).read_text() + "\n// changed\n")

    assert not helper_current(module, out)


def test_a_missing_binary_is_stale(module: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _pretend_built(module, out)
    (out / HELPER_NAME).unlink()

    assert not helper_current(module, out)


def test_an_incomplete_pin_is_named(module: Path) -> None:
    (module / "go.sum").unlink()

    with pytest.raises(CryptoError, match=r"pin is incomplete: go\.sum is missing"):
        source_digest(module)
