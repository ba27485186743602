"""functions.py: the functions file is checked at start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cognate import functions
from cognate.config import ConfigError


def write(tmp_path: Path, doc: object) -> str:
    path = tmp_path / "functions.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_accepts_python_and_http_handlers(tmp_path: Path) -> None:
    doc = {
        "preSignUp": "python:myapp.triggers:pre_sign_up",
        "arn:aws:lambda:us-east-1:000000000000:function:define": "http://127.0.0.1:8080/define",
    }
    assert functions.load(write(tmp_path, doc)) == doc


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"f": 3},
        {"f": "python:module"},
        {"f": "python:1bad.module:fn"},
        {"f": "ftp://example.com/x"},
        {"f": "lambda"},
    ],
)
def test_refuses_bad_files(tmp_path: Path, doc: object) -> None:
    with pytest.raises(ConfigError):
        functions.load(write(tmp_path, doc))


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        functions.load(str(tmp_path / "missing.json"))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="cannot read"):
        functions.load(str(tmp_path / "broken.json"))
