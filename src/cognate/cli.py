"""The ``cognate`` command: ``serve``, ``keys rotate POOL_ID``, ``backup DEST``, ``audit``,
``export DEST``, ``import SOURCE``, ``rotate-master-key`` and ``rotate-admin-key``.

``serve`` checks what it can before it creates anything (options, the seed and
functions files, the port, the data dir, the database), then prepares everything once
in the parent (secrets, migrations, seed), prints the banner and runs uvicorn with N
worker processes on the socket it bound; SIGINT or SIGTERM stops them all. Every
start-up failure is one line on stderr and a non-zero exit status (2: a setting or a
file is wrong; 3: the server could not start).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import signal
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cognate import __version__, bootstrap, config, logs, startup

if TYPE_CHECKING:
    from cognate.store.sql import Store

log = logging.getLogger("cognate")

# Seconds a worker may take to answer the parent's health check (--workers N) before it is replaced.
WORKER_HEALTHCHECK_S = 30
EPILOG = "Every option can also be set by its environment variable; a flag wins over the variable."


def _help(option: config.Option) -> str:
    return f"{option.help} (default: {option.default}; env {option.env})".replace("%", "%%")


def _add(parser: argparse.ArgumentParser, option: config.Option) -> None:
    assert option.flag is not None
    parser.add_argument(option.flag, metavar=option.metavar, choices=option.choices, help=_help(option))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cognate",
        description="A self-hosted identity provider that speaks Amazon Cognito User Pools' API and OpenID "
        "Connect. Run `cognate COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"cognate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="start the server",
        description="Start Cognate (http://127.0.0.1:9229 by default, state in ./.cognate).",
        epilog=EPILOG
        + " Environment only: "
        + "; ".join(f"{o.env}: {o.help} (default: {o.default})" for o in config.OPTIONS if o.flag is None)
        + ".",
    )
    for option in config.OPTIONS:
        if option.flag:
            _add(serve, option)
    keys = sub.add_parser(
        "keys", help="manage signing keys", description="Manage the signing keys of an existing installation."
    )
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="SUBCOMMAND")
    rotate = keys_sub.add_parser(
        "rotate",
        help="add a new signing key pair to a pool",
        description="Add a new signing key pair to a pool of an existing installation "
        "(it never creates one). Running servers sign with it within five seconds; "
        "the old keys stay in the JWKS for a day.",
        epilog=EPILOG + " COGNATE_MASTER_KEY is read too when the server is given one.",
    )
    rotate.add_argument("pool_id", metavar="POOL_ID", help="the pool, such as us-east-1_AbCdEf123")
    by_name = {o.name: o for o in config.OPTIONS}
    for name in ("data_dir", "database_url", "log_format"):
        _add(rotate, by_name[name])
    backup = sub.add_parser(
        "backup",
        help="copy a live SQLite database",
        description="Take a consistent copy of the SQLite database of an installation, "
        "even while a server writes to it (SQLite's online backup). DEST must not exist. "
        "Keep the master key (<data-dir>/master.key or COGNATE_MASTER_KEY) with the backup, apart from it.",
        epilog=EPILOG,
    )
    backup.add_argument("dest", metavar="DEST", help="the file to create, such as backup-2026-01-01.db")
    for name in ("data_dir", "database_url", "log_format"):
        _add(backup, by_name[name])
    audit = sub.add_parser(
        "audit",
        help="print the audit log of administrative changes",
        description="Print the audit log of administrative changes (IAM-signed writes, operator "
        "commands) as JSON lines, oldest first: who (actor), what (operation, target, the names of "
        "the fields set, never their values), when (time), from where (source_ip), and the result.",
        epilog=EPILOG,
    )
    audit.add_argument(
        "--since",
        metavar="WHEN",
        help="only entries from WHEN on: an ISO 8601 date or time (UTC unless it says), or a span back "
        "from now such as 30m, 12h, 7d (default: every entry kept)",
    )
    audit.add_argument("--pool", metavar="POOL_ID", help="only the entries of this pool")
    for name in ("data_dir", "database_url", "log_format"):
        _add(audit, by_name[name])
    _operations(sub, by_name)
    return parser


def _operations(sub: Any, by_name: dict[str, config.Option]) -> None:
    """``export``, ``import``, ``rotate-master-key`` and ``rotate-admin-key`` (docs/operations.md)."""
    export = sub.add_parser(
        "export",
        help="write a whole installation to a file",
        description="Write every pool, client, user (password hashes, SRP verifiers and MFA included), "
        "group, domain, resource server, signing key and live token of an installation to DEST: JSON "
        "Lines, gzip-compressed if DEST ends in .gz, mode 0600, from one snapshot of a live database. "
        "Secrets stay sealed under the master key: the target needs the same master key.",
        epilog=EPILOG + " COGNATE_MASTER_KEY and COGNATE_ACCEPTED_MASTER_KEYS are read too.",
    )
    export.add_argument(
        "dest", metavar="DEST", help="the file to create, such as cognate-2026-01-01.jsonl.gz"
    )
    imp = sub.add_parser(
        "import",
        help="load an export into a new installation",
        description="Load a file made by `cognate export` into an empty database (SQLite or "
        "PostgreSQL), in one transaction: everything or nothing. A database that holds anything is "
        "refused. The installation must have the exported one's master key.",
        epilog=EPILOG + " COGNATE_MASTER_KEY and COGNATE_ACCEPTED_MASTER_KEYS are read too.",
    )
    imp.add_argument("source", metavar="SOURCE", help="the file cognate export wrote")
    master = sub.add_parser(
        "rotate-master-key",
        help="re-seal every secret under the new master key",
        description="Re-seal, while the servers serve, every value sealed under an accepted master key "
        "(COGNATE_ACCEPTED_MASTER_KEYS, or the further lines of <data-dir>/master.key) under the master "
        "key, until none is left. Run it once every server seals with the new key.",
        epilog=EPILOG + " COGNATE_MASTER_KEY and COGNATE_ACCEPTED_MASTER_KEYS are read too.",
    )
    master.add_argument(
        "--new-key",
        action="store_true",
        help="first make a new master key in <data-dir>/master.key, accepted then sealing, "
        "which running servers take without a restart (default: off, re-seal only)",
    )
    admin = sub.add_parser(
        "rotate-admin-key",
        help="make a new admin key pair; the old one stays valid for a grace period",
        description="Write a new admin key pair into <data-dir>/credentials.json and print it; the "
        "previous pair stays valid for --grace seconds, then it is refused. Running servers read the "
        "file again within a second.",
        epilog=EPILOG,
    )
    admin.add_argument(
        "--grace",
        metavar="SECONDS",
        type=float,
        default=86400.0,
        help="how long the previous pair stays valid (default: 86400, a day; 0 refuses it at once)",
    )
    for parser in (export, imp, master, admin):
        for name in ("data_dir", "database_url", "log_format"):
            if parser is not admin or name != "database_url":
                _add(parser, by_name[name])


def _flags(args: argparse.Namespace) -> dict[str, object]:
    return {o.name: getattr(args, o.name, None) for o in config.OPTIONS if o.flag}


async def check_master_key(store: Store, secrets: bootstrap.Secrets) -> None:
    """The master key opens the newest signing key of the database, if it has one."""
    from cognate.core.keys import PURPOSE

    sample = await store.newest_signing_key()
    if sample is not None:
        bootstrap.check_master_key(
            secrets, sample.private_pem_enc, PURPOSE, f"the signing keys of {sample.pool_id}"
        )


async def _prepare(
    settings: config.Settings, secrets: bootstrap.Secrets, seed_doc: dict[str, Any] | None
) -> None:
    from cognate import seed
    from cognate.app import core_config
    from cognate.core.service import Core
    from cognate.store.cached import CachingStore

    store = CachingStore(settings.database_url)
    try:
        async with store.starting():  # nodes starting at once take turns: one seed, applied once
            await store.migrate()
            await check_master_key(store, secrets)
            if seed_doc is not None:
                core = Core(store, core_config(settings, secrets))
                await seed.apply(core, seed_doc)
    finally:
        await store.close()


def _say(message: str) -> None:
    log.info(message)


def _is_postgres(settings: config.Settings) -> bool:
    return not settings.database_url.startswith("sqlite")


def _banner(settings: config.Settings, secrets: bootstrap.Secrets) -> None:
    log.info("Cognate %s listening on %s (data in %s)", __version__, settings.public_url, settings.data_dir)
    if not secrets.generated_credentials:
        return
    where = settings.data_dir / bootstrap.CREDENTIALS_FILE
    if settings.log_format == "json":
        # A machine reads these lines: the secret stays in the file.
        log.info("generated the admin key pair", extra={"fields": {"access_key_id": secrets.access_key_id}})
        return
    print(
        f"\nGenerated the admin key pair (kept in {where}; the secret is shown only now).\n"
        "For boto3 and the AWS CLI, paste:\n\n"
        f"  export AWS_ACCESS_KEY_ID={secrets.access_key_id} "
        f"AWS_SECRET_ACCESS_KEY={secrets.secret_access_key} AWS_DEFAULT_REGION={settings.region}\n\n"
        f"and give them the endpoint: endpoint_url={settings.public_url!r} (boto3), "
        f"--endpoint-url {settings.public_url} (AWS CLI).\n",
        flush=True,
    )


def serve(settings: config.Settings) -> int:
    from cognate import seed

    if settings.functions:
        from cognate import functions

        functions.load(settings.functions)  # checked before anything starts
    startup.check_tls(settings)
    seed_doc = None
    if settings.seed:
        seed_doc = seed.load(settings.seed)  # the whole file, before anything is written
        seed.check_whole(seed_doc, settings.region, settings.seed)
    sock = startup.bind(settings)
    metrics_port = None
    try:
        bootstrap.check_data_dir(settings.data_dir)
        if settings.metrics:  # before prometheus-client is imported: workers share their figures
            from cognate.metrics_files import prepare_multiprocess

            prepare_multiprocess(settings.data_dir)
            metrics_port = _metrics_port(settings)
        if _is_postgres(settings):
            asyncio.run(startup.wait_for_database(settings.database_url, settings.database_wait, _say))
        secrets = bootstrap.ensure(settings)
        asyncio.run(_prepare(settings, secrets, seed_doc))
        config.export(settings)
        _banner(settings, secrets)
        return _run_uvicorn(settings, sock)
    finally:
        sock.close()
        if metrics_port is not None:
            metrics_port.close()


def _metrics_port(settings: config.Settings) -> Any:
    """``--metrics-port``: /metrics served by this process on a port of its own."""
    if settings.metrics_port is None:
        return None
    from cognate.metrics_port import MetricsPort

    try:
        served = MetricsPort(settings.host, settings.metrics_port, settings.metrics_token).start()
    except OSError as exc:
        raise config.ConfigError(
            f"cannot listen on {settings.host}:{settings.metrics_port} (--metrics-port): {exc.strerror}"
        ) from exc
    log.info("metrics on http://%s:%s/metrics", settings.host, settings.metrics_port)
    return served


class _Stopped(Exception):
    """SIGTERM arrived: ``cognate serve`` stops cleanly (exit status 0), as on SIGINT."""


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    # uvicorn catches SIGTERM, shuts down gracefully, then re-raises it with this handler.
    raise _Stopped


def _run_uvicorn(settings: config.Settings, sock: socket.socket) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from cognate.http_deadline import DeadlineProtocol

    uv_config = uvicorn.Config(
        "cognate.app:create_app",
        factory=True,
        http=DeadlineProtocol,  # a request must arrive whole within --read-timeout
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        log_config=logs.config(settings.log_format, settings.log_level),
        log_level=settings.log_level,
        access_log=False,  # logs.RequestLog writes one line per request instead
        timeout_graceful_shutdown=5,
        # With --workers N the parent pings each worker and replaces one that does not answer.
        # A worker busy hashing passwords on a saturated machine answers late, not never:
        # uvicorn's 5 s would kill it with its requests in flight.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        server_header=False,
        ws="none",  # no WebSocket endpoints (and no websockets import at start-up)
        # Cognate builds every link from --public-url; X-Forwarded-For is read by the doors,
        # and only from the proxies of --trusted-proxies (forwarded.py).
        proxy_headers=False,
    )
    server = uvicorn.Server(uv_config)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if settings.workers > 1:
            Multiprocess(uv_config, sockets=[sock]).run()
            return 0
        server.run(sockets=[sock])
    except (_Stopped, KeyboardInterrupt):
        return 0  # SIGTERM, after uvicorn's graceful shutdown: a clean stop, as with Ctrl-C
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not server.started:
        print("cognate: the server could not start (see the lines above)", file=sys.stderr)
        return 3
    return 0


def _failure(message: str, code: int = 2) -> int:
    print(f"cognate: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = config.load(_flags(args))
    except config.ConfigError as exc:
        return _failure(str(exc))
    logging.config.dictConfig(logs.config(settings.log_format, settings.log_level))
    from cognate.seed import SeedError

    try:
        if args.command == "serve":
            return serve(settings)
        if args.command == "keys":
            from cognate.keys_cli import rotate

            return rotate(settings, args.pool_id)
        if args.command == "backup":
            from cognate.backup_cli import backup

            return backup(settings, args.dest)
        if args.command == "audit":
            from cognate.audit_cli import audit

            return audit(settings, args.since, args.pool)
        return _operate(settings, args)
    except (SeedError, config.ConfigError) as exc:
        return _failure(str(exc))
    except Exception as exc:  # one line, not a traceback; the details at debug level
        log.debug("start-up failed", exc_info=True)
        return _failure(f"{_what(exc)} (run with --log-level debug for details)", 3)
    return 2  # pragma: no cover


def _operate(settings: config.Settings, args: argparse.Namespace) -> int:
    if args.command in ("export", "import"):
        from cognate import export_cli

        if args.command == "export":
            return export_cli.export(settings, args.dest)
        return export_cli.import_(settings, args.source)
    from cognate import rotate_cli

    if args.command == "rotate-master-key":
        return rotate_cli.rotate_master_key(settings, new_key=args.new_key)
    return rotate_cli.rotate_admin_key(settings, args.grace)


def _what(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    detail: Any = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    return f"{type(detail).__name__}: {str(detail).splitlines()[0] if str(detail) else text}"


if __name__ == "__main__":
    sys.exit(main())
