"""User pools: create, describe, update, list, delete; custom attributes; tags.

Source: Amazon Cognito API reference (CreateUserPool, UpdateUserPool, DeleteUserPool,
AddCustomAttributes, TagResource). What a pool holds is stored in Cognito's own
shape (``UserPoolType``) so that DescribeUserPool returns what was set.
"""

from __future__ import annotations

import builtins
import copy
import re
from collections.abc import Mapping
from typing import Any, Protocol

from cognate.core import attributes, ids, paging
from cognate.core.clock import Clock
from cognate.core.entities import ImportJobStatus, Pool
from cognate.core.password_policy import DEFAULT_POLICY
from cognate.core.triggers import resolve
from cognate.errors import (
    InvalidParameterException,
    ResourceNotFoundException,
    UserImportInProgressException,
)
from cognate.store.base import Conflict, ImportJobStore, PoolStore


class PoolsStore(PoolStore, ImportJobStore, Protocol):
    """What the pool service keeps: pools, and the import jobs that hold a pool still."""


ACCOUNT_ID = "000000000000"

# UpdateUserPool replaces these fields; absent ones return to their defaults (as Cognito).
UPDATABLE = (
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "AccountRecoverySetting",
    "UserPoolTier",
    "IssuerConfiguration",
    "DcrConfiguration",
    "KeyConfiguration",
    "AcrConfiguration",
)
CREATE_ONLY = ("AliasAttributes", "UsernameAttributes", "UsernameConfiguration")
# Set by their own operations (SetUserPoolMfaConfig), kept by UpdateUserPool, not in UserPoolType.
INTERNAL = ("MfaConfig", "UICustomization")
# What a pool's document may hold: CreateUserPool's members other than PoolName and Schema.
# Anything else in a request (Id, Arn, EstimatedNumberOfUsers, ...) is ignored, as AWS does.
STORED = UPDATABLE + CREATE_ONLY


def _defaults() -> dict[str, Any]:
    return {
        "Policies": {"PasswordPolicy": dict(DEFAULT_POLICY)},
        "DeletionProtection": "INACTIVE",
        "LambdaConfig": {},
        "VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_CODE"},
        "MfaConfiguration": "OFF",
        "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"},
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False, "UnusedAccountValidityDays": 7},
        "UserPoolTags": {},
        "UserPoolTier": "ESSENTIALS",
    }


def _normalise(fields: dict[str, Any]) -> dict[str, Any]:
    """Fill the nested defaults and check the rules the service model cannot express."""
    doc = _defaults()
    for key, value in fields.items():
        if key in STORED and value is not None:
            doc[key] = copy.deepcopy(value)
    policies = doc.setdefault("Policies", {})
    pp = {**DEFAULT_POLICY, **(policies.get("PasswordPolicy") or {})}
    policies["PasswordPolicy"] = pp
    if not 6 <= int(pp["MinimumLength"]) <= 99:
        raise InvalidParameterException("Password minimum length must be between 6 and 99.")
    acuc = {"AllowAdminCreateUserOnly": False, "UnusedAccountValidityDays": 7, **doc["AdminCreateUserConfig"]}
    doc["AdminCreateUserConfig"] = acuc
    if doc.get("AliasAttributes") and doc.get("UsernameAttributes"):
        raise InvalidParameterException(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool."
        )
    _check_invitation(doc["AdminCreateUserConfig"].get("InviteMessageTemplate") or {})
    for attr in doc.get("AutoVerifiedAttributes") or []:
        if attr not in ("email", "phone_number"):
            raise InvalidParameterException(f"Invalid auto-verified attribute: {attr}")
    mfa = doc.get("MfaConfiguration", "OFF")
    if mfa not in ("OFF", "ON", "OPTIONAL"):
        raise InvalidParameterException(f"Invalid MfaConfiguration: {mfa}")
    return doc


# LambdaConfig members that name a Lambda function (CustomSMSSender/CustomEmailSender are
# not run by Cognate: not part of issue 10).
TRIGGERS = (
    "PreSignUp",
    "CustomMessage",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "DefineAuthChallenge",
    "CreateAuthChallenge",
    "VerifyAuthChallengeResponse",
    "PreTokenGeneration",
    "UserMigration",
)
_LAMBDA_ARN = re.compile(
    r"^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$"
)
PRE_TOKEN_VERSIONS = ("V1_0", "V2_0", "V3_0")


