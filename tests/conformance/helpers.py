"""Small helpers shared by the conformance tests (plain functions; fixtures live in each file)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

POOL_ID = re.compile(r"^us-east-1_[A-Za-z0-9]{9}$")
CLIENT_ID = re.compile(r"^[a-z0-9]{26}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

GOOD_PASSWORD = "Corr3ct-Horse!"


def unique(prefix: str = "p") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def delete_pool(idp: Any, pool_id: str) -> None:
    """Delete a pool whatever its deletion protection; a pool already gone is fine."""
    try:
        idp.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
        idp.delete_user_pool(UserPoolId=pool_id)
    except idp.exceptions.ResourceNotFoundException:
        pass


def pool_factory(idp: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """A fixture body: ``make_pool(**CreateUserPool fields)``; every pool made is deleted afterwards."""
    made: list[str] = []

    def make(**fields: Any) -> dict[str, Any]:
        fields.setdefault("PoolName", unique())
        created: dict[str, Any] = idp.create_user_pool(**fields)["UserPool"]
        made.append(created["Id"])
        return created

    yield make
    for pool_id in made:
        delete_pool(idp, pool_id)


def attrs(items: list[dict[str, str]]) -> dict[str, str]:
    """``[{"Name": n, "Value": v}, ...]`` as a dict."""
    return {a["Name"]: a["Value"] for a in items}


def schema_attr(pool: dict[str, Any], name: str) -> dict[str, Any] | None:
    for a in pool["SchemaAttributes"]:
        if a["Name"] == name:
            return dict(a)
    return None


TARGET = "AWSCognitoIdentityProviderService."
JSON_11 = "application/x-amz-json-1.1"


def raw_post(
    server: Any, operation: str | None, body: Any = None, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST / without a signature; ``body`` is JSON-encoded unless it is bytes."""
    data = body if isinstance(body, bytes) else json.dumps({} if body is None else body).encode()
    sent = {"Content-Type": JSON_11}
    if operation is not None:
        sent["X-Amz-Target"] = TARGET + operation
    sent.update(headers or {})
    return httpx.post(server.url + "/", content=data, headers=sent, timeout=30)


def signed_post(
    server: Any,
    operation: str,
    body: Any = None,
    *,
    key_id: str | None = None,
    secret: str | None = None,
) -> httpx.Response:
    """POST / signed (Signature V4, service cognito-idp) with the admin key pair unless told otherwise."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = body if isinstance(body, bytes) else json.dumps({} if body is None else body).encode()
    creds = server.credentials
    req = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=data,
        headers={"X-Amz-Target": TARGET + operation, "Content-Type": JSON_11},
    )
    SigV4Auth(
        Credentials(key_id or creds["AccessKeyId"], secret or creds["SecretAccessKey"]),
        "cognito-idp",
        "us-east-1",
    ).add_auth(req)
    return httpx.post(server.url + "/", content=data, headers=dict(req.headers.items()), timeout=30)


def verified_email(address: str) -> list[dict[str, str]]:
    """UserAttributes of a user whose email ``address`` is verified."""
    return [{"Name": "email", "Value": address}, {"Name": "email_verified", "Value": "true"}]
