"""config.py: flags > COGNATE_* environment > defaults, and the defaults that derive from others."""

from __future__ import annotations

from pathlib import Path

import pytest

from cognate import config
from cognate.config import ConfigError, Settings, load


def test_defaults() -> None:
    s = load({}, {})
    assert s.host == "127.0.0.1"
    assert s.port == 9229
    assert s.data_dir == Path("./.cognate").absolute()
    assert s.data_dir.is_absolute()
    assert s.database_url == f"sqlite:///{Path('./.cognate').absolute() / 'cognate.db'}"
    assert s.public_url == "http://127.0.0.1:9229"
    assert s.issuer_style == "local"
    assert s.region == "us-east-1"
    assert s.workers == 1
    assert s.tls is False
    assert (s.seed, s.functions, s.smtp_url, s.tls_cert, s.tls_key) == (None,) * 5
    assert (s.access_key_id, s.secret_access_key, s.master_key) == (None, None, None)
    assert s.password_hash_cost == "default"


# Every option of the contract's table, as a flag name and its environment variable.
OPTIONS = [
    ("host", "COGNATE_HOST", "10.0.0.5"),
    ("port", "COGNATE_PORT", "8000"),
    ("data_dir", "COGNATE_DATA_DIR", "/tmp/cognate-data"),
    ("database_url", "COGNATE_DATABASE_URL", "postgresql://u@db:5432/cognate"),
    ("public_url", "COGNATE_PUBLIC_URL", "https://id.example.com"),
    ("issuer_style", "COGNATE_ISSUER_STYLE", "aws"),
    ("region", "COGNATE_REGION", "eu-west-1"),
    ("seed", "COGNATE_SEED", "/tmp/seed.json"),
    ("functions", "COGNATE_FUNCTIONS", "/tmp/functions.json"),
    ("workers", "COGNATE_WORKERS", "4"),
    ("database_pool_size", "COGNATE_DATABASE_POOL_SIZE", "24"),
    ("sqlite_cache_mib", "COGNATE_SQLITE_CACHE_MIB", "16"),
    ("smtp_url", "COGNATE_SMTP_URL", "smtp://user:pw@mail:25"),
    ("access_key_id", "COGNATE_ACCESS_KEY_ID", "AKIAEXAMPLE"),
    ("secret_access_key", "COGNATE_SECRET_ACCESS_KEY", "secret"),
    ("master_key", "COGNATE_MASTER_KEY", "bWFzdGVy"),
]


def _typed(name: str, raw: str) -> object:
    if name in ("port", "workers", "database_pool_size", "sqlite_cache_mib"):
        return int(raw)
    if name == "data_dir":
        return Path(raw)
    return raw


@pytest.mark.parametrize(("name", "var", "raw"), OPTIONS)
def test_every_option_has_an_environment_variable(name: str, var: str, raw: str) -> None:
    assert getattr(load({}, {var: raw}), name) == _typed(name, raw)


@pytest.mark.parametrize(("name", "var", "raw"), OPTIONS)
def test_flags_win_over_the_environment(name: str, var: str, raw: str) -> None:
    other = {
        "port": "8001",
        "workers": "2",
        "issuer_style": "local",
        "database_pool_size": "32",
        "sqlite_cache_mib": "8",
    }.get(name, raw + "-flag")
    if name == "data_dir":
        other = "/tmp/flag-data"
    if name == "database_url":
        other = "sqlite:////tmp/flag.db"
    got = load({name: other}, {var: raw})
    assert getattr(got, name) == _typed(name, other)


def test_flags_of_none_fall_through_to_the_environment() -> None:
    got = load({"port": None, "host": None}, {"COGNATE_PORT": "8123"})
    assert got.port == 8123
    assert got.host == "127.0.0.1"


def test_typed_flags_are_taken_as_given() -> None:
    assert load({"port": 8124, "workers": 3}, {}).port == 8124


def test_empty_environment_values_are_ignored() -> None:
    assert load({}, {"COGNATE_PORT": "", "COGNATE_HOST": ""}) == load({}, {})


def test_tls_files() -> None:
    s = load({"tls_cert": "/c.pem", "tls_key": "/k.pem"}, {})
    assert s.tls
    assert s.public_url == "https://127.0.0.1:9229"
    env = load({}, {"COGNATE_TLS_CERT": "/c.pem", "COGNATE_TLS_KEY": "/k.pem", "COGNATE_PORT": "8443"})
    assert env.public_url == "https://127.0.0.1:8443"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]"])
def test_wildcard_host_gives_a_localhost_public_url(host: str) -> None:
    assert load({"host": host, "port": 9000}, {}).public_url == "http://localhost:9000"


def test_public_url_from_host() -> None:
    assert load({"host": "10.1.2.3"}, {}).public_url == "http://10.1.2.3:9229"
    assert load({"host": "::1"}, {}).public_url == "http://[::1]:9229"
    assert load({"host": "id.local", "port": 80}, {}).public_url == "http://id.local:80"


def test_explicit_public_url_wins_and_loses_its_trailing_slash() -> None:
    s = load({"host": "0.0.0.0", "public_url": "https://id.example.com/"}, {})
    assert s.public_url == "https://id.example.com"


