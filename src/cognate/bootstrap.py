"""First start: the data dir, the database file's mode, the master key and the admin key pair.

Both secrets are generated once into the data dir (mode 0600) unless given by
``COGNATE_MASTER_KEY`` / ``COGNATE_ACCESS_KEY_ID`` + ``COGNATE_SECRET_ACCESS_KEY``;
later starts reuse them. Files are created with ``O_EXCL`` so two starting processes
never write two different keys.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cognate.config import ConfigError, Settings
from cognate.crypto.sealing import Sealer, new_master_key

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


def _sqlite_path(database_url: str) -> Path | None:
    if not database_url.startswith("sqlite:///"):
        return None
    path = database_url[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def secure_database_files(database_url: str) -> None:
    """Make the SQLite file (and its WAL and shared-memory files) readable by the owner only.

    The file is created here, mode 0600, before SQLite opens it: SQLite gives the
    ``-wal`` and ``-shm`` files it creates later the mode of the database file. Files
    that already exist (made by an earlier version, or copied in) are set to 0600.
    """
    path = _sqlite_path(database_url)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if name.exists():
            os.chmod(name, 0o600)


def ensure(settings: Settings) -> Secrets:
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    secure_database_files(settings.database_url)
    master = settings.master_key
    source = "COGNATE_MASTER_KEY"
    if not master:
        path = data_dir / MASTER_KEY_FILE
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
        generated = _create_exclusive(path, json.dumps(_new_credentials()))
        try:
            doc = json.loads(path.read_text())
            key_id, secret = str(doc["AccessKeyId"]), str(doc["SecretAccessKey"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path} is damaged ({type(exc).__name__}): restore it, or remove it to get a new key pair"
            ) from None
    return Secrets(master, key_id, secret, generated)
