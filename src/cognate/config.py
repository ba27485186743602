"""Settings: command-line flags > ``COGNATE_*`` environment > defaults, in one frozen object.

This is the only module that reads ``os.environ``. ``OPTIONS`` is the option table
of docs/configuration.md and of ``cognate serve --help``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Option:
    """One setting: its flag (None: environment only), variable, default as shown, and meaning."""

    name: str
    env: str
    default: str
    help: str
    flag: str | None = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None


def _o(name: str, default: str, help: str, *, flag: bool = True, **kw: Any) -> Option:
    env = "COGNATE_" + name.upper()
    return Option(name, env, default, help, ("--" + name.replace("_", "-")) if flag else None, **kw)


# The options of ``cognate serve`` (docs/configuration.md is this table, in words).
OPTIONS: tuple[Option, ...] = (
    _o("host", "127.0.0.1", "address to listen on (0.0.0.0 for every interface)"),
    _o("port", "9229", "port to listen on", metavar="PORT"),
    _o(
        "data_dir",
        "./.cognate",
        "folder of the SQLite file, the generated secrets and the outbox",
        metavar="DIR",
    ),
    _o(
        "database_url",
        "sqlite:///<data-dir>/cognate.db",
        "where the state lives: sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB",
        metavar="URL",
    ),
    _o(
        "database_wait",
        "30",
        "seconds to keep retrying a database that refuses connections or whose host does not resolve "
        "(a PostgreSQL starting beside Cognate); 0 tries once",
        metavar="SECONDS",
    ),
    _o(
        "database_pool_size",
        "16",
        "most connections each worker process opens to PostgreSQL (half of them stay open while idle)",
        metavar="N",
    ),
    _o(
        "sqlite_cache_mib",
        "2",
        "SQLite only: MiB of database pages each connection keeps in memory (up to five a worker); "
        "raise it for pools of hundreds of thousands of users",
        metavar="MIB",
    ),
    _o(
        "public_url",
        "http://<host>:<port>",
        "base of the issuer and of every link (localhost for a wildcard host; https with TLS)",
        metavar="URL",
    ),
    _o(
        "issuer_style",
        "local",
        "local: issuer {public-url}/{pool}; aws: Cognito's https://cognito-idp.{region}.amazonaws.com/{pool}",
        choices=("local", "aws"),
    ),
    _o(
        "tls_cert",
        "none (plain HTTP)",
        "PEM certificate (chain); with --tls-key, serve HTTPS",
        metavar="FILE",
    ),
    _o("tls_key", "none (plain HTTP)", "PEM private key of --tls-cert", metavar="FILE"),
    _o("region", "us-east-1", "region of the pool ids and of Cognito-style issuers", metavar="REGION"),
    _o(
        "seed",
        "none",
        "JSON file of pools, clients and users to create at start (idempotent)",
        metavar="FILE",
    ),
    _o("functions", "none", "JSON file mapping Lambda function names or ARNs to handlers", metavar="FILE"),
    _o("workers", "1", "worker processes sharing one store", metavar="N"),
    _o(
        "smtp_url",
        "none (email goes to <data-dir>/outbox.jsonl)",
        "smtp:// or smtps://[USER:PASSWORD@]HOST[:PORT] to send email",
        metavar="URL",
    ),
    _o(
        "log_level",
        "info",
        "lowest level logged (info logs one line per request)",
        choices=("critical", "error", "warning", "info", "debug"),
    ),
    _o(
        "log_format",
        "text",
        "text for people, json for machines (one object per line)",
        choices=("text", "json"),
    ),
    _o(
        "access_key_id",
        "generated into <data-dir>/credentials.json",
        "the admin key id that signs IAM-authorised operations (with COGNATE_SECRET_ACCESS_KEY)",
        flag=False,
    ),
    _o("secret_access_key", "generated", "the secret of the admin key pair", flag=False),
    _o(
        "previous_access_key_id",
        "none",
        "during an admin key rotation: the previous key id, still accepted until "
        "COGNATE_PREVIOUS_ACCESS_KEY_EXPIRES (with COGNATE_PREVIOUS_SECRET_ACCESS_KEY)",
        flag=False,
    ),
    _o("previous_secret_access_key", "none", "the secret of the previous admin key pair", flag=False),
    _o(
        "previous_access_key_expires",
        "none (required with a previous pair)",
        "when the previous admin key pair stops being accepted: ISO 8601 time with a zone "
        "(2026-01-31T12:00:00Z) or epoch seconds",
        flag=False,
    ),
    _o(
        "read_timeout",
        "30",
        "seconds a request (line, headers and body) may take to arrive; slower connections are closed (408)",
        metavar="SECONDS",
    ),
    _o(
        "trusted_proxies",
        "none (the peer's address is the client's)",
        "comma-separated addresses or networks of your reverse proxies, whose X-Forwarded-For is believed",
        metavar="LIST",
    ),
    _o(
        "metrics_token",
        "none (/metrics is off)",
        "bearer token a Prometheus scraper sends to read /metrics (prefer the variable: a flag shows in ps)",
        metavar="TOKEN",
    ),
    _o(
        "metrics_port",
        "none (/metrics on the main port, behind --metrics-token)",
        "serve /metrics on this port of --host instead, plain HTTP (with --metrics-token, behind it too)",
        metavar="PORT",
    ),
    _o(
        "auth_event_retention_days",
        "90",
        "days a user's sign-in events (AdminListUserAuthEvents) are kept before the purge removes them",
        metavar="DAYS",
    ),
    _o(
        "audit_retention_days",
        "365",
        "days the audit log of administrative changes is kept (cognate audit) before the purge removes it",
        metavar="DAYS",
    ),
    _o(
        "master_key",
        "generated into <data-dir>/master.key",
        "base64 key that seals signing keys, client secrets, TOTP secrets and SRP verifiers at rest; "
        "same on every node",
        flag=False,
    ),
    _o(
        "accepted_master_keys",
        "none",
        "comma-separated master keys that still open what they sealed but never seal: "
        "the previous key during a master-key rotation (see docs/operations.md)",
        flag=False,
    ),
)

_ENV = {o.name: o.env for o in OPTIONS}
# Test-only: "low" lowers argon2's cost so test suites run fast. Never a default, never a flag.
_ENV["password_hash_cost"] = "COGNATE_TEST_PASSWORD_HASH_COST"
# Test-only: shortens Cognito's 5-second wait for a trigger. Never a default, never a flag.
_ENV["lambda_timeout_ms"] = "COGNATE_TEST_LAMBDA_TIMEOUT_MS"

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
    accepted_master_keys: str | None = None
    previous_access_key_id: str | None = None
    previous_secret_access_key: str | None = None
    previous_access_key_expires: str | None = None
    # Test-only: "low" lowers argon2's cost so test suites run fast. Never a default.
    password_hash_cost: str = "default"
    # Test-only: shortens Cognito's 5-second wait for a trigger. Never a default.
    lambda_timeout_ms: int = 5000
    log_level: str = "info"
    log_format: str = "text"
    database_wait: float = 30.0
    # PostgreSQL: the most connections one worker process opens (half kept while idle).
    database_pool_size: int = 16
    # SQLite: MiB of pages each connection caches (SQLite's own default is 2).
    sqlite_cache_mib: int = 2
    # Seconds a request (line, headers, body) may take to arrive; slower ones are cut off.
    read_timeout: float = 30.0
    # Comma-separated addresses or networks (CIDR) of the reverse proxies whose
    # X-Forwarded-For is believed; from anyone else, the peer's address is the source.
    trusted_proxies: str | None = None
    # Bearer token of GET /metrics; None: no token asked.
    metrics_token: str | None = None
    # A port of its own for /metrics; None: on the main port (and only with a token).
    metrics_port: int | None = None
    auth_event_retention_days: int = 90
    audit_retention_days: int = 365

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
    def metrics(self) -> bool:
        """Whether /metrics is served at all (a token, a port of its own, or both)."""
        return self.metrics_token is not None or self.metrics_port is not None

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
        if not (0 < self.lambda_timeout_ms <= 5000):
            raise ConfigError("COGNATE_TEST_LAMBDA_TIMEOUT_MS must be between 1 and 5000")
        if self.log_format not in ("text", "json"):
            raise ConfigError("--log-format must be 'text' or 'json'")
        if self.log_level not in ("critical", "error", "warning", "info", "debug"):
            raise ConfigError("--log-level must be one of critical, error, warning, info, debug")
        if not 0 <= self.database_wait <= 3600:
            raise ConfigError("--database-wait must be between 0 and 3600 seconds")
        if not (2 <= self.database_pool_size <= 1000):
            raise ConfigError("--database-pool-size must be between 2 and 1000")
        if not (1 <= self.sqlite_cache_mib <= 4096):
            raise ConfigError("--sqlite-cache-mib must be between 1 and 4096")
        if not (0 < self.port < 65536):
            raise ConfigError("--port must be between 1 and 65535")
        if not (0 < self.read_timeout <= 3600):
            raise ConfigError("--read-timeout must be more than 0 and at most 3600 seconds")
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise ConfigError("--metrics-token must be at least 16 characters")
        if self.metrics_port is not None:
            if not (0 < self.metrics_port < 65536):
                raise ConfigError("--metrics-port must be between 1 and 65535")
            if self.metrics_port == self.port:
                raise ConfigError("--metrics-port must differ from --port")
        for name in ("auth_event_retention_days", "audit_retention_days"):
            if not (1 <= getattr(self, name) <= 36500):
                raise ConfigError(f"--{name.replace('_', '-')} must be between 1 and 36500 days")
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
    if name in (
        "port",
        "workers",
        "lambda_timeout_ms",
        "metrics_port",
        "auth_event_retention_days",
        "audit_retention_days",
        "database_pool_size",
        "sqlite_cache_mib",
    ):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{_ENV[name]} must be an integer, not {raw!r}") from exc
    if name in ("database_wait", "read_timeout"):
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


def child_environment(extra: Mapping[str, str], *, drop_cognate: bool = True) -> dict[str, str]:
    """This process's environment (without its ``COGNATE_*`` variables) plus ``extra``: for a child."""
    env = {k: v for k, v in os.environ.items() if not (drop_cognate and k.startswith("COGNATE_"))}
    env.update(extra)
    return env


def export(settings: Settings) -> None:
    """Hand the settings to worker processes through their environment."""
    os.environ.update(settings.to_env())


# prometheus-client's multiprocess mode (metrics.py): read by the library when it is imported.
METRICS_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_multiprocess_dir() -> str | None:
    """The folder where this server's workers share their metrics, if any."""
    return os.environ.get(METRICS_MULTIPROC_ENV) or None


def set_metrics_multiprocess_dir(path: Path) -> None:
    """Have this process's workers (and prometheus-client, once imported) share metrics in ``path``."""
    os.environ[METRICS_MULTIPROC_ENV] = str(path)
