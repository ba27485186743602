"""docs/architecture.md's one-way imports, read from the source with ``ast``.

``cli -> app -> {awsjson, oauth, hosted_ui} -> core -> {crypto, store, errors}``: crypto
is pure; core knows no web framework and no protocol; protocol packages never import
each other; the store knows nothing above the core. Imports inside functions and under
``TYPE_CHECKING`` count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import cognate

SRC = Path(cognate.__file__).parent
PROTOCOLS = ("cognate.awsjson", "cognate.oauth", "cognate.hosted_ui")
ABOVE_CORE = (
    *PROTOCOLS,
    "cognate.app",
    "cognate.cli",
    "cognate.keys_cli",
    "cognate.seed",
    "cognate.bootstrap",
    "cognate.lambdas",
)
WEB = ("starlette", "uvicorn", "jinja2", "multipart", "python_multipart")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, relative ones resolved."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    return imports_in(path.read_text(), package)


def imports_in(source: str, package: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # ``from cognate import awsjson`` imports cognate.awsjson
                yield node.lineno, f"{target}.{alias.name}"


def modules_under(package: str) -> list[Path]:
    root = SRC.joinpath(*package.split(".")[1:])
    if root.with_suffix(".py").is_file():
        return [root.with_suffix(".py")]
    return sorted(root.rglob("*.py")) if root.is_dir() else []


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in modules_under(package):
        for line, name in imports(path):
            if within(name, forbidden):
                found.append(f"{path.relative_to(SRC.parent)}:{line} imports {name}")
    return sorted(set(found))


def test_the_import_reader_sees_every_kind_of_import() -> None:
    source = """
import starlette.routing
from typing import TYPE_CHECKING
from . import users
from ..awsjson import wire
from .. import oauth
if TYPE_CHECKING:
    from cognate.app import build
def lazy():
    import cognate.cli
"""
    found = {name for _, name in imports_in(source, "cognate.core")}
    assert {
        "starlette.routing",
        "cognate.core.users",
        "cognate.awsjson",
        "cognate.awsjson.wire",
        "cognate.oauth",
        "cognate.app",
        "cognate.cli",
    } <= found
    assert module_name(SRC / "awsjson" / "ops" / "__init__.py") == "cognate.awsjson.ops"
    assert within("cognate.awsjson.ops.users", PROTOCOLS)
    assert not within("cognate.awsjsonx", PROTOCOLS)


def test_crypto_imports_nothing_from_cognate() -> None:
    assert violations("cognate.crypto", ("cognate",)) == []


def test_errors_import_nothing_from_cognate() -> None:
    assert violations("cognate.errors", ("cognate",)) == []


def test_core_knows_no_protocol_and_no_web_framework() -> None:
    assert violations("cognate.core", (*ABOVE_CORE, *WEB)) == []


def test_store_knows_nothing_above_the_core() -> None:
    assert violations("cognate.store", (*ABOVE_CORE, *WEB)) == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_protocol_packages_never_import_each_other(protocol: str) -> None:
    others = tuple(p for p in PROTOCOLS if p != protocol)
    assert violations(protocol, (*others, "cognate.app", "cognate.cli")) == []


def test_the_real_invoker_knows_no_door_and_no_store() -> None:
    """cognate.lambdas runs handlers for the core (through its Invoker protocol), nothing more."""
    forbidden = (*PROTOCOLS, "cognate.app", "cognate.cli", "cognate.store", *WEB)
    assert violations("cognate.lambdas", forbidden) == []


def test_protocols_reach_storage_through_the_core() -> None:
    """The doors hold no SQL: they call the core, which calls the store."""
    assert [v for p in PROTOCOLS for v in violations(p, ("cognate.store", "sqlalchemy"))] == []


def store_reaches(source: str) -> Iterator[int]:
    """Lines where code reaches a ``.store`` attribute (``core.store.x``, ``core.users.store``)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "store":
            yield node.lineno


def test_the_store_reader_sees_attribute_chains() -> None:
    source = """
async def f(core):
    await core.store.get(1)
    x = core.auth.users.store
    core.pools.get(2)
"""
    assert sorted(store_reaches(source)) == [3, 4]


def test_doors_never_reach_the_store_through_the_core() -> None:
    """No ``core.store`` in a door: imports are not the only way in (issue 6)."""
    found = [
        f"{path.relative_to(SRC.parent)}:{line}"
        for p in PROTOCOLS
        for path in modules_under(p)
        for line in store_reaches(path.read_text())
    ]
    assert found == []


def test_only_the_commands_import_the_composition_root() -> None:
    below = (
        "cognate.core",
        "cognate.crypto",
        "cognate.store",
        "cognate.errors",
        "cognate.config",
        *PROTOCOLS,
    )
    assert [v for p in below for v in violations(p, ("cognate.app", "cognate.cli", "cognate.keys_cli"))] == []


def test_no_module_is_named_after_the_standard_library() -> None:
    """docs/architecture.md: never ``token.py``, ``secrets.py``, ..."""
    import sys

    clashes = [
        str(p.relative_to(SRC.parent))
        for p in SRC.rglob("*.py")
        if p.stem in sys.stdlib_module_names and p.stem != "__init__"
    ]
    assert clashes == []


def test_core_reaches_storage_through_the_protocols() -> None:
    """The core depends on ``cognate.store.base`` alone, never on a concrete store module."""
    found = []
    for path in modules_under("cognate.core"):
        for line, name in imports(path):
            if within(name, ("cognate.store",)) and not within(name, ("cognate.store.base",)):
                found.append(f"{path.relative_to(SRC.parent)}:{line} imports {name}")
    assert found == []