def test_database_url_default_follows_data_dir(tmp_path: Path) -> None:
    s = load({"data_dir": str(tmp_path / "d")}, {})
    assert s.data_dir == tmp_path / "d"
    assert s.database_url == f"sqlite:///{tmp_path / 'd' / 'cognate.db'}"
    explicit = load({"data_dir": str(tmp_path), "database_url": "postgres://db/x"}, {})
    assert explicit.database_url == "postgres://db/x"


def test_relative_data_dir_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load({"data_dir": "rel"}, {}).data_dir == tmp_path / "rel"


@pytest.mark.parametrize(
    ("flags", "env", "mentions"),
    [
        ({}, {"COGNATE_PORT": "http"}, "COGNATE_PORT"),
        ({}, {"COGNATE_WORKERS": "many"}, "COGNATE_WORKERS"),
        ({"port": "abc"}, {}, "integer"),
        ({"port": 0}, {}, "port"),
        ({"port": 65536}, {}, "port"),
        ({"workers": 0}, {}, "workers"),
        ({}, {"COGNATE_WORKERS": "-1"}, "workers"),
        ({"issuer_style": "google"}, {}, "issuer-style"),
        ({"tls_cert": "/c.pem"}, {}, "tls"),
        ({}, {"COGNATE_TLS_KEY": "/k.pem"}, "tls"),
        ({"database_url": "mysql://db/x"}, {}, "database-url"),
        ({"database_url": "sqlite://relative.db"}, {}, "database-url"),
        ({}, {"COGNATE_DATABASE_POOL_SIZE": "lots"}, "COGNATE_DATABASE_POOL_SIZE"),
        ({"database_pool_size": 1}, {}, "database-pool-size"),
    ],
)
def test_bad_values_are_config_errors(flags: dict[str, object], env: dict[str, str], mentions: str) -> None:
    with pytest.raises(ConfigError, match=mentions):
        load(flags, env)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_settings_are_frozen() -> None:
    s = load({}, {})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_to_env_round_trips() -> None:
    s = load(
        {
            "host": "0.0.0.0",
            "port": 9000,
            "workers": 3,
            "tls_cert": "/c",
            "tls_key": "/k",
            "region": "eu-west-1",
        },
        {"COGNATE_MASTER_KEY": "k", "COGNATE_SEED": "/seed.json"},
    )
    env = s.to_env()
    assert all(k.startswith("COGNATE_") for k in env)
    assert "COGNATE_SMTP_URL" not in env  # None is not exported
    assert load({}, env) == s


def test_export_sets_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load({"port": 9300}, {})
    for var in config._ENV.values():
        monkeypatch.setenv(var, "")  # recorded, so the test's exports are undone afterwards
        monkeypatch.delenv(var)
    config.export(s)
    assert load() == s


def test_load_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNATE_REGION", "ap-south-1")
    assert load().region == "ap-south-1"


def test_only_config_reads_the_environment() -> None:
    """docs/architecture.md: ``os.environ`` is read in config.py alone."""
    src = Path(config.__file__).parent
    readers = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if p.name != "config.py" and ("os.environ" in p.read_text() or "getenv" in p.read_text())
    ]
    assert readers == []


def test_resolved_is_idempotent() -> None:
    s = load({"host": "0.0.0.0"}, {})
    assert s.resolved() == s
    assert Settings().resolved() == load({}, {})


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="--metrics-token must be at least 16 characters"):
        load({}, {"COGNATE_METRICS_TOKEN": "short"})
    assert load({}, {"COGNATE_METRICS_TOKEN": "x" * 16}).metrics_token == "x" * 16
    assert load({}, {}).metrics_token is None


def test_metrics_port_and_retentions() -> None:
    got = load(
        {"metrics_port": "9230"},
        {"COGNATE_AUTH_EVENT_RETENTION_DAYS": "30", "COGNATE_AUDIT_RETENTION_DAYS": "730"},
    )
    assert (got.metrics_port, got.auth_event_retention_days, got.audit_retention_days) == (9230, 30, 730)
    assert got.metrics and not load({}, {}).metrics
    assert load({}, {"COGNATE_METRICS_PORT": "9231"}).metrics_port == 9231
    defaults = load({}, {})
    assert (defaults.metrics_port, defaults.auth_event_retention_days, defaults.audit_retention_days) == (
        None,
        90,
        365,
    )
    with pytest.raises(ConfigError, match="--metrics-port must differ from --port"):
        load({"metrics_port": "9229"}, {})
    with pytest.raises(ConfigError, match="--metrics-port must be between 1 and 65535"):
        load({"metrics_port": "70000"}, {})
    with pytest.raises(ConfigError, match="COGNATE_METRICS_PORT must be an integer"):
        load({}, {"COGNATE_METRICS_PORT": "ninety"})
    with pytest.raises(ConfigError, match="--auth-event-retention-days must be between 1 and 36500 days"):
        load({"auth_event_retention_days": "0"}, {})
    with pytest.raises(ConfigError, match="--audit-retention-days must be between 1 and 36500 days"):
        load({}, {"COGNATE_AUDIT_RETENTION_DAYS": "-1"})
