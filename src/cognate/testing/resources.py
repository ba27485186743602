"""What a test works with: pools with a ready client, users with their tokens, the outbox.

Everything is made through Cognate's Cognito API with boto3, as the code under test
would do it; nothing reaches into the server's store.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
DEFAULT_FLOWS = (
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
)


def new_password() -> str:
    """A password that meets Cognito's default policy (upper, lower, digit, symbol, 8+)."""
    body = "".join(secrets.choice(DEFAULT_PASSWORD_ALPHABET) for _ in range(12))
    return f"Aa1!{body}"


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    doc: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return doc


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> Tokens:
        return cls(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result.get("RefreshToken"),
            expires_in=int(result.get("ExpiresIn", 3600)),
        )

    @property
    def id_claims(self) -> dict[str, Any]:
        """The ID token's claims, read without checking the signature (verify in the code under test)."""
        return _claims(self.id_token)

    @property
    def access_claims(self) -> dict[str, Any]:
        return _claims(self.access_token)


@dataclass(frozen=True)
class User:
    pool: Pool
    username: str
    password: str
    sub: str
    attributes: dict[str, str]
    tokens: Tokens | None = None

    def sign_in(self) -> Tokens:
        """A fresh sign-in (ADMIN_USER_PASSWORD_AUTH with the pool's client)."""
        return self.pool.sign_in(self.username, self.password)


@dataclass
class Pool:
    """A user pool and one app client (no secret; password, SRP, admin and refresh flows allowed)."""

    idp: Any
    url: str
    description: dict[str, Any]
    client: dict[str, Any]
    outbox_path: Path
    _deleted: bool = field(default=False, repr=False)

    @property
    def id(self) -> str:
        return str(self.description["Id"])

    @property
    def client_id(self) -> str:
        return str(self.client["ClientId"])

    @property
    def issuer(self) -> str:
        return f"{self.url}/{self.id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def outbox(self) -> Outbox:
        """The messages of this pool only."""
        return Outbox(self.outbox_path, pool_id=self.id)

    def add_client(self, **fields: Any) -> dict[str, Any]:
        """Another app client (CreateUserPoolClient's fields; ClientName defaults)."""
        fields.setdefault("ClientName", f"client-{uuid.uuid4().hex[:8]}")
        created: dict[str, Any] = self.idp.create_user_pool_client(UserPoolId=self.id, **fields)[
            "UserPoolClient"
        ]
        return created

    def create_user(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        attributes: dict[str, str] | None = None,
        groups: Iterable[str] = (),
        signed_in: bool = True,
    ) -> User:
        """A CONFIRMED user with a permanent password; signed in unless told otherwise."""
        username = username or f"user-{uuid.uuid4().hex[:10]}"
        password = password or new_password()
        attrs = dict(attributes or {})
        created = self.idp.admin_create_user(
            UserPoolId=self.id,
            Username=username,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": k, "Value": v} for k, v in attrs.items()],
        )["User"]
        self.idp.admin_set_user_password(
            UserPoolId=self.id, Username=username, Password=password, Permanent=True
        )
        for group in groups:
            try:
                self.idp.create_group(UserPoolId=self.id, GroupName=group)
            except self.idp.exceptions.GroupExistsException:
                pass
            self.idp.admin_add_user_to_group(UserPoolId=self.id, Username=username, GroupName=group)
        stored = {a["Name"]: a["Value"] for a in created.get("Attributes", [])}
        user = User(self, created["Username"], password, stored.get("sub", ""), stored)
        if signed_in:
            user = User(
                user.pool, user.username, password, user.sub, stored, self.sign_in(username, password)
            )
        return user

    def sign_in(self, username: str, password: str) -> Tokens:
        result = self.idp.admin_initiate_auth(
            UserPoolId=self.id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        if "AuthenticationResult" not in result:
            raise RuntimeError(f"sign-in of {username} asks for {result.get('ChallengeName')}, not tokens")
        return Tokens.from_result(result["AuthenticationResult"])

    def delete(self) -> None:
        if self._deleted:
            return
        self._deleted = True
        try:
            self.idp.update_user_pool(UserPoolId=self.id, DeletionProtection="INACTIVE")
            self.idp.delete_user_pool(UserPoolId=self.id)
        except self.idp.exceptions.ResourceNotFoundException:
            pass


def make_pool(
    idp: Any, url: str, outbox_path: Path, client: dict[str, Any] | None = None, **fields: Any
) -> Pool:
    """CreateUserPool with ``fields`` (PoolName defaults), then one client (``client``: its fields)."""
    fields.setdefault("PoolName", f"test-{uuid.uuid4().hex[:10]}")
    described = idp.create_user_pool(**fields)["UserPool"]
    client_fields: dict[str, Any] = {"ClientName": "test", "ExplicitAuthFlows": list(DEFAULT_FLOWS)}
    client_fields.update(client or {})
    made = idp.create_user_pool_client(UserPoolId=described["Id"], **client_fields)["UserPoolClient"]
    return Pool(idp, url, described, made, outbox_path)


class Outbox:
    """The messages Cognate sent instead of email and SMS (``<data-dir>/outbox.jsonl``), newest last.

    ``since_now()`` gives a view that ignores what was sent before it, so a test sees its own messages.
    """

    def __init__(self, path: Path, *, pool_id: str | None = None, start: int = 0) -> None:
        self.path = path
        self.pool_id = pool_id
        self.start = start

    def since_now(self) -> Outbox:
        size = self.path.stat().st_size if self.path.exists() else 0
        return Outbox(self.path, pool_id=self.pool_id, start=size)

    def _lines(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(self.start)
            for line in f:
                if line.strip():
                    yield json.loads(line)

    def messages(
        self, username: str | None = None, *, kind: str | None = None, pool_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Each message: time, channel (email|sms), to, subject, body, kind, pool_id, username, code.

        ``username`` matches the user's name or the address the message went to (so an email
        address finds the messages of a pool that signs users in by email).
        """
        pool = pool_id or self.pool_id
        return [
            m
            for m in self._lines()
            if (pool is None or m.get("pool_id") == pool)
            and (username is None or username in (m.get("username"), m.get("to")))
            and (kind is None or m.get("kind") == kind)
        ]

    def last(self, username: str | None = None, *, kind: str | None = None) -> dict[str, Any]:
        found = self.messages(username, kind=kind)
        if not found:
            who = f" to {username}" if username else ""
            where = f" in {self.pool_id}" if self.pool_id else ""
            raise LookupError(f"no message{who}{where} in the outbox")
        return found[-1]

    def last_code(self, username: str | None = None, *, kind: str | None = None) -> str:
        """The code (or temporary password) of the newest message to ``username``."""
        code = self.last(username, kind=kind).get("code")
        if not code:
            raise LookupError(f"the last message to {username} carries no code")
        return str(code)

    def __len__(self) -> int:
        return len(self.messages())
