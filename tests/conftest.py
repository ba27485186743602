"""Shared fixtures: a real server process per session, and helpers to make pools and clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import fresh_database
from tests.support.server import Server, running_server

POSTGRES_URL = os.environ.get("COGNATE_TEST_POSTGRES_URL")


FUNCTIONS = str(Path(__file__).parent / "support" / "functions.json")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The shared server (its functions file defines the functions test pools may name): on
    SQLite; on a PostgreSQL database of its own when ``COGNATE_TEST_SERVER_DATABASE=postgresql``
    (with COGNATE_TEST_POSTGRES_URL)."""
    if os.environ.get("COGNATE_TEST_SERVER_DATABASE") == "postgresql":
        with (
            fresh_database("cognate_suite") as url,
            running_server("--functions", FUNCTIONS, env={"COGNATE_DATABASE_URL": url}) as srv,
        ):
            yield srv
        return
    with running_server("--functions", FUNCTIONS) as srv:
        yield srv


@pytest.fixture(scope="session")
def idp(server: Server) -> Any:
    """boto3 cognito-idp client signed with the admin key pair."""
    return server.boto()


@pytest.fixture(scope="session")
def public_idp(server: Server) -> Any:
    """boto3 cognito-idp client that sends no signature (public operations)."""
    return server.boto(signed=False)


@pytest.fixture
def pool(idp: Any) -> Iterator[dict[str, Any]]:
    created = idp.create_user_pool(PoolName=f"p{uuid.uuid4().hex[:10]}")["UserPool"]
    yield created
    try:
        idp.delete_user_pool(UserPoolId=created["Id"])
    except idp.exceptions.ResourceNotFoundException:
        pass
