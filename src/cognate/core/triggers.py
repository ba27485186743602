"""Lambda triggers: one method per Cognito trigger point, each called from one place in the core.

A pool's ``LambdaConfig`` names a function (an ARN) per trigger; the ``Invoker`` runs it
(the real one, python workers and http(s), is ``cognate.lambdas``; a pool that names no
function costs nothing). Each method builds Cognito's event, awaits the function, checks
its answer and returns what the flow needs; a malformed answer is
``InvalidLambdaResponseException``. Nothing is stored here: the flow stores only after
its triggers have answered, so a failing trigger leaves everything as it was.

Event shapes: developer guide, "Customizing user pool workflows with Lambda triggers"
and one page per trigger ("Pre sign-up Lambda trigger", ..., "Pre token generation
Lambda trigger" for versions 1, 2 and 3); event shapes as the guide gives them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User
from cognate.core.events import NULL_EVENTS, Events
from cognate.core.token_overrides import TokenClaims, apply_v1, apply_v2
from cognate.errors import (
    CognateError,
    InvalidLambdaResponseException,
    UnexpectedLambdaException,
    UserLambdaValidationException,
)

NOT_APPLICABLE = "CLIENT_ID_NOT_APPLICABLE"
SDK_VERSION = "aws-sdk-unknown-unknown"
UNRECOGNIZABLE = "Unrecognizable lambda output"
# What a failing function raises: a flow that stored something before calling it undoes it.
LAMBDA_ERRORS = (UserLambdaValidationException, UnexpectedLambdaException, InvalidLambdaResponseException)


def function_name(arn: str) -> str:
    """``arn:aws:lambda:r:acct:function:NAME[:qualifier]`` -> ``NAME[:qualifier]``."""
    _, sep, rest = arn.partition(":function:")
    return rest if sep else arn


def resolve(functions: Mapping[str, str], arn: str) -> str | None:
    """The functions file's handler for ``arn``: by whole ARN, by name (with, then without,
    its qualifier). docs/triggers.md."""
    name = function_name(arn)
    for key in (arn, name, name.split(":", 1)[0]):
        if key in functions:
            return functions[key]
    return None


class Invoker(Protocol):
    async def invoke(self, function_arn: str, event: dict[str, Any]) -> dict[str, Any]: ...


class NullInvoker:
    """No functions file: a function named by a pool answers with the event unchanged."""

    async def invoke(self, function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
        return event


class RecordingInvoker:
    """For tests: records each call; ``answer(arn, event)`` may change the event or raise."""

    def __init__(self, answer: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer = answer

    async def invoke(self, function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((function_arn, event))
        return self.answer(function_arn, event) if self.answer else event


# --- what the flows get back ----------------------------------------------------------


@dataclass(frozen=True)
class PreSignUpAnswer:
    auto_confirm: bool = False
    auto_verify_email: bool = False
    auto_verify_phone: bool = False


@dataclass(frozen=True)
class Migrated:
    """UserMigration's answer: the user to create (the password is the one typed, if any)."""

    attributes: dict[str, str]
    final_status: str  # CONFIRMED or RESET_REQUIRED
    message_action: str | None  # SUPPRESS or None
    delivery_mediums: tuple[str, ...]
    force_alias_creation: bool


@dataclass(frozen=True)
class Message:
    """CustomMessage's answer; None fields keep Cognito's (or the pool's) own text."""

    sms: str | None = None
    email: str | None = None
    subject: str | None = None


@dataclass(frozen=True)
class ChallengeStep:
    """DefineAuthChallenge's decision."""

    issue_tokens: bool
    fail: bool
    challenge: str | None


@dataclass(frozen=True)
class CreatedChallenge:
    public: dict[str, str] = field(default_factory=dict)
    private: dict[str, Any] = field(default_factory=dict)
    metadata: str | None = None


# --- answer checks ----------------------------------------------------------------------


def _response(answer: dict[str, Any]) -> dict[str, Any]:
    response = answer.get("response")
    if response is None:
        return {}
    if not isinstance(response, dict):
        raise InvalidLambdaResponseException(UNRECOGNIZABLE)
    return response


def _flag(response: Mapping[str, Any], name: str) -> bool:
    value = response.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidLambdaResponseException(f"Invalid lambda response: {name} must be a boolean")
    return value


