"""Every third-party module the package imports comes from a declared runtime dependency.

``pip install -e . && cognate serve`` must work on a fresh machine, where only
``[project] dependencies`` are installed: a module that is merely present here
(installed for the tests, or by hand) would break it there.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

import cognate

SRC = Path(cognate.__file__).parent
ROOT = SRC.parents[1]


TESTING = SRC / "testing"  # cognate.testing: what the ``testing`` extra installs may be imported too


def third_party_imports(*, testing: bool = False) -> dict[str, str]:
    """Top-level module -> first file importing it, for every non-stdlib import in src/cognate."""
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.is_relative_to(TESTING) != testing:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top != "cognate" and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    return [Requirement(r) for r in wanted]


def installed_by(roots: list[Requirement]) -> set[str]:
    """The distributions ``pip install`` of ``roots`` brings, extras and markers respected."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonical(r.name), frozenset(r.extras)) for r in roots]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            reqs = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in reqs:
            req = Requirement(text)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            if wanted:
                todo.append((canonical(req.name), frozenset(req.extras)))
    return {name for name, _ in seen}


def test_every_imported_module_is_a_declared_dependency() -> None:
    providers = importlib.metadata.packages_distributions()
    installable = installed_by(declared())
    missing = {
        module: where
        for module, where in third_party_imports().items()
        if not {canonical(d) for d in providers.get(module, [module])} & installable
    }
    assert missing == {}, f"imported but not in [project] dependencies: {missing}"


def test_cognate_testing_imports_only_what_its_extra_declares() -> None:
    providers = importlib.metadata.packages_distributions()
    installable = installed_by(declared("testing"))
    missing = {
        module: where
        for module, where in third_party_imports(testing=True).items()
        if not {canonical(d) for d in providers.get(module, [module])} & installable
    }
    assert missing == {}, f"imported but not in [project] dependencies or the testing extra: {missing}"