def _check_lambda_config(doc: dict[str, Any], functions: Mapping[str, str]) -> None:
    """Every function LambdaConfig names is an ARN the functions file defines.

    Cognito keeps PreTokenGeneration and PreTokenGenerationConfig.LambdaArn the same
    function; setting one fills the other (version 1 by default).
    """
    config = doc.get("LambdaConfig") or {}
    pre_token = config.get("PreTokenGenerationConfig")
    if pre_token:
        version = pre_token.get("LambdaVersion") or "V1_0"
        if version not in PRE_TOKEN_VERSIONS:
            raise InvalidParameterException(
                f"PreTokenGenerationConfig.LambdaVersion must be one of {', '.join(PRE_TOKEN_VERSIONS)}"
            )
        arn = pre_token.get("LambdaArn") or config.get("PreTokenGeneration")
        if config.get("PreTokenGeneration") and config["PreTokenGeneration"] != arn:
            raise InvalidParameterException(
                "PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must name the same function."
            )
        config["PreTokenGenerationConfig"] = {"LambdaArn": arn, "LambdaVersion": version}
        config["PreTokenGeneration"] = arn
    elif config.get("PreTokenGeneration"):
        config["PreTokenGenerationConfig"] = {
            "LambdaArn": config["PreTokenGeneration"],
            "LambdaVersion": "V1_0",
        }
    for trigger in TRIGGERS:
        arn = config.get(trigger)
        if arn is None:
            continue
        if not isinstance(arn, str) or not _LAMBDA_ARN.match(arn):
            raise InvalidParameterException(f"{trigger} must be a Lambda function ARN")
        if resolve(functions, arn) is None:
            raise InvalidParameterException(
                f"The Lambda function {arn} ({trigger}) does not exist: "
                "the functions file (--functions) defines no handler for it."
            )


def _check_invitation(template: dict[str, Any]) -> None:
    """Cognito: a custom invitation message must carry the {username} and {####} placeholders."""
    for field in ("EmailMessage", "SMSMessage"):
        text = template.get(field)
        if text is not None and ("{username}" not in text or "{####}" not in text):
            raise InvalidParameterException(
                f"InviteMessageTemplate.{field} must contain the placeholders {{username}} and {{####}}."
            )


