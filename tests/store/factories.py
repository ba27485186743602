"""Small builders of entities for the storage suite."""

from __future__ import annotations

import uuid
from typing import Any

from cognate.core.entities import Client, Group, Pool, RefreshToken, SigningKey, User, UserStatus
from cognate.store.base import UserIndex

T0 = 1_700_000_000.0


def pool(pool_id: str = "us-east-1_Pool00001", name: str = "app", **doc: Any) -> Pool:
    return Pool(id=pool_id, name=name, created=T0, modified=T0, doc=doc or {"MfaConfiguration": "OFF"})


def client(client_id: str, pool_id: str = "us-east-1_Pool00001", name: str = "web") -> Client:
    return Client(
        id=client_id, pool_id=pool_id, name=name, created=T0, modified=T0, doc={"ExplicitAuthFlows": []}
    )


def user(
    username: str,
    pool_id: str = "us-east-1_Pool00001",
    *,
    status: UserStatus = UserStatus.CONFIRMED,
    enabled: bool = True,
    **attrs: str,
) -> User:
    sub = str(uuid.uuid4())
    return User(
        sub=sub,
        pool_id=pool_id,
        username=username,
        status=status,
        enabled=enabled,
        attributes={"sub": sub, **attrs},
        created=T0,
        modified=T0,
        password_hash="$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
        srp_secret="v1.sealed",
        mfa={"preferred": None},
    )


def indexed(u: User, *aliases: tuple[str, str]) -> UserIndex:
    """What the core indexes: sub and the filterable attributes present, and ``aliases``."""
    return UserIndex(
        attributes=[(name, value) for name, value in u.attributes.items() if name != "email_verified"],
        aliases=aliases,
    )


def group(name: str, pool_id: str = "us-east-1_Pool00001", precedence: int = 0) -> Group:
    return Group(pool_id=pool_id, name=name, created=T0, modified=T0, doc={"Precedence": precedence})


def refresh(
    token_hash: str,
    *,
    origin_jti: str = "origin-1",
    sub: str = "sub-1",
    client_id: str = "client1",
    pool_id: str = "us-east-1_Pool00001",
    expires: float = T0 + 3600,
) -> RefreshToken:
    return RefreshToken(
        token_hash=token_hash,
        pool_id=pool_id,
        client_id=client_id,
        sub=sub,
        origin_jti=origin_jti,
        created=T0,
        expires=expires,
        doc={"auth_time": int(T0), "scopes": ["openid"]},
    )


def signing_key(
    kid: str, purpose: str = "id", pool_id: str = "us-east-1_Pool00001", created: float = T0
) -> SigningKey:
    return SigningKey(
        kid=kid,
        pool_id=pool_id,
        purpose=purpose,
        private_pem_enc=f"v1.sealed-{kid}",
        public_jwk={"kty": "RSA", "kid": kid, "n": "AQAB", "e": "AQAB"},
        created=created,
    )
