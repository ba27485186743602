"""``cognate backup DEST``: a consistent copy of a live SQLite database.

The copy is made with SQLite's online backup API (https://www.sqlite.org/backup.html)
in one step: it reads one snapshot of the database inside a read transaction, so a
server writing meanwhile (WAL mode lets it) is neither stopped nor copied half-way.
The copy is written beside DEST, checked (``PRAGMA integrity_check``), made mode 0600,
then renamed into place: DEST is whole or absent. An existing DEST is never overwritten.

The sealed secrets in the copy (signing keys, client secrets, SRP verifiers) open only
with the installation's master key: keep ``<data-dir>/master.key`` (or
``COGNATE_MASTER_KEY``) with the backup, apart from it. PostgreSQL is backed up with
its own tools (``pg_dump``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from cognate import config
from cognate.store.engine import db_file


def backup(settings: config.Settings, dest: str) -> int:
    source = db_file(settings.database_url)
    if source is None:
        raise config.ConfigError("cognate backup copies a SQLite database; back PostgreSQL up with pg_dump")
    if not Path(source).is_file():
        raise config.ConfigError(
            f"no Cognate database at {source}: give the server's --data-dir or --database-url"
        )
    target = Path(dest).expanduser().absolute()
    if target.exists():
        raise config.ConfigError(f"{target} exists: cognate backup never overwrites a file")
    if not target.parent.is_dir():
        raise config.ConfigError(f"{target.parent} is not a folder")
    if target == Path(source).absolute():
        raise config.ConfigError("the backup cannot be the database itself")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        _copy(source, partial)
        os.link(partial, target)  # fails if DEST appeared meanwhile: never overwrite
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    print(f"Backed up {source} to {target} ({target.stat().st_size} bytes)")
    return 0


def _copy(source: str, partial: Path) -> None:
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # every page in one step: one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # a single file, whatever the source's mode
            (result,) = dst.execute("PRAGMA integrity_check").fetchone()
            if result != "ok":
                raise RuntimeError(f"the copy failed its integrity check: {result}")
        finally:
            dst.close()
    finally:
        src.close()
