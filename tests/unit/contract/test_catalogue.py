"""Every routed chaincode transaction has exactly one typed function in fedledger.contract."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from fedledger.contract.catalogue import TRANSACTIONS
from fedledger_chaincode.core.contract import build_router

CLIENT = Path(__file__).resolve().parents[3] / "client" / "fedledger"



def test_every_routed_transaction_has_a_typed_function() -> None:
    assert sorted(TRANSACTIONS) == sorted(build_router().names)


def test_no_function_serves_two_transactions() -> None:
    functions = [id(function) for function in TRANSACTIONS.values()]
    assert len(functions) == len(set(functions))


def test_each_function_lives_in_the_typed_client_and_names_its_transaction() -> None:
    for name, function in TRANSACTIONS.items():
        module = inspect.getmodule(function)
        assert module is not None and module.__name__.startswith("fedledger.contract."), name
        assert f'"{name}"' in inspect.getsource(module), f"{module.__name__} never sends {name}"


def _named_calls(path: Path) -> list[str]:
    """The transaction names a module passes to ``x.submit``/``x.evaluate`` (first argument) or
    to ledger_io's ``query``/``query_or_none``/``submit`` (second argument)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func, position = node.func, None
        if isinstance(func, ast.Attribute) and func.attr in ("submit", "evaluate"):
            position = 0
        elif isinstance(func, ast.Name) and func.id in ("query", "query_or_none", "submit"):
            position = 1
        if position is None or len(node.args) <= position:
            continue
        argument = node.args[position]
        if isinstance(argument, ast.Constant) and argument.value in TRANSACTIONS:
            names.append(str(argument.value))
    return names


def test_only_the_typed_client_calls_transactions_by_name() -> None:
    offenders = {}
    for path in sorted(CLIENT.rglob("*.py")):
        relative = path.relative_to(CLIENT).as_posix()
        if relative.startswith("contract/"):
            continue
        if named := _named_calls(path):
            offenders[relative] = named
    assert offenders == {}
