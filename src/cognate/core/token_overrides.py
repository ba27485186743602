"""What a PreTokenGeneration function may change in the claims, before they are signed.

Developer guide, "Pre token generation Lambda trigger":

- version 1 (``claimsOverrideDetails``): claims added, changed or suppressed in the ID
  token, string values; ``groupOverrideDetails`` replaces ``cognito:groups`` (both
  tokens), ``cognito:roles`` and ``cognito:preferred_role`` (ID token);
- versions 2 and 3 (``claimsAndScopeOverrideDetails``): ``idTokenGeneration`` and
  ``accessTokenGeneration``, each with ``claimsToAddOrOverride`` (any JSON value) and
  ``claimsToSuppress``; ``scopesToAdd`` / ``scopesToSuppress`` change the access
  token's ``scope``; ``groupOverrideDetails`` as in version 1.

The claims that make a token what it is (issuer, subject, audience, times, ids,
``token_use``, ``client_id``, ``username``, ``scope`` and the like) cannot be changed or
suppressed: such entries are ignored, as Cognito ignores them, so a function can never
forge whose or which token it is. Anything that is not of the documented shape is
``InvalidLambdaResponseException``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cognate.errors import InvalidLambdaResponseException

RESERVED = frozenset(
    {
        "acr",
        "amr",
        "aud",
        "at_hash",
        "auth_time",
        "azp",
        "cognito:username",
        "cognito:groups",
        "event_id",
        "exp",
        "iat",
        "identities",
        "iss",
        "jti",
        "nbf",
        "nonce",
        "origin_jti",
        "sub",
        "token_use",
    }
)
RESERVED_ACCESS = RESERVED | {"client_id", "scope", "username", "version"}


@dataclass(frozen=True)
class TokenClaims:
    """The claims of one issuance, before signing: no ID token for client credentials."""

    id: dict[str, Any] | None
    access: dict[str, Any]


def _bad(what: str) -> InvalidLambdaResponseException:
    return InvalidLambdaResponseException(f"Invalid lambda response: {what}")


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"{what} must be a map")
    return value


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"{what} must be a list of strings")
    return list(value)


def _change(
    claims: dict[str, Any], details: Mapping[str, Any], reserved: frozenset[str], *, strings: bool
) -> None:
    add = _mapping(details.get("claimsToAddOrOverride"), "claimsToAddOrOverride")
    for name, value in add.items():
        if strings and not isinstance(value, str):
            raise _bad("claimsToAddOrOverride values must be strings in version 1")
        if name not in reserved:
            claims[name] = copy.deepcopy(value)
    for name in _names(details.get("claimsToSuppress"), "claimsToSuppress"):
        if name not in reserved:
            claims.pop(name, None)


def _groups(claims: TokenClaims, details: Mapping[str, Any]) -> None:
    groups = _mapping(details.get("groupOverrideDetails"), "groupOverrideDetails")
    if not groups:
        return
    if "groupsToOverride" in groups and groups["groupsToOverride"] is not None:
        names = _names(groups["groupsToOverride"], "groupsToOverride")
        for target in (claims.id, claims.access):
            if target is None:
                continue
            if names:
                target["cognito:groups"] = names
            else:
                target.pop("cognito:groups", None)
    if claims.id is None:
        return
    if groups.get("iamRolesToOverride") is not None:
        roles = _names(groups["iamRolesToOverride"], "iamRolesToOverride")
        if roles:
            claims.id["cognito:roles"] = roles
        else:
            claims.id.pop("cognito:roles", None)
    preferred = groups.get("preferredRole")
    if preferred is not None:
        if not isinstance(preferred, str):
            raise _bad("preferredRole must be a string")
        claims.id["cognito:preferred_role"] = preferred


def apply_v1(claims: TokenClaims, response: Mapping[str, Any]) -> TokenClaims:
    details = _mapping(response.get("claimsOverrideDetails"), "claimsOverrideDetails")
    out = TokenClaims(id=dict(claims.id) if claims.id is not None else None, access=dict(claims.access))
    if out.id is not None:
        _change(out.id, details, RESERVED, strings=True)
    _groups(out, details)
    return out


def apply_v2(claims: TokenClaims, response: Mapping[str, Any]) -> TokenClaims:
    """Versions 2 and 3 (a function that still answers in version 1's shape is understood)."""
    if response.get("claimsAndScopeOverrideDetails") is None and response.get("claimsOverrideDetails"):
        return apply_v1(claims, response)
    details = _mapping(response.get("claimsAndScopeOverrideDetails"), "claimsAndScopeOverrideDetails")
    out = TokenClaims(id=dict(claims.id) if claims.id is not None else None, access=dict(claims.access))
    id_details = _mapping(details.get("idTokenGeneration"), "idTokenGeneration")
    if out.id is not None:
        _change(out.id, id_details, RESERVED, strings=False)
    access_details = _mapping(details.get("accessTokenGeneration"), "accessTokenGeneration")
    _change(out.access, access_details, RESERVED_ACCESS, strings=False)
    scopes = str(out.access.get("scope", "")).split()
    for scope in _names(access_details.get("scopesToAdd"), "scopesToAdd"):
        if scope and " " not in scope and scope not in scopes:
            scopes.append(scope)
    suppressed = set(_names(access_details.get("scopesToSuppress"), "scopesToSuppress"))
    scopes = [s for s in scopes if s not in suppressed]
    out.access["scope"] = " ".join(scopes)
    _groups(out, details)
    return out
