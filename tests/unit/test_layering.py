"""The layering of ../shared/DESIGN.md, read from the source: who may import whom, who prints.

- ``protocol`` imports nothing of ours but itself, and nothing outside the standard library
  (``bigint`` may use gmpy2 when it is there, with a pure-Python fallback);
- the chaincode imports only ``protocol`` of fedledger;
- ``ledger`` never imports ``crypto`` or ``learning``;
- the round flow (``roles/training``) and the chaincode's training transactions talk to the
  task's encryption scheme only through its seam (``crypto.scheme``/``crypto.schemes``,
  ``protocol.scheme``/``protocol.schemes``), never to a scheme's own modules;
- ``contract`` (the typed chaincode client) imports only ``protocol``, ``ledger.interface`` and
  ``errors`` of fedledger, and itself;
- only ``cli`` prints.

Rooms of the chaincode (``fedledger_chaincode``):

- ``fabric`` is the Fabric plumbing (server, handler, shim context, protos); the contract packages
  ``core``, ``credits``, ``training``, ``enrichment`` and ``prediction`` never import it, so the
  contract runs as well against the unit tests' stub as against a peer;
- ``core`` (context, router, parties, advertisements, history) imports no room. The one exception
  is ``core/contract.py``: it assembles the contract from every room's routes, the composition
  root, and nothing imports it but ``fabric`` and the tests;
- ``credits`` (tokens and their movements) imports only ``core``;
- ``training``, ``enrichment`` and ``prediction`` import ``core`` and ``credits``, not each other,
  with one allowed reading: an enrichment plan and a prediction offer are about a training task
  and the global model it adopted, so ``enrichment`` and ``prediction`` may read
  ``training.state`` (the task, the caller's party, record writes) and ``training.global_model``
  (:data:`CHAINCODE_ROOM_READS`). ``training`` reads no other room.

Rooms of the client (``fedledger.roles``): ``ledger_io``, ``metering`` and ``model_io`` are
shared plumbing. ``roles.prediction`` never imports ``roles.enrichment`` (a paid prediction
knows nothing of how the model was enriched) and ``roles.training`` never imports
``roles.prediction`` (training must not depend on who sells its model). Other readings across
rooms are allowed; those made today: ``roles.prediction.served_model`` reads
``roles.training.checkpoints`` (the provider serves the model its participant adopted and
stored), and ``roles.training.dataplan`` reads ``roles.enrichment.data`` (the skewed split the
enrichment demo trains on: pure data partitioning, which would sit better in ``learning``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client" / "fedledger"
CHAINCODE = ROOT / "chaincode" / "fedledger_chaincode"
OPTIONAL_IN_PROTOCOL = {"gmpy2"}


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports; ``from package import name`` yields ``package`` and
    ``package.name`` (``name`` may be a module of the package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _top(name: str) -> str:
    return name.split(".")[0]


def _ours(name: str) -> str | None:
    """The fedledger package an import names (``protocol``, ``crypto``, …), or None."""
    parts = name.split(".")
    if parts[0] == "fedledger":
        return parts[1] if len(parts) > 1 else ""
    if parts[0] == "fedledger_chaincode":
        return "chaincode"
    return None


@pytest.mark.parametrize("path", _modules(CLIENT / "protocol"), ids=lambda p: p.name)
def test_protocol_uses_only_the_standard_library_and_itself(path: Path) -> None:
    for name in _imports(path):
        ours = _ours(name)
        if ours is not None:
            assert ours == "protocol", f"{path.name} imports {name}"
        else:
            top = _top(name)
            allowed = top in sys.stdlib_module_names or top == "__future__"
            assert allowed or top in OPTIONAL_IN_PROTOCOL, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _modules(CHAINCODE), ids=lambda p: p.name)
def test_the_chaincode_imports_only_protocol_of_fedledger(path: Path) -> None:
    for name in _imports(path):
        ours = _ours(name)
        assert ours in (None, "protocol", "chaincode"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _modules(CLIENT / "ledger"), ids=lambda p: p.name)
def test_the_ledger_never_imports_crypto_or_learning(path: Path) -> None:
    for name in _imports(path):
        assert _ours(name) not in ("crypto", "learning"), f"{path.name} imports {name}"


# The modules of packed threshold Paillier, the one scheme today: a second scheme's modules join
# this list (any module named after a scheme is caught by SCHEME_NAMES as well).
SCHEME_SPECIFIC = {
    "fedledger.crypto." + name
    for name in (
        "ceremony", "encoding", "keys", "paillier", "popk", "quorum", "randomness", "threshold",
        "vectors", "wire",
    )
} | {"fedledger.protocol." + name for name in ("ciphervec", "popk", "threshold")}  # fmt: skip
SCHEME_NAMES = ("paillier", "lattice")
ROUND_FLOW = _modules(CLIENT / "roles" / "training") + [
    CHAINCODE / "training" / f"{name}.py" for name in ("updates", "rounds", "shares")
]


def _names_a_scheme(name: str) -> bool:
    last = name.split(".")[-1]
    return name in SCHEME_SPECIFIC or any(scheme in last for scheme in SCHEME_NAMES)


@pytest.mark.parametrize("path", ROUND_FLOW, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_round_flow_never_names_an_encryption_scheme(path: Path) -> None:
    for name in _imports(path):
        assert not _names_a_scheme(name), f"{path.name} imports {name}"


def test_the_scheme_check_knows_the_scheme_modules() -> None:
    assert all(Path(CLIENT.parent, *name.split(".")).with_suffix(".py").exists()
               for name in SCHEME_SPECIFIC)  # fmt: skip
    assert _names_a_scheme("fedledger.crypto.paillier_scheme")
    assert not _names_a_scheme("fedledger.crypto.schemes")
    assert {"participant.py", "coordinator.py", "task_policy.py"} <= {p.name for p in ROUND_FLOW}


_CONTRACT_MAY_IMPORT = ("fedledger.protocol", "fedledger.ledger.interface", "fedledger.errors")


@pytest.mark.parametrize("path", _modules(CLIENT / "contract"), ids=lambda p: p.name)
def test_the_typed_client_imports_only_protocol_ledger_interface_and_errors(path: Path) -> None:
    for name in _imports(path):
        if _ours(name) is None or _ours(name) == "contract":
            continue
        allowed = any(name == m or name.startswith(m + ".") for m in _CONTRACT_MAY_IMPORT)
        assert allowed, f"{path.name} imports {name}"


CHAINCODE_CONTRACT = ("core", "credits", "training", "enrichment", "prediction")
CHAINCODE_FLOWS = ("training", "enrichment", "prediction")
# (room, module of another room it may import): why is in the module docstring.
CHAINCODE_ROOM_READS = {
    ("enrichment", "fedledger_chaincode.training.state"),
    ("enrichment", "fedledger_chaincode.training.global_model"),
    ("prediction", "fedledger_chaincode.training.state"),
    ("prediction", "fedledger_chaincode.training.global_model"),
}


def _room_imports(path: Path, package: str) -> Iterator[tuple[str, str]]:
    """(room, module) for each module of a room of ``package`` that ``path`` imports."""
    depth = len(package.split("."))
    for name in _imports(path):
        parts = name.split(".")
        if name.startswith(package + ".") and len(parts) > depth:
            yield parts[depth], ".".join(parts[: depth + 2])


def _room_of(path: Path, folder: Path) -> str:
    return path.relative_to(folder).parts[0]


CONTRACT_MODULES = [p for room in CHAINCODE_CONTRACT for p in _modules(CHAINCODE / room)]


@pytest.mark.parametrize("path", CONTRACT_MODULES, ids=lambda p: str(p.relative_to(CHAINCODE)))
def test_chaincode_rooms_import_only_what_the_room_rules_allow(path: Path) -> None:
    room = _room_of(path, CHAINCODE)
    composition_root = path == CHAINCODE / "core" / "contract.py"
    for other, module in _room_imports(path, "fedledger_chaincode"):
        where = f"{room}/{path.name} imports {module}"
        assert other != "fabric", f"{where}: the contract never sees the Fabric plumbing"
        if other == room or other == "core" or composition_root:
            continue
        assert room != "core", f"{where}: core imports no room"
        assert room != "credits", f"{where}: credits imports only core"
        allowed = other == "credits" or (room, module) in CHAINCODE_ROOM_READS
        assert allowed, f"{where}: a room reads another only as CHAINCODE_ROOM_READS allows"


ROLES = CLIENT / "roles"
FORBIDDEN_CLIENT_ROOMS = {"prediction": {"enrichment"}, "training": {"prediction"}}


@pytest.mark.parametrize(
    "path",
    [p for room in ("training", "enrichment", "prediction") for p in _modules(ROLES / room)],
    ids=lambda p: str(p.relative_to(ROLES)),
)
def test_client_rooms_import_only_what_the_room_rules_allow(path: Path) -> None:
    room = _room_of(path, ROLES)
    mine = str(path.relative_to(ROLES))
    for other, module in _room_imports(path, "fedledger.roles"):
        forbidden = FORBIDDEN_CLIENT_ROOMS.get(room, set())
        assert other not in forbidden, f"{mine} imports {module}: roles.{room} never reads {other}"


def test_the_room_rules_see_the_rooms() -> None:
    assert len(CONTRACT_MODULES) >= 20
    enrichment_settle = CHAINCODE / "enrichment" / "settle.py"
    reads = set(_room_imports(enrichment_settle, "fedledger_chaincode"))
    assert ("training", "fedledger_chaincode.training.global_model") in reads
    used = {
        (_room_of(path, CHAINCODE), module)
        for path in CONTRACT_MODULES
        for _, module in _room_imports(path, "fedledger_chaincode")
    }
    assert used >= CHAINCODE_ROOM_READS, "an allowed reading no module makes: drop it"
    served_model = ROLES / "prediction" / "served_model.py"
    assert ("training", "fedledger.roles.training.checkpoints") in set(
        _room_imports(served_model, "fedledger.roles")
    )


def _prints(path: Path) -> bool:
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
        for node in ast.walk(tree)
    )


LIBRARY = [p for p in _modules(CLIENT) if "cli" not in p.relative_to(CLIENT).parts]


@pytest.mark.parametrize("path", LIBRARY + _modules(CHAINCODE), ids=lambda p: p.name)
def test_only_the_cli_prints(path: Path) -> None:
    assert not _prints(path), f"{path} calls print()"


def test_the_checks_see_the_code() -> None:
    assert len(_modules(CLIENT / "protocol")) >= 10
    assert any(_prints(p) for p in _modules(CLIENT / "cli"))
