"""The drawing of the exception hierarchy in ``fedledger.errors`` names every exception class.

The classes are found by reading the source (ast) of the client library, the chaincode and the
benchmarks: a class is an exception when one of its bases is a built-in exception, a name ending
in ``Error`` or ``Exception``, or another exception class of the tree. Test doubles under tests/
are not part of the library and are not drawn.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from pathlib import Path

import fedledger.errors

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "client" / "fedledger",
    ROOT / "chaincode" / "fedledger_chaincode",
    ROOT / "benchmarks",
]
BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
# One line of the drawing: tree glyphs, then the class name, then its description.
DRAWN_LINE = re.compile(r"^(?P<tree>[│├└─ ]*)(?P<name>[A-Za-z_]\w*)(\s{2,}|$)")


@dataclass(frozen=True)
class Found:
    name: str
    bases: tuple[str, ...]
    where: str


def _classes() -> list[Found]:
    found = []
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            where = f"{path.relative_to(ROOT)}"
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    bases = tuple(ast.unparse(base).split(".")[-1] for base in node.bases)
                    found.append(Found(node.name, bases, f"{where}:{node.lineno}"))
    return found


def _is_exception_name(name: str) -> bool:
    return name in BUILTIN_EXCEPTIONS or name.endswith(("Error", "Exception"))


def _exception_classes() -> list[Found]:
    classes = _classes()
    known: set[str] = set()
    grew = True
    while grew:  # a subclass may be defined before its base is seen: repeat to a fixed point
        grew = False
        for found in classes:
            is_exception = any(_is_exception_name(b) or b in known for b in found.bases)
            if found.name not in known and is_exception:
                known.add(found.name)
                grew = True
    return [found for found in classes if found.name in known]


def _drawing() -> dict[str, str]:
    """Each drawn class with its drawn parent (the tree's root has itself as parent)."""
    doc = fedledger.errors.__doc__ or ""
    drawn: dict[str, str] = {}
    parents: list[str] = []
    for line in doc.splitlines():
        match = DRAWN_LINE.match(line)
        if match is None:
            continue
        depth = len(match["tree"]) // 4
        parents[depth:] = [match["name"]]
        drawn[match["name"]] = parents[depth - 1] if depth else match["name"]
    return drawn


def test_every_exception_class_is_drawn() -> None:
    drawn = _drawing()
    missing = [f"{f.name} ({f.where})" for f in _exception_classes() if f.name not in drawn]
    assert not missing, f"exception classes missing from fedledger/errors.py's drawing: {missing}"


def test_every_drawn_class_exists_under_its_drawn_parent() -> None:
    defined = {found.name: found for found in _exception_classes()}
    for name, parent in _drawing().items():
        if name == parent:  # a root: FedLedgerError, or the built-in Exception
            continue
        assert name in defined, f"the drawing names {name}, which no module defines"
        assert parent in defined[name].bases, (
            f"the drawing puts {name} under {parent}; {defined[name].where} derives it from "
            f"{', '.join(defined[name].bases)}"
        )


def test_the_walk_sees_exceptions_outside_errors_py() -> None:
    found = {f.name: f.where for f in _exception_classes()}
    assert found["NotFoundError"].startswith("client/fedledger/protocol/errors.py")
    assert found["PeerRequestError"].startswith("chaincode/")
    assert "AssetNotFound" in found
    assert "RetryPolicy" not in found
