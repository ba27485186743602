"""First start: the data dir, the master key and the admin access key pair, the database file's
mode; the database's wait.

Both secrets are generated once into the data dir (mode 0600) unless given by
``COGNATE_MASTER_KEY`` / ``COGNATE_ACCESS_KEY_ID`` + ``COGNATE_SECRET_ACCESS_KEY``;
later starts reuse them. Files are created with ``O_EXCL`` so two starting processes
never write two different keys. The data dir is made with mode 0700 when Cognate
creates it; a folder that already existed keeps its mode. Commands that work on an
existing installation (``cognate keys rotate``) never create one.

Every failure here is a ``ConfigError`` whose text says what is wrong and what to do:
``cognate`` prints it as one line and exits non-zero.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
import time
from dataclasses import dataclass
from pathlib import Path

from cognate.admin_keys import AdminKeys, Pair, pairs_of_document, previous_from_settings
from cognate.config import ConfigError, Settings
from cognate.crypto.sealing import Sealer, SealError, new_master_key

log = logging.getLogger("cognate")

MASTER_KEY_FILE = "master.key"
CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class Secrets:
    master_key: str
    access_key_id: str
    secret_access_key: str
    generated_credentials: bool
    # Keys that open what they sealed but never seal (a master-key rotation).
    accepted_master_keys: tuple[str, ...] = ()
    # Every admin pair accepted (current first); the credentials file they come from, if any.
    admin_pairs: tuple[Pair, ...] = ()
    credentials_file: Path | None = None

    def admin_keys(self) -> AdminKeys:
        return AdminKeys(self.admin_pairs, self.credentials_file)


def _create_exclusive(path: Path, content: str) -> bool:
    """Write ``content`` to a new file with mode 0600; False if the file already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    return True


def new_credentials() -> dict[str, str]:
    upper = string.ascii_uppercase + "234567"
    alnum = string.ascii_letters + string.digits + "+/"
    return {
        "AccessKeyId": "AKIA" + "".join(secrets.choice(upper) for _ in range(16)),
        "SecretAccessKey": "".join(secrets.choice(alnum) for _ in range(40)),
    }


