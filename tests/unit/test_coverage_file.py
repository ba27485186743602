"""IMPLEMENTATION_COVERAGE.md is what ``scripts/coverage`` makes of today's registry."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import botocore
import pytest

from cognate.awsjson.registry import load_all

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "IMPLEMENTATION_COVERAGE.md"
STALE = "IMPLEMENTATION_COVERAGE.md is out of date: run scripts/coverage and commit the file"


def load_script() -> ModuleType:
    path = ROOT / "scripts" / "coverage"
    loader = importlib.machinery.SourceFileLoader("cognate_scripts_coverage", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def implemented_in_file(text: str) -> set[str]:
    section = text.split("## Implemented", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| (\w+) \|", section, flags=re.MULTILINE)) - {"Operation"}


def test_the_file_lists_exactly_the_registered_operations() -> None:
    """Holds whatever botocore is installed: the registry is ours."""
    assert implemented_in_file(FILE.read_text()) == set(load_all()), STALE


def test_the_file_is_up_to_date() -> None:
    text = FILE.read_text()
    made_with = re.search(r"botocore (\d+\.\d+\.\d+)", text)
    assert made_with is not None
    if made_with.group(1) != botocore.__version__:
        pytest.skip(
            f"the file was made with botocore {made_with.group(1)}, this is {botocore.__version__}: "
            "the model differs, so only the implemented list is compared"
        )
    assert load_script().render() == text, STALE


def test_the_script_counts_what_it_lists() -> None:
    text = load_script().render()
    done = int(re.search(r"## Implemented \((\d+)\)", text).group(1))  # type: ignore[union-attr]
    todo = int(re.search(r"## Not implemented \((\d+)\)", text).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"\*\*\d+ of (\d+) operations", text).group(1))  # type: ignore[union-attr]
    assert done == len(implemented_in_file(text))
    assert done + todo == total
