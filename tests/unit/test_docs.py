"""The documents hold the promises other files rely on: the README's two commands, CI running them."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START = "pip install -e . && cognate serve"
TEST = "pip install -e '.[test]' && pytest"


def code_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)]


def test_readme_opens_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert code_blocks(text)[:2] == [START, TEST]
    before = text.split("```", 1)[0]
    assert before.strip() == "# Cognate"  # nothing comes before them but the title


def test_ci_runs_the_readmes_test_command_with_postgres() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST in ci.splitlines()
    assert "set -euo pipefail" in ci
    assert "export COGNATE_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test" in ci
    assert "scripts/check" in ci.splitlines()


def test_scripts_are_executable() -> None:
    for path in (
        ROOT / ".ci" / "run",
        ROOT / "scripts" / "check",
        ROOT / "scripts" / "test",
        ROOT / "scripts" / "coverage",
    ):
        assert os.access(path, os.X_OK), path


def test_documents_exist_and_link() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("IMPLEMENTATION_COVERAGE.md", "CONTRIBUTING.md", "SECURITY.md", "CHANGELOG.md"):
        assert (ROOT / name).is_file(), name
        assert f"({name})" in readme, name
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    assert "keepachangelog.com" in changelog
