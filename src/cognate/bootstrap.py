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
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cognate.config import ConfigError, Settings
from cognate.crypto.sealing import Sealer, SealError, new_master_key

MASTER_KEY_FILE = "master.key"
CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class Secrets:
    master_key: str
    access_key_id: str
    secret_access_key: str
    generated_credentials: bool


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


def _new_credentials() -> dict[str, str]:
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


def _secrets(settings: Settings, data_dir: Path, create: bool) -> Secrets:
    master = settings.master_key
    source = "COGNATE_MASTER_KEY"
    if not master:
        path = data_dir / MASTER_KEY_FILE
        if not create and not path.exists():
            raise ConfigError(
                f"no master key in {data_dir} ({MASTER_KEY_FILE}): is it the server's data dir?"
            )
        _create_exclusive(path, new_master_key())
        master = path.read_text().strip()
        source = str(path)
    try:
        Sealer(master)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    generated = False
    if settings.access_key_id and settings.secret_access_key:
        key_id, secret = settings.access_key_id, settings.secret_access_key
    elif settings.access_key_id or settings.secret_access_key:
        raise ConfigError("COGNATE_ACCESS_KEY_ID and COGNATE_SECRET_ACCESS_KEY go together")
    else:
        path = data_dir / CREDENTIALS_FILE
        if not create and not path.exists():
            return Secrets(master, "", "", False)  # not needed by the commands that do not create
        generated = _create_exclusive(path, json.dumps(_new_credentials()))
        try:
            doc = json.loads(path.read_text())
            key_id, secret = str(doc["AccessKeyId"]), str(doc["SecretAccessKey"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path} is damaged ({type(exc).__name__}): restore it, or remove it to get a new key pair"
            ) from None
    return Secrets(master, key_id, secret, generated)


def check_master_key(master_key: str, sealed: str, purpose: str, what: str) -> None:
    """Refuse to start with a master key that does not open ``sealed`` (``what`` names it).

    Several nodes (and the commands) on one database must share one master key; a node
    given another would fail on the first signature or client secret it needs.
    """
    try:
        Sealer(master_key).unseal(sealed, purpose)
    except SealError:
        raise ConfigError(
            f"the master key does not open {what} in the database: every node and command using "
            "one database needs the same master key (COGNATE_MASTER_KEY, or <data-dir>/master.key)"
        ) from None
