"""Which AWS operations the audit log records, and what of a request it says (core/audit.py).

Every operation signed with the admin key pair (IAM) that writes: all but the reads
(``Describe*``, ``List*``, ``Get*``, ``AdminGet*``, ``AdminList*``) and the
administrative sign-in (AdminInitiateAuth, AdminRespondToAuthChallenge: a user's
sign-in, which the user's sign-in history records). What an entry takes from the
request: its target (the identifiers it names, and the pool or client id it created)
and the *names* of the other parameters (``UserAttributes`` by attribute name). Never a
value: a password, a secret or an attribute's value does not leave the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

READS = ("Describe", "List", "Get", "AdminGet", "AdminList")
SIGN_INS = frozenset({"AdminInitiateAuth", "AdminRespondToAuthChallenge"})
# The parameters that name what an operation acts on (their values are ids and names).
TARGETS = (
    "UserPoolId",
    "ClientId",
    "Username",
    "GroupName",
    "Identifier",
    "Domain",
    "ProviderName",
    "JobId",
    "EventId",
    "ResourceArn",
    "DeviceKey",
)
# Lists of attributes whose names (never values) the entry gives.
ATTRIBUTE_LISTS = ("UserAttributes", "CustomAttributes")


def audited(operation: str) -> bool:
    """Whether a successful IAM signature on ``operation`` makes an audit entry."""
    return not operation.startswith(READS) and operation not in SIGN_INS


def target(body: Mapping[str, Any], result: Mapping[str, Any] | None) -> dict[str, str]:
    """The ids and names the request acts on, with the pool or client it created."""
    out = {key: body[key] for key in TARGETS if isinstance(body.get(key), str)}
    if result:
        created_pool = result.get("UserPool")
        if (
            "UserPoolId" not in out
            and isinstance(created_pool, dict)
            and isinstance(created_pool.get("Id"), str)
        ):
            out["UserPoolId"] = created_pool["Id"]
        created_client = result.get("UserPoolClient")
        if isinstance(created_client, dict) and isinstance(created_client.get("ClientId"), str):
            out.setdefault("ClientId", created_client["ClientId"])
    return out


def fields(body: Mapping[str, Any]) -> list[str]:
    """The names of what the request sets: its parameters but the target, attributes by name."""
    out: list[str] = []
    for key, value in body.items():
        if key in TARGETS:
            continue
        if key in ATTRIBUTE_LISTS and isinstance(value, list):
            out.extend(f"{key}.{item['Name']}" for item in value if isinstance(item, dict) and "Name" in item)
            continue
        if key == "UserAttributeNames" and isinstance(value, list):
            out.extend(f"{key}.{name}" for name in value if isinstance(name, str))
            continue
        out.append(key)
    return out
