"""The one list of Cognito operations Cognate serves, each with its authorisation class.

``PUBLIC`` operations need no signature (botocore's model marks them ``auth: none``:
the caller proves itself with a client id, a Session or an access token); ``IAM``
operations need a valid Signature V4 by the admin key pair. A test diffs this
registry against botocore's model; ``scripts/coverage`` writes IMPLEMENTATION_COVERAGE.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cognate.awsjson.params import Params
    from cognate.core.service import Core

Handler = Callable[["Core", "Params"], Awaitable[dict[str, Any]]]


class Auth(StrEnum):
    PUBLIC = "public"
    IAM = "iam"


@dataclass(frozen=True)
class Operation:
    name: str
    auth: Auth
    handler: Handler


OPERATIONS: dict[str, Operation] = {}


def operation(name: str, *, auth: Auth) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if name in OPERATIONS:
            raise RuntimeError(f"operation {name} registered twice")
        OPERATIONS[name] = Operation(name, auth, fn)
        return fn

    return register


def load_all() -> dict[str, Operation]:
    """Import every ops module (each registers its operations) and return the registry."""
    from cognate.awsjson import ops  # noqa: F401  (registration by import)

    return OPERATIONS
