"""The pytest plugin (entry point ``pytest11``): a real Cognate and what tests need around it.

Fixtures (see docs/testing.md):

- ``cognate`` (session): the running server, started on first use, in this process by
  default (``--cognate-mode subprocess`` or the ini option ``cognate_mode`` runs a
  ``cognate serve`` child instead).
- ``cognate_idp`` (session): a boto3 ``cognito-idp`` client signed with the admin pair.
- ``cognate_pool_factory``: ``make_pool(client={...}, **CreateUserPool fields) -> Pool``;
  the pools it made are deleted afterwards.
- ``cognate_pool``: a fresh pool with one client; function-scoped unless the ini option
  ``cognate_pool_scope`` says ``module``, ``package`` or ``session``.
- ``cognate_user_factory``: ``make_user(username=None, password=None, attributes=...,
  groups=..., signed_in=True, pool=None) -> User`` with ``user.tokens``.
- ``cognate_user``: one signed-in user of ``cognate_pool``.
- ``cognate_outbox``: the messages sent during the test (``last_code(username)``).

Nothing starts unless a test asks for one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

SCOPES = ("function", "class", "module", "package", "session")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cognate", "Cognate test server (cognate.testing)")
    group.addoption(
        "--cognate-mode",
        choices=("inprocess", "subprocess"),
        default=None,
        help="run the test Cognate in this process (default) or as a `cognate serve` subprocess",
    )
    parser.addini("cognate_mode", "inprocess (default) or subprocess", default="inprocess")
    parser.addini(
        "cognate_pool_scope", "scope of the cognate_pool fixture (default: function)", default="function"
    )
    parser.addini(
        "cognate_key_cache",
        "keep signing keys made ahead between sessions: true (default, in pytest's cache) or false",
        default="true",
    )


def _pool_scope(fixture_name: str, config: pytest.Config) -> Any:
    scope = str(config.getini("cognate_pool_scope") or "function")
    if scope not in SCOPES:
        raise pytest.UsageError(f"cognate_pool_scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    return scope


@pytest.fixture(scope="session")
def cognate(pytestconfig: pytest.Config) -> Iterator[Any]:
    """The running test Cognate (``cognate.testing.Cognate``)."""
    from cognate.testing.server import serve

    mode = pytestconfig.getoption("cognate_mode") or str(pytestconfig.getini("cognate_mode"))
    key_cache: Any = False
    if str(pytestconfig.getini("cognate_key_cache")).lower() not in ("false", "0", "no"):
        cache = getattr(pytestconfig, "cache", None)
        key_cache = cache.mkdir("cognate") / "signing-keys.pem" if cache is not None else True
    with serve(mode, key_cache=key_cache) as server:
        yield server


@pytest.fixture(scope="session")
def cognate_idp(cognate: Any) -> Any:
    """boto3 ``cognito-idp`` client with the admin key pair (IAM operations allowed)."""
    return cognate.client()


def _pools(cognate: Any) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []

    def make_pool(client: dict[str, Any] | None = None, **fields: Any) -> Any:
        pool = cognate.create_pool(client, **fields)
        made.append(pool)
        return pool

    yield make_pool
    for pool in reversed(made):
        pool.delete()


@pytest.fixture
def cognate_pool_factory(cognate: Any) -> Iterator[Callable[..., Any]]:
    """``make_pool(client={ClientFields}, **CreateUserPool fields)``; pools deleted after the test."""
    yield from _pools(cognate)


@pytest.fixture(scope=_pool_scope)
def cognate_pool(cognate: Any) -> Iterator[Any]:
    """A fresh pool (``cognate.testing.Pool``) with one client allowing password, SRP and refresh."""
    pool = cognate.create_pool()
    yield pool
    pool.delete()


@pytest.fixture
def cognate_user_factory(cognate_pool: Any) -> Callable[..., Any]:
    """``make_user(username=None, password=None, *, attributes=None, groups=(), signed_in=True,
    pool=None)`` in ``cognate_pool`` (or ``pool``)."""

    def make_user(
        username: str | None = None, password: str | None = None, *, pool: Any = None, **kw: Any
    ) -> Any:
        return (pool or cognate_pool).create_user(username, password, **kw)

    return make_user


@pytest.fixture
def cognate_user(cognate_user_factory: Callable[..., Any]) -> Any:
    """One signed-in user of ``cognate_pool`` (``user.tokens.id_token``, ``user.password``...)."""
    return cognate_user_factory()


@pytest.fixture
def cognate_outbox(cognate: Any) -> Any:
    """The messages sent during this test: ``cognate_outbox.last_code("alice")``."""
    return cognate.outbox.since_now()
