"""The ``cognate`` command: ``serve`` and ``keys rotate POOL_ID``.

``serve`` prepares everything once in the parent (data dir, secrets, migrations,
seed), then runs uvicorn with N worker processes; SIGINT or SIGTERM stops them all.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from cognate import __version__, bootstrap, config

log = logging.getLogger("cognate")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cognate", description="A self-hosted Amazon Cognito User Pools.")
    parser.add_argument("--version", action="version", version=f"cognate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir")
    serve.add_argument("--database-url")
    serve.add_argument("--public-url")
    serve.add_argument("--issuer-style", choices=["local", "aws"])
    serve.add_argument("--tls-cert")
    serve.add_argument("--tls-key")
    serve.add_argument("--region")
    serve.add_argument("--seed")
    serve.add_argument("--functions")
    serve.add_argument("--workers", type=int)
    serve.add_argument("--smtp-url")
    serve.add_argument("--read-timeout", type=float, help="seconds a request may take to arrive (30)")
    serve.add_argument(
        "--trusted-proxies",
        help="comma-separated proxy addresses or networks whose X-Forwarded-For is believed",
    )
    serve.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"])
    keys = sub.add_parser("keys", help="manage signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="add a new signing key pair to a pool")
    rotate.add_argument("pool_id")
    rotate.add_argument("--data-dir")
    rotate.add_argument("--database-url")
    return parser


def _flags(args: argparse.Namespace) -> dict[str, object]:
    names = (
        "host",
        "port",
        "data_dir",
        "database_url",
        "public_url",
        "issuer_style",
        "tls_cert",
        "tls_key",
        "region",
        "seed",
        "functions",
        "workers",
        "smtp_url",
        "log_level",
        "read_timeout",
        "trusted_proxies",
    )
    return {n: getattr(args, n, None) for n in names}


async def _prepare(settings: config.Settings, secrets: bootstrap.Secrets) -> None:
    from cognate import seed
    from cognate.app import core_config
    from cognate.core.service import Core
    from cognate.store.cached import CachingStore

    store = CachingStore(settings.database_url)
    try:
        await store.migrate()
        if settings.seed:
            core = Core(store, core_config(settings, secrets))
            await seed.apply(core, seed.load(settings.seed))
    finally:
        await store.close()


def serve(settings: config.Settings) -> int:
    if settings.functions:
        from cognate import functions

        functions.load(settings.functions)  # checked before anything starts
    secrets = bootstrap.ensure(settings)
    if secrets.generated_credentials:
        print(
            "Generated the admin access key pair (kept in "
            f"{settings.data_dir / bootstrap.CREDENTIALS_FILE}, shown only now):\n"
            f"  COGNATE_ACCESS_KEY_ID={secrets.access_key_id}\n"
            f"  COGNATE_SECRET_ACCESS_KEY={secrets.secret_access_key}",
            flush=True,
        )
    asyncio.run(_prepare(settings, secrets))
    config.export(settings)
    print(
        f"Cognate {__version__} listening on {settings.public_url} (data in {settings.data_dir})", flush=True
    )
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        _run_uvicorn(settings)
    except _Stopped:
        pass  # SIGTERM, after uvicorn's graceful shutdown: a clean stop, as with Ctrl-C
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


class _Stopped(Exception):
    """SIGTERM arrived: ``cognate serve`` stops cleanly (exit status 0), as on SIGINT."""


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    # uvicorn catches SIGTERM, shuts down gracefully, then re-raises it with this handler.
    raise _Stopped


def _run_uvicorn(settings: config.Settings) -> None:
    import uvicorn

    from cognate.http_deadline import DeadlineProtocol

    uvicorn.run(
        "cognate.app:create_app",
        http=DeadlineProtocol,  # a request must arrive whole within --read-timeout
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
        server_header=False,
        # Cognate builds every link from --public-url; X-Forwarded-For is read by the app,
        # and only from the proxies of --trusted-proxies (sources.py).
        proxy_headers=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = config.load(_flags(args))
    except config.ConfigError as exc:
        print(f"cognate: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "serve":
        from cognate.seed import SeedError

        try:
            return serve(settings)
        except (SeedError, config.ConfigError) as exc:
            print(f"cognate: {exc}", file=sys.stderr)
            return 2
    if args.command == "keys":
        from cognate.keys_cli import rotate

        return asyncio.run(rotate(settings, args.pool_id))
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
