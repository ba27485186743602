"""First start: the data dir, the master key and the admin access key pair.

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


def ensure(settings: Settings) -> Secrets:
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
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
