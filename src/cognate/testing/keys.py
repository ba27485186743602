"""Signing keys made ahead for test servers: a fresh pool costs no RSA key generation.

A new pool needs two RSA-2048 key pairs (ID and access tokens), about 0.1 s each to
generate, far more than the rest of making a pool, a client and a signed-in user. A
test server therefore takes its keys from a reserve: keys kept in a cache file (mode
0600) by earlier test sessions, then keys generated ahead by a child process
(``python -m cognate.testing.keys N``: key generation holds the interpreter lock, so a
thread would stall the server), and only as a last resort keys generated on the spot.
At the end of a session the keys it saw are written back, so the next session starts
with as many as this one needed.

The keys sign tokens of a throw-away test server only (each test session starts on an
empty temporary database, so reusing them across sessions exposes nothing). This
module is never used by ``cognate serve``.
"""

from __future__ import annotations

import collections
import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

MAX_CACHED = 512
SEPARATOR = "# ---"
BATCH = 8
WAIT_FOR_CHILD_S = 3.0


_original: Callable[[], str] | None = None  # the real generator while a reserve stands in for it


def _generate() -> str:
    from cognate.crypto import signing

    return (_original or signing.generate_private_pem)()


class KeyReserve:
    """``take()`` hands out each key once per process; ``save()`` keeps them for the next session."""

    def __init__(self, cache: Path | None, spare: int = 4) -> None:
        self.cache = cache
        self.spare = spare
        self._ready: collections.deque[str] = collections.deque(self._load())
        self._used: list[str] = []
        self._cond = threading.Condition()
        self._child: subprocess.Popen[str] | None = None
        self._in_flight = 0
        self._closed = False
        self.generated_on_the_spot = 0
        with self._cond:
            self._top_up()

    def _load(self) -> list[str]:
        if self.cache is None:
            return []
        try:
            text = self.cache.read_text()
        except OSError:
            return []
        return [k.strip() + "\n" for k in text.split(SEPARATOR) if "PRIVATE KEY" in k][:MAX_CACHED]

    @property
    def cached(self) -> int:
        return len(self._ready)

    def take(self) -> str:
        key: str | None = None
        with self._cond:
            if not self._ready and self._in_flight:
                self._cond.wait_for(lambda: bool(self._ready) or not self._in_flight, WAIT_FOR_CHILD_S)
            if self._ready:
                key = self._ready.popleft()
            self._top_up()
        if key is None:
            key = _generate()
            self.generated_on_the_spot += 1
        with self._cond:
            self._used.append(key)
        return key

    def _top_up(self) -> None:
        """Start a child making keys when the reserve runs low (called holding the condition)."""
        if self._closed or self._child is not None or len(self._ready) >= self.spare:
            return
        try:
            child = subprocess.Popen(  # noqa: S603 - this interpreter, this module
                [sys.executable, "-m", "cognate.testing.keys", str(BATCH)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            return  # keys are then made on the spot
        self._child = child
        self._in_flight = BATCH
        threading.Thread(target=self._read, args=(child,), name="cognate-keys", daemon=True).start()

    def _read(self, child: subprocess.Popen[str]) -> None:
        assert child.stdout is not None
        lines: list[str] = []
        for line in child.stdout:
            if line.strip() == SEPARATOR:
                with self._cond:
                    self._ready.append("".join(lines))
                    self._in_flight -= 1
                    self._cond.notify_all()
                lines = []
            else:
                lines.append(line)
        child.wait()
        with self._cond:
            self._child = None
            self._in_flight = 0
            self._cond.notify_all()
            if child.returncode == 0:
                self._top_up()

    def save(self) -> None:
        """Keep every key seen (used first) for the next session; stop the child."""
        with self._cond:
            self._closed = True
            child, self._child = self._child, None
            keys = (self._used + list(self._ready))[:MAX_CACHED]
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        if self.cache is None or not keys:
            return
        with contextlib.suppress(OSError):
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache.with_name(f".{self.cache.name}.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write("".join(f"{k.strip()}\n{SEPARATOR}\n" for k in keys))
            os.replace(tmp, self.cache)


@contextlib.contextmanager
def installed(reserve: KeyReserve) -> Iterator[KeyReserve]:
    """Make this process's key generation draw from ``reserve`` (then put things back and save)."""
    global _original
    from cognate.crypto import signing

    previous: Callable[[], str] = signing.generate_private_pem
    if _original is None:
        _original = previous
    signing.generate_private_pem = reserve.take
    try:
        yield reserve
    finally:
        signing.generate_private_pem = previous
        if previous is _original:
            _original = None
        reserve.save()


def default_cache() -> Path:
    return Path.home() / ".cache" / "cognate" / "test-signing-keys.pem"


def main(count: int) -> None:
    """Print ``count`` new private keys (PEM), each followed by a separator line."""
    for _ in range(count):
        sys.stdout.write(f"{_generate().strip()}\n{SEPARATOR}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        main(int(sys.argv[1]))
