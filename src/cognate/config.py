"""Settings: command-line flags > ``COGNATE_*`` environment > defaults, in one frozen object.

This is the only module that reads ``os.environ``. The contract's option table
(CONTRACT.md, "Install and start") is implemented here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

# (field, env var, default) -- the contract's table.
_ENV = {
    "host": "COGNATE_HOST",
    "port": "COGNATE_PORT",
    "data_dir": "COGNATE_DATA_DIR",
    "database_url": "COGNATE_DATABASE_URL",
    "public_url": "COGNATE_PUBLIC_URL",
    "issuer_style": "COGNATE_ISSUER_STYLE",
    "tls_cert": "COGNATE_TLS_CERT",
    "tls_key": "COGNATE_TLS_KEY",
    "region": "COGNATE_REGION",
    "seed": "COGNATE_SEED",
    "functions": "COGNATE_FUNCTIONS",
    "workers": "COGNATE_WORKERS",
    "smtp_url": "COGNATE_SMTP_URL",
    "access_key_id": "COGNATE_ACCESS_KEY_ID",
    "secret_access_key": "COGNATE_SECRET_ACCESS_KEY",
    "master_key": "COGNATE_MASTER_KEY",
    "password_hash_cost": "COGNATE_TEST_PASSWORD_HASH_COST",
    "log_level": "COGNATE_LOG_LEVEL",
    "read_timeout": "COGNATE_READ_TIMEOUT",
    "trusted_proxies": "COGNATE_TRUSTED_PROXIES",
}

WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}  # noqa: S104 - we only compare against it


class ConfigError(ValueError):
    """A setting has a value Cognate cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 9229
    data_dir: Path = Path("./.cognate")
    database_url: str = ""
    public_url: str = ""
    issuer_style: str = "local"
    tls_cert: str | None = None
    tls_key: str | None = None
    region: str = "us-east-1"
    seed: str | None = None
    functions: str | None = None
    workers: int = 1
    smtp_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    master_key: str | None = None
    # Test-only: "low" lowers argon2's cost so test suites run fast. Never a default.
    password_hash_cost: str = "default"
    log_level: str = "info"
    # Seconds a request (line, headers, body) may take to arrive; slower ones are cut off.
    read_timeout: float = 30.0
    # Comma-separated addresses or networks (CIDR) of the reverse proxies whose
    # X-Forwarded-For is believed; from anyone else, the peer's address is the source.
    trusted_proxies: str | None = None

    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The trusted proxies as networks (``--trusted-proxies``)."""
        if not self.trusted_proxies:
            return ()
        out = []
        for item in self.trusted_proxies.split(","):
            if item.strip():
                try:
                    out.append(ip_network(item.strip(), strict=False))
                except ValueError:
                    raise ConfigError(
                        f"--trusted-proxies: {item.strip()!r} is not an IP address or network"
                    ) from None
        return tuple(out)

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert and self.tls_key)

    def resolved(self) -> Settings:
        """Fill the defaults that depend on other settings and check values."""
        if self.issuer_style not in ("local", "aws"):
            raise ConfigError("--issuer-style must be 'local' or 'aws'")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("--tls-cert and --tls-key go together")
        if self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if not (0 < self.port < 65536):
            raise ConfigError("--port must be between 1 and 65535")
        if not (0 < self.read_timeout <= 3600):
            raise ConfigError("--read-timeout must be more than 0 and at most 3600 seconds")
        self.trusted_networks()  # refuses what is not an address or a network
        data_dir = Path(self.data_dir).expanduser().absolute()
        db = self.database_url or f"sqlite:///{data_dir / 'cognate.db'}"
        if not db.startswith(("sqlite:///", "postgresql://", "postgres://", "postgresql+asyncpg://")):
            raise ConfigError("--database-url must be sqlite:///PATH or postgresql://...")
        public = self.public_url
        if not public:
            host = "localhost" if self.host in WILDCARD_HOSTS else self.host
            if ":" in host and not host.startswith("["):
                host = f"[{host}]"
            public = f"{'https' if self.tls else 'http'}://{host}:{self.port}"
        return replace(self, data_dir=data_dir, database_url=db, public_url=public.rstrip("/"))

    def to_env(self) -> dict[str, str]:
        """The settings as ``COGNATE_*`` variables, for worker processes."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[_ENV[f.name]] = str(value)
        return out


def _coerce(name: str, raw: str) -> object:
    if name in ("port", "workers"):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{_ENV[name]} must be an integer, not {raw!r}") from exc
    if name == "read_timeout":
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"{_ENV[name]} must be a number of seconds, not {raw!r}") from exc
    if name == "data_dir":
        return Path(raw)
    return raw


def load(flags: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings: flags win over the environment, which wins over defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, var in _ENV.items():
        if var in env and env[var] != "":
            values[name] = _coerce(name, env[var])
    for name, value in (flags or {}).items():
        if value is not None:
            values[name] = _coerce(name, value) if isinstance(value, str) else value
    return Settings(**values).resolved()  # type: ignore[arg-type]


def export(settings: Settings) -> None:
    """Hand the settings to worker processes through their environment."""
    os.environ.update(settings.to_env())
