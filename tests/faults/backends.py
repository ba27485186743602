"""The databases the fault tests run on: SQLite in the data dir, or a PostgreSQL database of their own."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.postgres import NO_POSTGRES, POSTGRES_URL, fresh_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def backend(kind: str, data: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(database URL, environment a server needs to use it)."""
    if kind == "sqlite":
        yield f"sqlite:///{data / 'cognate.db'}", {}
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with fresh_database("cognate_faults") as url:
        yield url, {"COGNATE_DATABASE_URL": url}


def wait_until(ready: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``ready`` until it holds; the seconds it took. Fails after ``timeout``."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start
