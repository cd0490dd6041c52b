"""The inference package depends on nothing of fedledger's but its errors (read from the source)."""

from __future__ import annotations

import ast
from pathlib import Path

import fedledger.inference

PACKAGE = Path(fedledger.inference.__file__).parent


def _fedledger_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.split(".")[0] == "fedledger"}


def test_inference_imports_only_itself_and_errors() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 10
    outside = {
        f"{path.name}: {name}"
        for path in modules
        for name in _fedledger_imports(path)
        if not (name == "fedledger.errors" or name.startswith("fedledger.inference"))
    }
    assert outside == set()
