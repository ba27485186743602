"""The admin key pairs that sign IAM-authorised operations (SigV4), and their rotation.

A server accepts the current pair and, during a rotation, the previous one until it
expires; after that the previous pair is refused like any unknown key. They come from:

- ``COGNATE_ACCESS_KEY_ID`` / ``COGNATE_SECRET_ACCESS_KEY``, and for a rotation
  ``COGNATE_PREVIOUS_ACCESS_KEY_ID`` / ``COGNATE_PREVIOUS_SECRET_ACCESS_KEY`` /
  ``COGNATE_PREVIOUS_ACCESS_KEY_EXPIRES``: fixed for the life of the process;
- or ``<data-dir>/credentials.json`` (``{"AccessKeyId", "SecretAccessKey", "Previous":
  {"AccessKeyId", "SecretAccessKey", "Expires": epoch seconds}}``), which a server reads
  again when it changes (looked at no more than once a second): ``cognate
  rotate-admin-key`` rewrites it, and running servers take both pairs without a restart.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cognate.config import ConfigError, Settings

log = logging.getLogger("cognate")

RECHECK_S = 1.0
DEFAULT_GRACE_S = 86400


@dataclass(frozen=True)
class Pair:
    key_id: str
    secret: str
    expires: float | None = None  # None: the current pair, which never expires


def parse_expiry(raw: str, source: str) -> float:
    """Epoch seconds, or an ISO 8601 time that names its zone (``2026-01-31T12:00:00Z``)."""
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{source}: {raw!r} is neither an ISO 8601 time nor epoch seconds") from None
    if when.tzinfo is None:
        raise ConfigError(f"{source}: {raw!r} names no time zone (add Z for UTC)")
    return when.timestamp()


def pairs_of_document(doc: Any, source: str) -> tuple[Pair, ...]:
    """The pairs of a credentials file (current first); ConfigError when it is damaged."""
    try:
        pairs = [Pair(str(doc["AccessKeyId"]), str(doc["SecretAccessKey"]))]
        previous = doc.get("Previous")
        if previous is not None:
            expires = float(previous["Expires"])
            pairs.append(Pair(str(previous["AccessKeyId"]), str(previous["SecretAccessKey"]), expires))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{source} is damaged ({type(exc).__name__}): restore it, or remove it to get a new key pair"
        ) from None
    return tuple(pairs)


def previous_from_settings(settings: Settings) -> Pair | None:
    """The previous pair given by the environment, checked."""
    given = (
        settings.previous_access_key_id,
        settings.previous_secret_access_key,
        settings.previous_access_key_expires,
    )
    if not any(given):
        return None
    if not all(given):
        raise ConfigError(
            "COGNATE_PREVIOUS_ACCESS_KEY_ID, COGNATE_PREVIOUS_SECRET_ACCESS_KEY and "
            "COGNATE_PREVIOUS_ACCESS_KEY_EXPIRES go together"
        )
    if not (settings.access_key_id and settings.secret_access_key):
        raise ConfigError("a previous admin key pair needs the current one in COGNATE_ACCESS_KEY_ID")
    expires = parse_expiry(str(settings.previous_access_key_expires), "COGNATE_PREVIOUS_ACCESS_KEY_EXPIRES")
    return Pair(str(settings.previous_access_key_id), str(settings.previous_secret_access_key), expires)


class AdminKeys:
    """``lookup(key_id)``: the secret of a pair accepted now, or None (SigV4's lookup)."""

    def __init__(
        self, pairs: tuple[Pair, ...], path: Path | None = None, now: Callable[[], float] = time.time
    ) -> None:
        self._pairs = pairs
        self._path = path
        self._now = now
        self._seen = self._stamp() if path else None
        self._checked = time.monotonic()

    def _stamp(self) -> tuple[int, int, int] | None:
        assert self._path is not None
        try:
            st = os.stat(self._path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _refresh(self) -> None:
        if self._path is None or time.monotonic() - self._checked < RECHECK_S:
            return
        self._checked = time.monotonic()
        stamp = self._stamp()
        if stamp is None or stamp == self._seen:
            return
        try:
            self._pairs = pairs_of_document(json.loads(self._path.read_text()), str(self._path))
        except (OSError, ValueError) as exc:  # half-written by hand: keep the pairs we have
            log.warning("cannot read %s (%s): the admin key pairs stay as they were", self._path, exc)
            return
        self._seen = stamp
        log.info("admin key pairs read again from %s", self._path)

    def lookup(self, key_id: str) -> str | None:
        self._refresh()
        now = self._now()
        found = None
        for pair in self._pairs:
            if hmac.compare_digest(key_id.encode(), pair.key_id.encode()) and (
                pair.expires is None or now < pair.expires
            ):
                found = pair.secret
        return found


def write_credentials(path: Path, doc: dict[str, Any]) -> None:
    """Replace the credentials file at once (a reader sees the old file or the new, mode 0600)."""
    replace_file(path, json.dumps(doc))


def replace_file(path: Path, text: str) -> None:
    """Replace a secret file at once: written beside it (mode 0600), synced, renamed over it."""
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)
