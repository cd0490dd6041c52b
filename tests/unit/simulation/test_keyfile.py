"""The simulation key file: a saved key loads back, only its owner reads it, junk is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.consortium import keypair

from fedledger.errors import CryptoError
from fedledger.simulation.keyfile import load_key, save_key


def test_a_saved_key_loads_back_and_only_its_owner_may_read_it(tmp_path: Path) -> None:
    public, private = keypair()
    path = tmp_path / "key.json"

    save_key(path, private)
    loaded_public, loaded_private = load_key(path)

    assert loaded_public.n == public.n and {loaded_private.p, loaded_private.q} == {
        private.p,
        private.q,
    }
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_file_that_holds_no_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text('{"p": "x"}')

    with pytest.raises(CryptoError, match="cannot read a simulation key"):
        load_key(path)
