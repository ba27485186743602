"""Statements of the hot paths, compiled once and run by the driver itself (SQLite and PostgreSQL).

SQLAlchemy's execution path (events, execution context, result set-up; on PostgreSQL a
greenlet switch per round trip as well) costs several times what the database takes to
run one of the small statements of a sign-in or a ListUsers page. A statement marked by
``prepared()`` is compiled once by SQLAlchemy itself, for the backend's dialect (same SQL
text, same type conversions both ways), and then run by ``sqlite3`` or asyncpg directly
(engine.py's ``LoopConnection``, pg.py's ``PgConnection``). A statement not marked, or
one that does not compile to plain positional parameters, keeps SQLAlchemy's path.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

# Statements marked by ``prepared()``, by id.
PREPARED: dict[int, Any] = {}


def prepared(statement: Any) -> Any:
    """Mark a statement built once (with bound parameters only) to run straight through the
    driver (see above)."""
    PREPARED[id(statement)] = statement
    return statement


def marked(statement: Any, parameters: Any) -> bool:
    """Whether ``statement`` (run with ``parameters``) may take the driver's path."""
    return id(statement) in PREPARED and (parameters is None or isinstance(parameters, dict))


class Rows:
    """What the store reads of a result: ``first``, ``one``, ``all``, iteration, ``rowcount``."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise (sa.exc.NoResultFound if not self._rows else sa.exc.MultipleResultsFound)(
                f"expected one row, got {len(self._rows)}"
            )
        return self._rows[0]

    def all(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class Compiled:
    """A marked statement compiled for one dialect: its SQL, how to bind, its result columns.

    Raises ValueError for a statement that does not compile to plain positional parameters."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None or "POSTCOMPILE" in compiled.string:
            raise ValueError("not a plain positional statement")
        self.sql: str = compiled.string
        processors = compiled._bind_processors
        self.binds = [(name, compiled.binds[name], processors.get(name)) for name in compiled.positiontup]
        self.columns = compiled._result_columns or []
        self.row: Any = namedtuple("Row", [c.keyname for c in self.columns]) if self.columns else None

    def values(self, parameters: dict[str, Any] | None) -> list[Any]:
        """The positional values, as SQLAlchemy would bind them."""
        given = parameters or {}
        values = []
        for name, bind, process in self.binds:
            value = given[name] if name in given else (bind.callable() if bind.callable else bind.value)
            values.append(process(value) if process is not None else value)
        return values

    def rows(self, raw: Any, readers: list[Any]) -> list[Any]:
        """The driver's rows as SQLAlchemy's would read them (named, each value converted)."""
        if self.row is None:
            return []
        make = self.row._make
        return [
            make([r(v) if r is not None else v for r, v in zip(readers, row, strict=True)]) for row in raw
        ]


class SqliteStatement(Compiled):
    """A marked statement run by ``sqlite3`` on the connection's driver."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        super().__init__(statement, dialect)
        self.readers = [c.type._cached_result_processor(dialect, None) for c in self.columns]

    def run(self, conn: sa.Connection, parameters: dict[str, Any] | None) -> Rows:
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            cursor = driver.execute(self.sql, self.values(parameters))
        except sqlite3.Error as exc:  # as SQLAlchemy would raise it
            raise sa.exc.DBAPIError.instance(self.sql, parameters, exc, sqlite3.Error) from exc
        return Rows(self.rows(cursor.fetchall(), self.readers), cursor.rowcount)