class Pools:
    def __init__(
        self, store: PoolsStore, clock: Clock, region: str, functions: Mapping[str, str] | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.region = region
        self.functions = functions if functions is not None else {}

    def arn(self, pool_id: str) -> str:
        return f"arn:aws:cognito-idp:{self.region}:{ACCOUNT_ID}:userpool/{pool_id}"

    async def create(self, fields: dict[str, Any], *, fixed_id: str | None = None) -> Pool:
        fields = dict(fields)
        name = fields.pop("PoolName")
        schema = attributes.build_schema(fields.pop("Schema", None))
        doc = _normalise(fields)
        _check_lambda_config(doc, self.functions)
        doc["SchemaAttributes"] = schema
        now = self.clock.now()
        for _ in range(5):
            pool = Pool(
                id=fixed_id or ids.pool_id(self.region), name=name, created=now, modified=now, doc=doc
            )
            try:
                await self.store.insert_pool(pool)
                return pool
            except Conflict:
                if fixed_id:
                    raise InvalidParameterException(f"User pool {fixed_id} already exists.") from None
        raise InvalidParameterException("Could not allocate a user pool id")  # pragma: no cover

    async def get(self, pool_id: str) -> Pool:
        pool = await self.store.get_pool(pool_id)
        if pool is None:
            raise ResourceNotFoundException(f"User pool {pool_id} does not exist.")
        return pool

    async def _no_import_running(self, pool_id: str) -> None:
        """UpdateUserPool, AddCustomAttributes and DeleteUserPool wait for the pool's import
        jobs to end (UserImportInProgressException, as Cognito)."""
        running = (ImportJobStatus.PENDING, ImportJobStatus.IN_PROGRESS, ImportJobStatus.STOPPING)
        after = None
        while True:
            jobs = await self.store.list_import_jobs(pool_id, 100, after)
            if any(j.status in running for j in jobs):
                raise UserImportInProgressException("A user import job is in progress for this user pool.")
            if len(jobs) < 100:
                return
            after = (jobs[-1].created, jobs[-1].job_id)

    async def update(self, pool_id: str, fields: dict[str, Any]) -> Pool:
        pool = await self.get(pool_id)
        await self._no_import_running(pool_id)
        kept = {k: pool.doc[k] for k in CREATE_ONLY if k in pool.doc}
        internal = {k: pool.doc[k] for k in INTERNAL if k in pool.doc}
        new_fields = {k: v for k, v in fields.items() if k in UPDATABLE}
        if "UserPoolTags" not in new_fields:
            new_fields["UserPoolTags"] = pool.doc.get("UserPoolTags", {})
        doc = _normalise({**kept, **new_fields})
        _check_lambda_config(doc, self.functions)
        doc["SchemaAttributes"] = pool.doc["SchemaAttributes"]
        doc.update(internal)
        name = fields.get("PoolName") or pool.name
        updated = Pool(id=pool.id, name=name, created=pool.created, modified=self.clock.now(), doc=doc)
        await self.store.update_pool(updated)
        return updated

    async def save_doc(self, pool: Pool, doc: dict[str, Any]) -> Pool:
        updated = Pool(id=pool.id, name=pool.name, created=pool.created, modified=self.clock.now(), doc=doc)
        await self.store.update_pool(updated)
        return updated

    async def find(self, pool_id: str) -> Pool | None:
        """The pool, or None (a hot read: through the store's one-second cache)."""
        return await self.store.cached_pool(pool_id)

    async def list(self, limit: int, token: str | None) -> tuple[list[Pool], str | None]:
        pools = await self.store.list_pools(limit + 1, paging.decode(token) if token else None)
        more = len(pools) > limit
        pools = pools[:limit]
        return pools, (paging.encode(pools[-1].id) if more and pools else None)

    async def delete(self, pool_id: str) -> None:
        pool = await self.get(pool_id)
        if pool.doc.get("DeletionProtection") == "ACTIVE":
            raise InvalidParameterException(
                "The user pool cannot be deleted because deletion protection is activated. Deletion "
                "protection must be inactivated first."
            )
        await self._no_import_running(pool_id)
        await self.store.delete_pool(pool_id)

    async def add_custom_attributes(self, pool_id: str, items: builtins.list[dict[str, Any]]) -> None:
        pool = await self.get(pool_id)
        await self._no_import_running(pool_id)
        doc = copy.deepcopy(pool.doc)
        schema = doc["SchemaAttributes"]
        by_name = {a["Name"]: a for a in schema}
        for item in items:
            if item.get("Name") in attributes.STANDARD_NAMES:
                raise InvalidParameterException(f"Existing attribute already has name {item['Name']}.")
            attr = attributes.custom_attribute(item, existing=by_name)
            schema.append(attr)
            by_name[attr["Name"]] = attr
        if sum(1 for a in schema if attributes.is_custom(a["Name"])) > attributes.MAX_CUSTOM:
            raise InvalidParameterException(
                f"A user pool can have at most {attributes.MAX_CUSTOM} custom attributes."
            )
        await self.save_doc(pool, doc)

    # --- tags (resource ARNs of user pools) ---------------------------------------

    def pool_id_of_arn(self, arn: str) -> str:
        prefix = "arn:aws:cognito-idp:"
        if not arn.startswith(prefix) or ":userpool/" not in arn:
            raise InvalidParameterException(f"Invalid ARN: {arn}")
        return arn.rsplit("/", 1)[1]

    async def tag(self, arn: str, tags: dict[str, str]) -> None:
        pool = await self.get(self.pool_id_of_arn(arn))
        doc = copy.deepcopy(pool.doc)
        doc["UserPoolTags"] = {**doc.get("UserPoolTags", {}), **tags}
        if len(doc["UserPoolTags"]) > 50:
            raise InvalidParameterException("A user pool can have at most 50 tags.")
        await self.save_doc(pool, doc)

    async def untag(self, arn: str, keys: builtins.list[str]) -> None:
        pool = await self.get(self.pool_id_of_arn(arn))
        doc = copy.deepcopy(pool.doc)
        doc["UserPoolTags"] = {k: v for k, v in doc.get("UserPoolTags", {}).items() if k not in keys}
        await self.save_doc(pool, doc)

    async def tags(self, arn: str) -> dict[str, str]:
        pool = await self.get(self.pool_id_of_arn(arn))
        return dict(pool.doc.get("UserPoolTags", {}))
