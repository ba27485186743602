"""The store: SQLite (default) and PostgreSQL behind one SQLAlchemy Core implementation.

``Store`` is the repositories put together over one ``Database`` (engine.py), each
in the module named for what it keeps: pools.py (pools, clients, resource servers,
domains), users.py (users, their attribute index and unique aliases, groups),
imports.py (user import jobs and their files, the bulk insert of imported users),
tokens.py (refresh tokens, signing keys), ttl.py (codes and sessions that expire),
attempts.py (failed sign-in counters), events.py (sign-in history, audit log). It
implements every Protocol of base.py; cached.py adds the short-lived read caches the server uses.
"""

from __future__ import annotations

from cognate.store.attempts import AttemptRows
from cognate.store.dump import DumpRows
from cognate.store.engine import PURGE_LOCK, async_url, db_file
from cognate.store.events import EventRows
from cognate.store.imports import BulkUserRows, ImportRows
from cognate.store.pools import PoolRows
from cognate.store.tokens import TokenRows
from cognate.store.ttl import TtlRows

__all__ = ["Store", "async_url", "db_file"]


class Store(PoolRows, BulkUserRows, ImportRows, TokenRows, TtlRows, AttemptRows, EventRows, DumpRows):
    """All persistence. Every public method is one transaction, or part of the one given as ``tx=``."""

    async def purge_expired(self, now: float | None = None) -> int:
        """Remove what has expired: codes and sessions, refresh tokens, idle lockout counters,
        signing keys retired long enough ago that nothing they signed is still valid, sign-in
        events and audit entries past their retention, the CSV files of import jobs that will
        never read them.
        ``now``: the core's clock (default: the store's). On PostgreSQL one process purges at
        a time (every process tries each minute): two at once could only deadlock."""
        now = self._now() if now is None else now
        async with self.write() as conn:
            if not await self._first_to_lock(conn, PURGE_LOCK):
                return 0  # another process (worker or node) is purging right now
            return (
                await self._purge_ttl(conn, now)
                + await self._purge_refresh_tokens(conn, now)
                + await self._purge_attempts(conn, now)
                + await self._purge_signing_keys(conn, now)
                + await self._purge_import_files(conn, now)
                + await self._purge_events(conn, now)
            )
