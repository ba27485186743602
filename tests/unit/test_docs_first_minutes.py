"""The repository carries its own documentation (docs/), in step with the code: every option
with its default and variable, the README's links, and the container files' promises."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cognate import config

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("configuration.md", "api.md", "seed-file.md", "messages.md", "triggers.md", "testing.md", "docker.md")


def tracked_text_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    paths = [ROOT / p for p in out.splitlines()]
    return [
        p for p in paths if p.is_file() and p.suffix in {".md", ".py", ".toml", ".yaml", ".cfg", ".txt", ""}
    ]


OUTSIDE = "../" + "shared"  # spelt in two pieces so this file does not name it


def test_nothing_points_outside_the_repository() -> None:
    offenders = [
        str(p.relative_to(ROOT)) for p in tracked_text_files() if OUTSIDE in p.read_text(errors="replace")
    ]
    assert offenders == []


@pytest.mark.parametrize("name", DOCS)
def test_every_doc_exists_and_the_readme_links_it(name: str) -> None:
    assert (ROOT / "docs" / name).is_file()
    assert f"(docs/{name})" in (ROOT / "README.md").read_text()


def test_relative_links_of_the_docs_resolve() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text()):
            if "://" in target:
                continue
            assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)} links to {target}"


@pytest.mark.parametrize("option", config.OPTIONS, ids=lambda o: o.name)
def test_configuration_doc_lists_every_option_with_its_default(option: config.Option) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("|") and f"`{option.env}`" in line]
    assert rows, option.env
    row = rows[0]
    if option.flag:
        assert f"`{option.flag}`" in row
    default = option.default.split(" (")[0]
    if not default.startswith(("generated", "none")):
        assert f"`{default}`" in row, (option.name, row)


def test_dockerfile_runs_the_package_as_a_user_with_a_data_volume() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^VOLUME \[\"/data\"\]", dockerfile, re.MULTILINE)
    assert "pip install ." in dockerfile and "COGNATE_DATA_DIR=/data" in dockerfile
    compose = (ROOT / "compose.yaml").read_text()
    assert "image: postgres:" in compose and "COGNATE_DATABASE_URL: postgresql://" in compose
    ci = (ROOT / ".ci" / "run").read_text()
    assert "if docker info >/dev/null 2>&1; then\n  scripts/docker-smoke" in ci
    assert "Untested here" in (ROOT / "docs" / "docker.md").read_text()
