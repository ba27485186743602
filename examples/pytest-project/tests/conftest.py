"""The application under test, wired to the pool the cognate.testing plugin made for the test."""

from __future__ import annotations

from typing import Any

import pytest

from notes_app.auth import Auth, CognitoSettings


@pytest.fixture
def auth(cognate: Any, cognate_pool: Any) -> Auth:
    settings = CognitoSettings(cognate_pool.id, cognate_pool.client_id, cognate_pool.issuer)
    return Auth(cognate.client(signed=False), settings)  # what a browser or a mobile app may call