def check_data_dir(data_dir: Path) -> None:
    """Raise ConfigError unless ``data_dir`` is, or can be made as, a writable folder (nothing is created)."""
    path = data_dir
    while not path.exists():
        if path.is_symlink():
            raise ConfigError(f"data dir {data_dir}: {path} is a broken symbolic link")
        if path.parent == path:
            break
        path = path.parent
    if not path.is_dir():
        where = "is" if path == data_dir else f"cannot be created: {path} is"
        raise ConfigError(
            f"data dir {data_dir} {where} a file, not a folder: give another --data-dir (or COGNATE_DATA_DIR)"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        what = "is not writable" if path == data_dir else f"cannot be created: {path} is not writable"
        raise ConfigError(
            f"data dir {data_dir} {what} by this user (uid {os.getuid()}): "
            "give a folder you can write to with --data-dir (or COGNATE_DATA_DIR)"
        )


def _make_data_dir(data_dir: Path, create: bool) -> None:
    if data_dir.is_dir():
        return
    if not create:
        raise ConfigError(
            f"no Cognate installation in {data_dir} (no such folder): give the server's --data-dir "
            "(or COGNATE_DATA_DIR), or run the command from the folder where `cognate serve` runs"
        )
    check_data_dir(data_dir)
    try:
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(mode=0o700)
        os.chmod(data_dir, 0o700)  # ours: mkdir's mode was narrowed by the umask, never widened
    except FileExistsError:
        if not data_dir.is_dir():
            raise ConfigError(f"data dir {data_dir} is a file, not a folder") from None
    except OSError as exc:
        raise ConfigError(f"cannot create the data dir {data_dir}: {exc.strerror or exc}") from None


def _sqlite_path(database_url: str) -> Path | None:
    if not database_url.startswith("sqlite:///"):
        return None
    path = database_url[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def secure_database_files(database_url: str, *, create: bool = True) -> None:
    """Make the SQLite file (and its WAL and shared-memory files) readable by the owner only.

    The file is created here (``create``), mode 0600, before SQLite opens it: SQLite
    gives the ``-wal`` and ``-shm`` files it creates later the mode of the database
    file. Files that already exist (made by an earlier version, or copied in) are set
    to 0600.
    """
    path = _sqlite_path(database_url)
    if path is None:
        return
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if name.exists():
            os.chmod(name, 0o600)


def ensure(settings: Settings, *, create: bool = True) -> Secrets:
    """The secrets, made at the first start; ``create=False`` refuses to start a new installation."""
    data_dir = Path(settings.data_dir)
    _make_data_dir(data_dir, create)
    try:
        secure_database_files(settings.database_url, create=create)
        return _secrets(settings, data_dir, create)
    except OSError as exc:
        raise ConfigError(
            f"cannot use the data dir {data_dir}: {exc.strerror or exc}"
            f"{f' ({exc.filename})' if exc.filename else ''}"
        ) from None


def master_keys(settings: Settings, data_dir: Path, create: bool) -> tuple[str, tuple[str, ...]]:
    """The master key and the accepted ones: ``COGNATE_MASTER_KEY``, or the first line of
    ``<data-dir>/master.key`` (made at the first start); the accepted ones are the file's
    further lines and ``COGNATE_ACCEPTED_MASTER_KEYS``."""
    lines: list[str] = []
    source = "COGNATE_MASTER_KEY"
    path = data_dir / MASTER_KEY_FILE
    if not settings.master_key:
        if not create and not path.exists():
            raise ConfigError(
                f"no master key in {data_dir} ({MASTER_KEY_FILE}): is it the server's data dir?"
            )
        _create_exclusive(path, new_master_key())
        source = str(path)
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        if not lines:
            raise ConfigError(f"{path} is empty: restore the installation's master key")
    master = settings.master_key or lines[0]
    accepted = tuple(lines[1:]) + tuple(
        k.strip() for k in (settings.accepted_master_keys or "").split(",") if k.strip()
    )
    try:
        Sealer(master)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    for key in accepted:
        try:
            Sealer(key)
        except ValueError as exc:
            raise ConfigError(
                f"an accepted master key ({source} or COGNATE_ACCEPTED_MASTER_KEYS): {exc}"
            ) from None
    return master, accepted


def _secrets(settings: Settings, data_dir: Path, create: bool) -> Secrets:
    master, accepted = master_keys(settings, data_dir, create)
    generated = False
    credentials_file = None
    previous = previous_from_settings(settings)
    if settings.access_key_id and settings.secret_access_key:
        pairs = (Pair(settings.access_key_id, settings.secret_access_key),) + (
            (previous,) if previous else ()
        )
    elif settings.access_key_id or settings.secret_access_key:
        raise ConfigError("COGNATE_ACCESS_KEY_ID and COGNATE_SECRET_ACCESS_KEY go together")
    else:
        path = data_dir / CREDENTIALS_FILE
        if not create and not path.exists():
            return Secrets(master, "", "", False, accepted)  # not needed by the commands that do not create
        generated = _create_exclusive(path, json.dumps(new_credentials()))
        try:
            doc = json.loads(path.read_text())
        except ValueError as exc:
            raise ConfigError(
                f"{path} is damaged ({type(exc).__name__}): restore it, or remove it to get a new key pair"
            ) from None
        pairs = pairs_of_document(doc, str(path))
        credentials_file = path
    return Secrets(master, pairs[0].key_id, pairs[0].secret, generated, accepted, pairs, credentials_file)


class KeyFile:
    """``<data-dir>/master.key`` read again when it changes (looked at no more than once a second),
    so a server takes a rotation's key ring without a restart.

    A key that leaves the file stays accepted until the server restarts: a file read half
    written can only add keys or change the master key, never make the server forget a key
    it may still need."""

    RECHECK_S = 1.0

    def __init__(self, settings: Settings, current: tuple[str, tuple[str, ...]]) -> None:
        self._settings = settings
        self._path = Path(settings.data_dir) / MASTER_KEY_FILE
        self._stamp = self._read_stamp()
        self._checked = time.monotonic()
        self._known = [current[0], *current[1]]

    def _read_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def changed(self) -> tuple[str, tuple[str, ...]] | None:
        """The new ring (master key, accepted keys) when the file changed since the last look."""
        if self._settings.master_key or time.monotonic() - self._checked < self.RECHECK_S:
            return None  # COGNATE_MASTER_KEY: fixed for the life of the process
        self._checked = time.monotonic()
        stamp = self._read_stamp()
        if stamp is None or stamp == self._stamp:
            return None
        try:
            master, accepted = master_keys(self._settings, Path(self._settings.data_dir), create=False)
        except (ConfigError, OSError) as exc:
            log.warning("%s changed but cannot be used (%s): the key ring stays as it was", self._path, exc)
            return None
        self._stamp = stamp
        ring = [master, *accepted]
        ring += [key for key in self._known if key not in ring]
        self._known = ring
        return master, tuple(ring[1:])


def check_master_key(secrets: Secrets, sealed: str, purpose: str, what: str) -> None:
    """Refuse to start with master keys that do not open ``sealed`` (``what`` names it): the
    master key, or a key still accepted during a master-key rotation.

    Several nodes (and the commands) on one database must share one master key; a node
    given another would fail on the first signature or client secret it needs.
    """
    try:
        Sealer(secrets.master_key, secrets.accepted_master_keys).unseal(sealed, purpose)
    except SealError:
        raise ConfigError(
            f"the master key does not open {what} in the database: every node and command using "
            "one database needs the same master key (COGNATE_MASTER_KEY, or <data-dir>/master.key)"
        ) from None
