"""``cognate export DEST`` and ``cognate import SOURCE``: a whole installation as a file.

The file is JSON Lines (UTF-8, one JSON object per line; gzip-compressed when its name
ends in ``.gz``), written and read as a stream, so no installation is held in memory:

1. a header: ``{"format": "cognate-export", "version": 1, "schema": <migration revision>,
   "cognate": <version>, "exported_at": <ISO 8601>, "master_keys": [<key ids>],
   "tables": {<table>: [<column>, ...], ...}}``;
2. one line per row: ``{"table": <table>, "row": {<column>: <value>, ...}}``, the tables
   in a fixed order and each table's rows in byte order of their primary key; binary
   columns as base64 text;
3. a trailer: ``{"end": true, "rows": {<table>: <count>, ...}}``: a file without it is
   truncated and is refused.

Every table the store keeps is in it (docs/operations.md lists them), taken from one
snapshot of a live database. Values are as stored: password hashes (argon2id), refresh
tokens and codes as digests, and every secret sealed under the master key (signing keys,
client secrets, TOTP secrets, SRP verifiers) -- sealed, never in the clear. The master key
and the admin key pair are not in the database and not in the file: the target must be
given the same master key (``master_keys`` names the keys by id, never the keys). The
file is still sensitive (hashes can be attacked offline): it is created with mode 0600.

An import goes into an empty database of the same schema revision, in one transaction:
all rows or none.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import io
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from cognate import __version__, bootstrap, config
from cognate.crypto.sealing import Sealer
from cognate.keys_cli import operator
from cognate.store.dump import BY_NAME, TABLES, binary_columns, columns
from cognate.store.engine import db_file, head_revision
from cognate.store.sql import Store

audit_log = logging.getLogger("cognate.audit")

FORMAT = "cognate-export"
VERSION = 1


class DumpError(config.ConfigError):
    """The file, or the database it goes into, cannot be used."""


def _key_ids(settings: config.Settings) -> tuple[str, ...]:
    master, accepted = bootstrap.master_keys(settings, Path(settings.data_dir), create=False)
    return Sealer(master, accepted).key_ids


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def encode_bytes(row: dict[str, Any], binary: list[str]) -> dict[str, Any]:
    """``row`` with its ``binary`` columns as base64 text."""
    for column in binary:
        if row[column] is not None:
            row[column] = base64.b64encode(row[column]).decode("ascii")
    return row


def decode_bytes(row: dict[str, Any], binary: list[str]) -> dict[str, Any]:
    """The reverse of ``encode_bytes``; ValueError or TypeError for what is not base64."""
    for column in binary:
        if row[column] is not None:
            row[column] = base64.b64decode(row[column], validate=True)
    return row


# --- export ---------------------------------------------------------------------------


def export(settings: config.Settings, dest: str) -> int:
    source = db_file(settings.database_url)
    if source is not None and not Path(source).is_file():
        raise DumpError(f"no Cognate database at {source}: give the server's --data-dir or --database-url")
    key_ids = _key_ids(settings)
    target = Path(dest).expanduser().absolute()
    if target.exists():
        raise DumpError(f"{target} exists: cognate export never overwrites a file")
    if not target.parent.is_dir():
        raise DumpError(f"{target.parent} is not a folder")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with _writer(fd, target.name.endswith(".gz")) as out:
            counts = asyncio.run(_export(settings, key_ids, out))
        os.link(partial, target)  # fails if DEST appeared meanwhile: never overwrite
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    total = sum(counts.values())
    print(f"Exported {total} rows of {len(counts)} tables to {target} (mode 0600: it holds password hashes)")
    return 0


@contextlib.contextmanager
def _writer(fd: int, compress: bool) -> Iterator[IO[str]]:
    with os.fdopen(fd, "wb") as raw:
        gz = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if compress else None
        text = io.TextIOWrapper(cast(IO[bytes], gz or raw), encoding="utf-8", newline="\n")
        yield text
        text.flush()
        text.detach()  # leaves the file open
        if gz is not None:
            gz.close()  # the gzip trailer; the file stays open
        raw.flush()
        os.fsync(raw.fileno())


async def _export(settings: config.Settings, key_ids: tuple[str, ...], out: IO[str]) -> dict[str, int]:
    store = Store(settings.database_url)
    try:
        await _check_schema(store)
        unlisted = await store.unlisted_tables()
        if unlisted:
            raise DumpError(f"the database has tables this Cognate does not know: {', '.join(unlisted)}")
        out.write(
            _line(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "schema": head_revision(),
                    "cognate": __version__,
                    "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "master_keys": list(key_ids),
                    "tables": {table.name: columns(table) for table in TABLES},
                }
            )
        )
        counts = {table.name: 0 for table in TABLES}
        binary = {table.name: binary_columns(table) for table in TABLES}
        async for name, row in store.dump():
            out.write(_line({"table": name, "row": encode_bytes(row, binary[name])}))
            counts[name] += 1
        out.write(_line({"end": True, "rows": counts}))
        return counts
    finally:
        await store.close()


async def _check_schema(store: Store) -> None:
    found = await store.schema_version()
    if found != head_revision():
        raise DumpError(
            f"the database is at schema revision {found}, this Cognate at {head_revision()}: "
            "start this version's `cognate serve` on it once (it migrates), then export"
        )


# --- import ---------------------------------------------------------------------------


def import_(settings: config.Settings, source: str) -> int:
    path = Path(source).expanduser()
    if not path.is_file():
        raise DumpError(f"{path} is not a file")
    key_ids = _key_ids(settings)
    with _reader(path) as lines:
        header = _header(lines, path)
        missing = [k for k in header["master_keys"] if k not in key_ids]
        if missing:
            raise DumpError(
                f"{path} holds secrets sealed under master key id(s) {', '.join(missing)}, which this "
                f"installation does not have (its keys: {', '.join(key_ids)}): give it the exported "
                "installation's master key (COGNATE_MASTER_KEY, <data-dir>/master.key, or "
                "COGNATE_ACCEPTED_MASTER_KEYS)"
            )
        bootstrap.secure_database_files(settings.database_url)
        counts = asyncio.run(_import(settings, header, lines, path))
    total = sum(counts.values())
    print(f"Imported {total} rows of {len(counts)} tables from {path} into {_where(settings)}")
    return 0


def _where(settings: config.Settings) -> str:
    return db_file(settings.database_url) or settings.database_url.split("@")[-1]


@contextlib.contextmanager
def _reader(path: Path) -> Iterator[Iterator[str]]:
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        binary = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw)
        with binary, io.TextIOWrapper(binary, encoding="utf-8", newline="\n") as text:
            yield iter(text)


def _parse(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise DumpError(f"{path}, line {number}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise DumpError(f"{path}, line {number}: not a JSON object")
    return obj


def _header(lines: Iterator[str], path: Path) -> dict[str, Any]:
    try:
        first = next(lines)
    except (StopIteration, UnicodeDecodeError, OSError, EOFError):
        raise DumpError(f"{path} is empty or not a Cognate export") from None
    header = _parse(first, path, 1)
    if header.get("format") != FORMAT:
        raise DumpError(f"{path} is not a Cognate export (no {FORMAT!r} header)")
    if header.get("version") != VERSION:
        raise DumpError(f"{path} is format version {header.get('version')}; this Cognate reads {VERSION}")
    if header.get("schema") != head_revision():
        raise DumpError(
            f"{path} was exported at schema revision {header.get('schema')} (Cognate "
            f"{header.get('cognate')}), this Cognate is at {head_revision()}: import it with the version "
            "that exported it, then upgrade"
        )
    expected = {table.name: columns(table) for table in TABLES}
    if header.get("tables") != expected:
        raise DumpError(f"{path}: its tables and columns are not this Cognate's")
    if not isinstance(header.get("master_keys"), list):
        raise DumpError(f"{path}: the header names no master keys")
    return header


async def _import(
    settings: config.Settings, header: dict[str, Any], lines: Iterator[str], path: Path
) -> dict[str, int]:
    store = Store(settings.database_url)
    try:
        await store.migrate()
        unlisted = await store.unlisted_tables()
        nonempty = await store.nonempty_tables()
        if unlisted or nonempty:
            raise DumpError(
                f"the target database is not empty ({', '.join(unlisted + nonempty)} hold rows): "
                "cognate import only fills a new installation; give it an empty database"
            )
        counts = await store.load(_records(header, lines, path))
        # To the audit logger only: the imported database stays the exported one, row for row.
        audit_log.info(
            "import", extra={"fields": {"actor": operator(), "operation": "import", "source": path.name}}
        )
        return {name: n for name, n in counts.items() if n}
    finally:
        await store.close()


async def _records(
    header: dict[str, Any], lines: Iterator[str], path: Path
) -> AsyncIterator[tuple[str, Any]]:
    tables = header["tables"]
    counts = dict.fromkeys(tables, 0)
    binary = {table.name: binary_columns(table) for table in TABLES}
    number = 1
    for number, line in enumerate(lines, start=2):
        obj = _parse(line, path, number)
        if obj.get("end") is True:
            if obj.get("rows") != counts:
                raise DumpError(f"{path}: the trailer counts {obj.get('rows')}, the file holds {counts}")
            if next(lines, None) is not None:
                raise DumpError(f"{path}, line {number + 1}: data after the trailer")
            return
        name, row = obj.get("table"), obj.get("row")
        if name not in BY_NAME or not isinstance(row, dict) or list(row) != tables[name]:
            raise DumpError(f"{path}, line {number}: not a row of a known table with its columns")
        counts[name] += 1
        try:
            decoded = decode_bytes(row, binary[name])
        except (TypeError, ValueError):
            raise DumpError(f"{path}, line {number}: a binary column is not base64") from None
        yield name, decoded
    raise DumpError(f"{path} ends at line {number} without its trailer: truncated")