def _text(response: Mapping[str, Any], name: str) -> str | None:
    value = response.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidLambdaResponseException(f"Invalid lambda response: {name} must be a string")
    return value


def _string_map(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidLambdaResponseException(f"Invalid lambda response: {name} must map names to strings")
    return {str(k): v for k, v in value.items()}


def user_attributes(user: User) -> dict[str, str]:
    """``request.userAttributes``: the user's attributes and ``cognito:user_status``."""
    out = {k: v for k, v in user.attributes.items() if not k.startswith("dev:")}
    out["cognito:user_status"] = str(user.status)
    return out


class Triggers:
    """The trigger points. ``ctx`` brings ClientMetadata, as Cognito passes it through."""

    events: Events = NULL_EVENTS  # Core sets its own

    def __init__(self, invoker: Invoker, region: str) -> None:
        self.invoker = invoker
        self.region = region

    @staticmethod
    def arn(pool: Pool, trigger: str) -> str | None:
        lambda_config = pool.doc.get("LambdaConfig") or {}
        if trigger == "PreTokenGeneration":
            config = lambda_config.get("PreTokenGenerationConfig") or {}
            if config.get("LambdaArn"):
                return str(config["LambdaArn"])
        arn = lambda_config.get(trigger)
        return str(arn) if arn else None

    def configured(self, pool: Pool, trigger: str) -> bool:
        return self.arn(pool, trigger) is not None

    def _event(
        self,
        pool: Pool,
        client_id: str | None,
        source: str,
        username: str | None,
        request: dict[str, Any],
        version: str = "1",
    ) -> dict[str, Any]:
        return {
            "version": version,
            "triggerSource": source,
            "region": self.region,
            "userPoolId": pool.id,
            "userName": username,
            "callerContext": {"awsSdkVersion": SDK_VERSION, "clientId": client_id or NOT_APPLICABLE},
            "request": request,
            "response": {},
        }

    async def _call(self, arn: str, event: dict[str, Any]) -> dict[str, Any]:
        """Every trigger call goes through here: timed and counted by its ``triggerSource``."""
        started = time.perf_counter()
        result = "ok"
        try:
            answer = await self.invoker.invoke(arn, event)
            if not isinstance(answer, dict):
                raise InvalidLambdaResponseException(UNRECOGNIZABLE)
            return _response(answer)
        except CognateError as exc:
            result = exc.type_name
            raise
        except Exception:
            result = "InternalErrorException"
            raise
        finally:
            # triggerSource is the core's own constant (never a caller's input): a bounded label.
            self.events.trigger_call(str(event.get("triggerSource")), result, time.perf_counter() - started)

    # --- sign-up and confirmation ---------------------------------------------------------

    async def pre_sign_up(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client | None,
        source: str,
        username: str,
        attributes: Mapping[str, str],
        validation_data: Mapping[str, str] | None = None,
    ) -> PreSignUpAnswer:
        """PreSignUp_SignUp / PreSignUp_AdminCreateUser (PreSignUp_ExternalProvider: federation)."""
        arn = self.arn(pool, "PreSignUp")
        if arn is None:
            return PreSignUpAnswer()
        request = {
            "userAttributes": dict(attributes),
            "validationData": dict(validation_data or {}) or None,
            "clientMetadata": dict(ctx.client_metadata),
        }
        response = await self._call(
            arn, self._event(pool, client.id if client else None, source, username, request)
        )
        return PreSignUpAnswer(
            auto_confirm=_flag(response, "autoConfirmUser"),
            auto_verify_email=_flag(response, "autoVerifyEmail"),
            auto_verify_phone=_flag(response, "autoVerifyPhone"),
        )

    async def post_confirmation(
        self, ctx: RequestContext, pool: Pool, client: Client | None, source: str, user: User
    ) -> None:
        """PostConfirmation_ConfirmSignUp / PostConfirmation_ConfirmForgotPassword."""
        arn = self.arn(pool, "PostConfirmation")
        if arn is None:
            return
        request = {"userAttributes": user_attributes(user), "clientMetadata": dict(ctx.client_metadata)}
        await self._call(
            arn, self._event(pool, client.id if client else None, source, user.username, request)
        )

    # --- sign-in ------------------------------------------------------------------------

    async def pre_authentication(
        self, ctx: RequestContext, pool: Pool, client: Client, typed: str, user: User | None
    ) -> None:
        """PreAuthentication_Authentication: raising in the function denies the sign-in.

        ``validationData`` is the request's ClientMetadata (InitiateAuth's API reference).
        """
        arn = self.arn(pool, "PreAuthentication")
        if arn is None:
            return
        request: dict[str, Any] = {
            "userAttributes": user_attributes(user) if user else {},
            "validationData": dict(ctx.client_metadata),
            "userNotFound": user is None,
        }
        await self._call(
            arn,
            self._event(
                pool, client.id, "PreAuthentication_Authentication", user.username if user else typed, request
            ),
        )

    async def post_authentication(self, ctx: RequestContext, pool: Pool, client: Client, user: User) -> None:
        """PostAuthentication_Authentication, before the tokens are issued."""
        arn = self.arn(pool, "PostAuthentication")
        if arn is None:
            return
        request = {
            "userAttributes": user_attributes(user),
            "newDeviceUsed": False,
            "clientMetadata": dict(ctx.client_metadata),
        }
        await self._call(
            arn, self._event(pool, client.id, "PostAuthentication_Authentication", user.username, request)
        )

    async def user_migration(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        source: str,
        username: str,
        password: str | None,
    ) -> Migrated | None:
        """UserMigration_Authentication (with the typed password) / UserMigration_ForgotPassword.

        None when the pool has no such function. A function that does not know the user
        raises (Cognito then answers as for an unknown user: the flow decides).
        """
        arn = self.arn(pool, "UserMigration")
        if arn is None:
            return None
        request: dict[str, Any] = {
            "validationData": dict(ctx.client_metadata),
            "clientMetadata": dict(ctx.client_metadata),
        }
        if password is not None:
            request["password"] = password
        response = await self._call(arn, self._event(pool, client.id, source, username, request))
        attributes = _string_map(response.get("userAttributes"), "userAttributes")
        if not attributes and not response:
            raise InvalidLambdaResponseException(UNRECOGNIZABLE)
        status = _text(response, "finalUserStatus") or "RESET_REQUIRED"
        if status not in ("CONFIRMED", "RESET_REQUIRED"):
            raise InvalidLambdaResponseException(
                "Invalid lambda response: finalUserStatus must be CONFIRMED or RESET_REQUIRED"
            )
        action = _text(response, "messageAction")
        if action not in (None, "SUPPRESS"):
            raise InvalidLambdaResponseException("Invalid lambda response: messageAction must be SUPPRESS")
        mediums = response.get("desiredDeliveryMediums") or []
        if not isinstance(mediums, list) or any(m not in ("SMS", "EMAIL") for m in mediums):
            raise InvalidLambdaResponseException(
                "Invalid lambda response: desiredDeliveryMediums must list SMS or EMAIL"
            )
        return Migrated(
            attributes=attributes,
            final_status=status,
            message_action=action,
            delivery_mediums=tuple(mediums),
            force_alias_creation=_flag(response, "forceAliasCreation"),
        )

    # --- tokens -------------------------------------------------------------------------

    def pre_token_version(self, pool: Pool) -> str:
        config = (pool.doc.get("LambdaConfig") or {}).get("PreTokenGenerationConfig") or {}
        return {"V2_0": "2", "V3_0": "3"}.get(str(config.get("LambdaVersion")), "1")

    async def pre_token_generation(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        user: User | None,
        source: str,
        claims: TokenClaims,
        groups: Sequence[str],
    ) -> TokenClaims:
        """TokenGeneration_*: the function may add, change or suppress claims, groups, scopes.

        Version 1 changes the ID token (and groups); version 2 the access token and its
        scopes too; version 3 also runs for client-credentials tokens (no user).
        """
        arn = self.arn(pool, "PreTokenGeneration")
        if arn is None:
            return claims
        version = self.pre_token_version(pool)
        if user is None and version != "3":
            return claims  # machine-to-machine tokens: version 3 only
        request: dict[str, Any] = {
            "userAttributes": user_attributes(user) if user else {},
            "groupConfiguration": {
                "groupsToOverride": list(groups),
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
            "clientMetadata": dict(ctx.client_metadata),
        }
        if version != "1":
            request["scopes"] = str(claims.access.get("scope", "")).split()
        event = self._event(pool, client.id, source, user.username if user else None, request, version)
        response = await self._call(arn, event)
        if version == "1":
            return apply_v1(claims, response)
        return apply_v2(claims, response)

    # --- messages -------------------------------------------------------------------------

    async def custom_message(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client | None,
        source: str,
        user: User,
        code_parameter: str = "{####}",
        username_parameter: str | None = None,
    ) -> Message | None:
        """CustomMessage_*: the function writes the text around the code placeholder."""
        arn = self.arn(pool, "CustomMessage")
        if arn is None:
            return None
        request = {
            "userAttributes": user_attributes(user),
            "codeParameter": code_parameter,
            "linkParameter": "{##Click Here##}",
            "usernameParameter": username_parameter,
            "clientMetadata": dict(ctx.client_metadata),
        }
        event = self._event(pool, client.id if client else None, source, user.username, request)
        event["response"] = {"smsMessage": None, "emailMessage": None, "emailSubject": None}
        response = await self._call(arn, event)
        return Message(
            sms=_text(response, "smsMessage"),
            email=_text(response, "emailMessage"),
            subject=_text(response, "emailSubject"),
        )

    # --- custom authentication -------------------------------------------------------------

    def _custom_request(
        self, ctx: RequestContext, user: User | None, session: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        return {
            "userAttributes": user_attributes(user) if user else {},
            "session": [dict(s) for s in session],
            "clientMetadata": dict(ctx.client_metadata),
            "userNotFound": user is None,
        }

    async def define_auth_challenge(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        username: str,
        user: User | None,
        session: Sequence[Mapping[str, Any]],
    ) -> ChallengeStep:
        arn = self.arn(pool, "DefineAuthChallenge")
        if arn is None:
            raise InvalidLambdaResponseException("DefineAuthChallenge is not configured for the user pool.")
        request = self._custom_request(ctx, user, session)
        response = await self._call(
            arn, self._event(pool, client.id, "DefineAuthChallenge_Authentication", username, request)
        )
        step = ChallengeStep(
            issue_tokens=_flag(response, "issueTokens"),
            fail=_flag(response, "failAuthentication"),
            challenge=_text(response, "challengeName"),
        )
        if not step.issue_tokens and not step.fail and not step.challenge:
            raise InvalidLambdaResponseException(
                "Invalid lambda response: DefineAuthChallenge must issue tokens, fail, or name a challenge"
            )
        return step

    async def create_auth_challenge(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        username: str,
        user: User | None,
        challenge: str,
        session: Sequence[Mapping[str, Any]],
    ) -> CreatedChallenge:
        arn = self.arn(pool, "CreateAuthChallenge")
        if arn is None:
            raise InvalidLambdaResponseException("CreateAuthChallenge is not configured for the user pool.")
        request = {**self._custom_request(ctx, user, session), "challengeName": challenge}
        response = await self._call(
            arn, self._event(pool, client.id, "CreateAuthChallenge_Authentication", username, request)
        )
        private = response.get("privateChallengeParameters") or {}
        if not isinstance(private, dict):
            raise InvalidLambdaResponseException(
                "Invalid lambda response: privateChallengeParameters must be a map"
            )
        return CreatedChallenge(
            public=_string_map(response.get("publicChallengeParameters"), "publicChallengeParameters"),
            private=private,
            metadata=_text(response, "challengeMetadata"),
        )

    async def verify_auth_challenge_response(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        username: str,
        user: User | None,
        private: Mapping[str, Any],
        answer: str,
    ) -> bool:
        arn = self.arn(pool, "VerifyAuthChallengeResponse")
        if arn is None:
            raise InvalidLambdaResponseException(
                "VerifyAuthChallengeResponse is not configured for the user pool."
            )
        request = {
            "userAttributes": user_attributes(user) if user else {},
            "privateChallengeParameters": dict(private),
            "challengeAnswer": answer,
            "clientMetadata": dict(ctx.client_metadata),
            "userNotFound": user is None,
        }
        response = await self._call(
            arn, self._event(pool, client.id, "VerifyAuthChallengeResponse_Authentication", username, request)
        )
        return _flag(response, "answerCorrect")
