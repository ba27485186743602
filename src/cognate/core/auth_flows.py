"""Sign-in flows: one core for InitiateAuth, AdminInitiateAuth, the challenge answers
and the token refreshes (the hosted pages call the same functions).

Sources: Amazon Cognito API reference (InitiateAuth, AdminInitiateAuth,
RespondToAuthChallenge, AdminRespondToAuthChallenge, GetTokensFromRefreshToken,
RevokeToken, GlobalSignOut); developer guide, "Authentication flows", "Managing
error responses" (PreventUserExistenceErrors), "Refresh tokens" (rotation).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from cognate.core import attributes, password_policy
from cognate.core.attribute_access import check_user_writes, readable
from cognate.core.auth_events import (
    IN_PROGRESS,
    MFA,
    PASS,
    PASSWORD,
    SIGN_IN,
    AuthEvents,
    continue_event,
    event_id_for_session,
    note_challenge,
    note_user,
)
from cognate.core.clients import SECRET_PURPOSE, Clients
from cognate.core.clock import Clock
from cognate.core.context import RequestContext
from cognate.core.custom_auth import CUSTOM as CUSTOM_CHALLENGE
from cognate.core.custom_auth import CustomAuth
from cognate.core.entities import Client, Pool, User, UserStatus
from cognate.core.events import NULL_EVENTS, Events
from cognate.core.lockout import Lockout
from cognate.core.mfa import SMS, TOTP, Mfa, Preference
from cognate.core.migration import AUTHENTICATION as MIGRATE_ON_SIGN_IN
from cognate.core.migration import Migration
from cognate.core.outcome import Authenticated, Challenge, SignInStep, names_of
from cognate.core.pools import Pools
from cognate.core.sessions import Sessions
from cognate.core.srp_sign_in import SrpSignIn
from cognate.core.tokens import ADMIN_SCOPE, Tokens
from cognate.core.users import Users, username_key
from cognate.errors import (
    CognateError,
    InvalidParameterException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    ResourceNotFoundException,
    UnauthorizedException,
    UnsupportedOperationException,
    UnsupportedTokenTypeException,
    UserNotConfirmedException,
    UserNotFoundException,
)

INCORRECT = "Incorrect username or password."
# Clients whose unsealed secret a process keeps beside the entity cache (then it starts over).
UNSEALED_CLIENTS_KEPT = 4096

# Which ExplicitAuthFlows values allow a flow (the ALLOW_ names and the legacy ones).
FLOW_ALLOWED_BY = {
    "USER_PASSWORD_AUTH": {"ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"},
    "ADMIN_USER_PASSWORD_AUTH": {"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"},
    "ADMIN_NO_SRP_AUTH": {"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"},
    "REFRESH_TOKEN_AUTH": {"ALLOW_REFRESH_TOKEN_AUTH"},
    "USER_SRP_AUTH": {"ALLOW_USER_SRP_AUTH"},
    "CUSTOM_AUTH": {"ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"},
}
# Valid in Cognito's API, not served by Cognate: said so, whatever the client allows.
UNSUPPORTED_FLOWS = {
    "USER_AUTH": "USER_AUTH (choice-based sign-in: passwordless, passkeys, one-time codes) is not supported "
    "by Cognate; sign in with USER_SRP_AUTH or USER_PASSWORD_AUTH.",
}
PUBLIC_FLOWS = {
    "USER_PASSWORD_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "USER_SRP_AUTH",
    "CUSTOM_AUTH",
    "USER_AUTH",
}
ADMIN_FLOWS = {
    "ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "USER_SRP_AUTH",
    "CUSTOM_AUTH",
    "USER_AUTH",
}


def flow_enabled(client: Client, flow: str) -> bool:
    flows = set(client.doc.get("ExplicitAuthFlows") or [])
    legacy = not any(f.startswith("ALLOW_") for f in flows)
    if flow == "REFRESH_TOKEN":
        flow = "REFRESH_TOKEN_AUTH"
    if legacy and flow in ("REFRESH_TOKEN_AUTH", "USER_SRP_AUTH"):
        return True  # legacy clients always allow refresh and SRP
    return bool(flows & FLOW_ALLOWED_BY.get(flow, set()))


REFRESH_FLOWS = frozenset({"REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"})
# The metrics label of the hosted login page's password step (not an AuthFlow of the API).
HOSTED_LOGIN = "hosted_login"


def _sign_in_response(result: SignInStep) -> str:
    """A sign-in step's ``EventResponse``: ``Pass`` once signed in, else ``InProgress``."""
    if isinstance(result, Authenticated):
        note_user(result.pool, result.user)  # custom authentication learns its user here
        return PASS
    return IN_PROGRESS


# Cognito's ChallengeNameType values: the bounded set a metrics label may carry.
CHALLENGE_NAMES = frozenset(
    {
        "SMS_MFA",
        "EMAIL_OTP",
        "SOFTWARE_TOKEN_MFA",
        "SELECT_MFA_TYPE",
        "MFA_SETUP",
        "PASSWORD_VERIFIER",
        "CUSTOM_CHALLENGE",
        "SELECT_CHALLENGE",
        "DEVICE_SRP_AUTH",
        "DEVICE_PASSWORD_VERIFIER",
        "ADMIN_NO_SRP_AUTH",
        "NEW_PASSWORD_REQUIRED",
        "SMS_OTP",
        "PASSWORD",
        "WEB_AUTHN",
        "PASSWORD_SRP",
    }
)


class AuthFlows:
    events: Events = NULL_EVENTS  # Core sets its own

    def __init__(
        self,
        pools: Pools,
        clients: Clients,
        users: Users,
        tokens: Tokens,
        sessions: Sessions,
        lockout: Lockout,
        clock: Clock,
        secret_seed: bytes,
        mfa: Mfa,
    ) -> None:
        self.pools = pools
        self.clients = clients
        self._unsealed_clients: dict[str, tuple[Client, Client]] = {}
        self.users = users
        self.tokens = tokens
        self.sessions = sessions
        self.lockout = lockout
        self.clock = clock
        self.srp = SrpSignIn(self, secret_seed)
        self.mfa = mfa
        self.triggers = tokens.triggers
        self.custom = CustomAuth(self)
        self.migration = Migration(users, self.triggers)
        self.history = AuthEvents(tokens.store, clock)  # Core gives its own (the retention)

    # --- entry points ------------------------------------------------------------

    async def client_of(self, client_id: str, pool_id: str | None = None) -> tuple[Pool, Client]:
        """The client and its pool, read through the short-lived cache of the sign-in paths."""
        store = self.tokens.store
        found = await store.cached_client(client_id)
        if found is None or (pool_id is not None and found[0].pool_id != pool_id):
            raise ResourceNotFoundException(f"User pool client {client_id} does not exist.")
        client, sealed = found
        if sealed:
            client = self._unsealed(client, sealed)
        pool = await store.cached_pool(client.pool_id)
        if pool is None:
            raise ResourceNotFoundException(f"User pool {client.pool_id} does not exist.")
        return pool, client

    def _unsealed(self, client: Client, sealed: str) -> Client:
        """The client with its secret unsealed, kept while the cache returns the same entity
        (an update to the client is a new entity, unsealed afresh)."""
        memo = self._unsealed_clients.get(client.id)
        if memo is not None and memo[0] is client:
            return memo[1]
        opened = replace(client, secret=self.clients.sealer.unseal(sealed, SECRET_PURPOSE))
        if len(self._unsealed_clients) >= UNSEALED_CLIENTS_KEPT:
            self._unsealed_clients.clear()
        self._unsealed_clients[client.id] = (client, opened)
        return opened

    def admit(self, client: Client, flow: str, params: Mapping[str, str], *, admin: bool) -> None:
        """The flow is one this entry point serves and the client allows, with its parameters."""
        allowed = ADMIN_FLOWS if admin else PUBLIC_FLOWS
        if flow not in allowed:
            raise InvalidParameterException(
                f"Initiate Auth method not supported: {flow}"
                if not admin
                else f"{flow} flow is not supported by AdminInitiateAuth"
            )
        if flow in UNSUPPORTED_FLOWS:
            raise UnsupportedOperationException(UNSUPPORTED_FLOWS[flow])
        if not flow_enabled(client, flow):
            raise InvalidParameterException(f"{flow} flow not enabled for this client")
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            if not params.get("REFRESH_TOKEN"):
                raise InvalidParameterException("Missing required parameter REFRESH_TOKEN")
            if (client.doc.get("RefreshTokenRotation") or {}).get("Feature") == "ENABLED":
                raise NotAuthorizedException(
                    "Refresh token rotation is enabled for this client: use GetTokensFromRefreshToken"
                )
            return
        if flow in ("USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH", "USER_SRP_AUTH"):
            if not params.get("USERNAME"):
                raise InvalidParameterException("Missing required parameter USERNAME")
            second = "SRP_A" if flow == "USER_SRP_AUTH" else "PASSWORD"
            if not params.get(second):
                raise InvalidParameterException(f"Missing required parameter {second}")
        if flow == "CUSTOM_AUTH" and not params.get("USERNAME"):
            raise InvalidParameterException("Missing required parameter USERNAME")

    async def initiate(
        self,
        ctx: RequestContext,
        client_id: str,
        flow: str,
        params: Mapping[str, str],
        *,
        admin_pool_id: str | None = None,
    ) -> SignInStep:
        """InitiateAuth / AdminInitiateAuth, once the door has checked the client's proof."""
        label = flow if flow in PUBLIC_FLOWS or flow in ADMIN_FLOWS else "other"
        return await self._observed(ctx, label, self._initiate(ctx, client_id, flow, params, admin_pool_id))

    async def _observed(self, ctx: RequestContext, flow: str, step: Awaitable[SignInStep]) -> SignInStep:
        """Run one sign-in step: the one place a step ends. Its flow and result go to
        ``events`` (metrics), its event to the user's sign-in history (a refresh is no sign-in)."""
        if flow not in REFRESH_FLOWS:
            step = self.history.observe(ctx, SIGN_IN, step, _sign_in_response)
        try:
            result = await step
        except CognateError as exc:
            self.events.sign_in(flow, exc.type_name)
            raise
        except Exception:
            self.events.sign_in(flow, "InternalErrorException")
            raise
        self.events.sign_in(flow, "authenticated" if isinstance(result, Authenticated) else "challenge")
        return result

    async def _initiate(
        self,
        ctx: RequestContext,
        client_id: str,
        flow: str,
        params: Mapping[str, str],
        admin_pool_id: str | None,
    ) -> SignInStep:
        pool, client = await self.client_of(client_id, admin_pool_id)
        self.admit(client, flow, params, admin=admin_pool_id is not None)
        if flow in ("USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
            return await self._password_sign_in(ctx, pool, client, params["USERNAME"], params["PASSWORD"])
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            return await self.refresh(ctx, pool, client, params["REFRESH_TOKEN"])
        if flow == "USER_SRP_AUTH":
            return await self.srp.start(ctx, pool, client, params["USERNAME"], params["SRP_A"])
        if flow == "CUSTOM_AUTH":
            return await self.custom.start(ctx, pool, client, params)
        raise InvalidParameterException(f"{flow} flow is not supported yet by this server")

    async def user_by_sub(self, pool: Pool, sub: str) -> User | None:
        return await self.users.by_sub(pool, sub)

    # --- password flows -------------------------------------------------------------

    async def password_sign_in(
        self, ctx: RequestContext, pool: Pool, client: Client, username: str, password: str
    ) -> SignInStep:
        """The hosted login page's username and password: the password flow, observed as a step."""
        return await self._observed(
            ctx, HOSTED_LOGIN, self._password_sign_in(ctx, pool, client, username, password)
        )

    async def _password_sign_in(
        self, ctx: RequestContext, pool: Pool, client: Client, username: str, password: str
    ) -> SignInStep:
        """A username and password (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, the hosted login)."""
        if not username:
            raise InvalidParameterException("Missing required parameter USERNAME")
        if not password:
            raise InvalidParameterException("Missing required parameter PASSWORD")
        user = await self.users.find(pool, username)
        if user is None:  # a user the pool's UserMigration function may bring (migration.py)
            user = await self.migration.migrate(ctx, pool, client, MIGRATE_ON_SIGN_IN, username, password)
        found = user
        user = await self.sign_in_first_factor(
            ctx, pool, client, username, user, lambda: self.users.check_password(found, password)
        )
        # An imported hash is replaced by Cognate's own, and the SRP verifier added (docs/import.md).
        user = await self.users.upgrade_credentials(pool, user, password)
        return await self.after_first_factor(ctx, pool, client, user, ("pwd",))

    async def verify_password(
        self, pool: Pool, client: Client, typed: str, user: User | None, password: str
    ) -> User:
        """Check a password (an unknown user still costs one argon2 check)."""
        return await self.verify_first_factor(
            pool, client, typed, user, lambda: self.users.check_password(user, password)
        )

    async def sign_in_first_factor(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        typed: str,
        user: User | None,
        check: Callable[[], Awaitable[bool]],
    ) -> User:
        """A sign-in's password (or SRP proof): the pool's PreAuthentication function first.

        The function may deny the attempt by raising (UserLambdaValidationException). It
        hears of an unknown user only under PreventUserExistenceErrors, as Cognito's
        ``userNotFound`` flag documents; otherwise the unknown user is refused as before.
        """
        await self.pre_authentication(ctx, pool, client, typed, user)
        return await self.verify_first_factor(pool, client, typed, user, check)

    async def pre_authentication(
        self, ctx: RequestContext, pool: Pool, client: Client, typed: str, user: User | None
    ) -> None:
        """The pool's PreAuthentication function (password, SRP and custom sign-ins)."""
        if user is not None or client.doc.get("PreventUserExistenceErrors") == "ENABLED":
            await self.triggers.pre_authentication(ctx, pool, client, typed, user)

    async def verify_first_factor(
        self,
        pool: Pool,
        client: Client,
        typed: str,
        user: User | None,
        check: Callable[[], Awaitable[bool]],
    ) -> User:
        """Run ``check`` (the password or its SRP proof) under the lockout, then the state checks.

        Unknown users get the same store work and the same cost (``check`` proves nothing
        for them), so an unknown user and a wrong password look alike in body and in time.
        """
        key = user.sub if user else "unknown:" + username_key(pool, typed)
        if user is not None:
            note_user(pool, user)
        async with self.lockout.attempt(pool.id, key) as attempt:
            attempt.success = await check() and user is not None
        if user is None:
            if client.doc.get("PreventUserExistenceErrors") == "ENABLED":
                raise NotAuthorizedException(INCORRECT)
            raise UserNotFoundException("User does not exist.")
        if user.status == UserStatus.UNCONFIRMED:
            # Cognito says so even for a wrong password.
            raise UserNotConfirmedException("User is not confirmed.")
        note_challenge(PASSWORD, attempt.success)
        if user.status == UserStatus.RESET_REQUIRED and user.password_hash is None:
            # An imported user has no password to check: Cognito asks for the reset whatever was
            # typed (NotAuthorized under PreventUserExistenceErrors, developer guide).
            if client.doc.get("PreventUserExistenceErrors") == "ENABLED":
                raise NotAuthorizedException(INCORRECT)
            raise PasswordResetRequiredException("Password reset required for the user")
        if not attempt.success:
            raise NotAuthorizedException(INCORRECT)
        if not user.enabled:
            raise NotAuthorizedException("User is disabled.")
        if user.status == UserStatus.RESET_REQUIRED:
            raise PasswordResetRequiredException("Password reset required for the user")
        return user

    async def after_first_factor(
        self, ctx: RequestContext, pool: Pool, client: Client, user: User, amr: tuple[str, ...]
    ) -> SignInStep:
        """The password is right: a pending NEW_PASSWORD_REQUIRED, the MFA step, or signed in."""
        now = self.clock.now()
        if user.status == UserStatus.FORCE_CHANGE_PASSWORD:
            if user.password_expires is not None and user.password_expires < now:
                raise NotAuthorizedException(
                    "Temporary password has expired and must be reset by an administrator."
                )
            session = await self._session(pool, client, user, "NEW_PASSWORD_REQUIRED", amr)
            shown = {k: v for k, v in readable(client, user.attributes).items() if k != "sub"}
            required = [
                f"userAttributes.{a['Name']}"
                for a in pool.doc.get("SchemaAttributes") or []
                if a.get("Required") and a["Name"] != "sub" and not user.attributes.get(a["Name"])
            ]
            return Challenge(
                "NEW_PASSWORD_REQUIRED",
                session,
                {
                    "USER_ID_FOR_SRP": user.username,
                    "requiredAttributes": json.dumps(required),
                    "userAttributes": json.dumps(shown),
                },
            )
        return await self.second_factor(ctx, pool, client, user, amr)

    async def _session(
        self, pool: Pool, client: Client, user: User, challenge: str, amr: tuple[str, ...]
    ) -> str:
        state: dict[str, Any] = {
            "challenge": challenge,
            "pool_id": pool.id,
            "client_id": client.id,
            "sub": user.sub,
            "username": user.username,
            "amr": list(amr),
        }
        event_id = event_id_for_session()  # the next step continues this sign-in's event
        if event_id is not None:
            state["event_id"] = event_id
        return await self.sessions.start(state, int(client.doc.get("AuthSessionValidity") or 3))

    async def second_factor(
        self, ctx: RequestContext, pool: Pool, client: Client, user: User, amr: tuple[str, ...]
    ) -> SignInStep:
        """Signed in, or the MFA challenge the pool and the user call for (SMS code sent now)."""
        challenge = self.mfa.challenge_for(pool, user)
        if challenge is None:
            return await self.authenticated(ctx, pool, client, user, amr)
        parameters: dict[str, str] = {}
        if challenge == SMS:
            sent = await self.mfa.send_sms_code(pool, user, ctx, client)
            parameters = {
                "CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
                "CODE_DELIVERY_DESTINATION": sent.destination,
            }
        elif challenge == "MFA_SETUP":
            parameters = {"MFAS_CAN_SETUP": json.dumps([TOTP])}
        session = await self._session(pool, client, user, challenge, amr)
        return Challenge(challenge, session, parameters)

    async def authenticated(
        self, ctx: RequestContext, pool: Pool, client: Client, user: User, amr: tuple[str, ...]
    ) -> Authenticated:
        """The end of every interactive sign-in: the pool's PostAuthentication function, then
        the user, now, and how they proved it (a refresh is not a sign-in and skips this)."""
        await self.triggers.post_authentication(ctx, pool, client, user)
        return Authenticated(pool, client, user, auth_time=int(self.clock.now()), amr=amr)

    # --- challenges --------------------------------------------------------------

    async def respond(
        self,
        ctx: RequestContext,
        client_id: str,
        challenge: str,
        responses: Mapping[str, str],
        session: str | None,
        *,
        admin_pool_id: str | None = None,
    ) -> SignInStep:
        """Respond/AdminRespondToAuthChallenge, once the door has checked the client's proof."""
        label = challenge if challenge in CHALLENGE_NAMES else "other"
        return await self._observed(
            ctx, label, self._respond(ctx, client_id, challenge, responses, session, admin_pool_id)
        )

    async def _respond(
        self,
        ctx: RequestContext,
        client_id: str,
        challenge: str,
        responses: Mapping[str, str],
        session: str | None,
        admin_pool_id: str | None,
    ) -> SignInStep:
        pool, client = await self.client_of(client_id, admin_pool_id)
        if challenge == "PASSWORD_VERIFIER":  # its state travels in SECRET_BLOCK, not in a Session
            return await self.srp.verify(ctx, pool, client, responses)
        if challenge == CUSTOM_CHALLENGE:  # custom_auth.py (the user may be a hidden unknown one)
            return await self.custom.answer(ctx, pool, client, responses, session)
        state = await self.sessions.peek(session)
        if state.get("client_id") != client.id or state.get("challenge") != challenge:
            raise NotAuthorizedException("Invalid session for the user, session is expired.")
        username = responses.get("USERNAME") or ""
        user = await self.user_by_sub(pool, state["sub"])
        if user is None:
            raise NotAuthorizedException("Invalid session for the user, session is expired.")
        continue_event(state.get("event_id"))
        note_user(pool, user)
        if username and username not in names_of(user):
            raise NotAuthorizedException("Invalid session for the user, session is expired.")
        # Every step re-checks the user: one disabled (or deleted, above) since the first
        # step gets nothing more.
        if not user.enabled:
            raise NotAuthorizedException("User is disabled.")
        amr = tuple(str(m) for m in state.get("amr") or ("pwd",))
        if challenge == "NEW_PASSWORD_REQUIRED":
            return await self._new_password(ctx, pool, client, user, responses, session, amr)
        if challenge in (TOTP, SMS, "MFA_SETUP"):
            return await self._mfa_answer(ctx, pool, client, user, challenge, responses, session, amr, state)
        raise InvalidParameterException(f"Challenge {challenge} is not supported")

    async def _mfa_answer(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        user: User,
        challenge: str,
        responses: Mapping[str, str],
        session: str | None,
        amr: tuple[str, ...],
        state: Mapping[str, Any],
    ) -> SignInStep:
        """A wrong code leaves the session usable (attempts are limited); a right one redeems it."""
        if challenge in (SMS, TOTP):
            try:
                if challenge == SMS:
                    await self.mfa.check_sms_code(pool, user, responses.get("SMS_MFA_CODE") or "")
                else:
                    async with self.lockout.attempt(pool.id, f"mfa:{user.sub}") as attempt:
                        await self.mfa.check_totp(user, responses.get("SOFTWARE_TOKEN_MFA_CODE") or "")
                        attempt.success = True
            except CognateError:
                note_challenge(MFA, False)
                raise
            note_challenge(MFA, True)
        else:  # MFA_SETUP: the authenticator was verified with this session (VerifySoftwareToken)
            # Associated and verified within this very session: a secret verified some
            # other time (say, set up and then disabled) is no second factor here.
            if not state.get("totp_verified") or not user.mfa.get("totp"):
                raise InvalidParameterException(
                    "Verify a software token with this session first (VerifySoftwareToken)."
                )
            user = await self.mfa.set_preference(pool, user, None, Preference(enabled=True, preferred=True))
            note_challenge(MFA, True)
        await self.sessions.redeem(session)
        method = {SMS: "sms", TOTP: "otp", "MFA_SETUP": "otp"}[challenge]
        return await self.authenticated(ctx, pool, client, user, (*amr, method, "mfa"))

    async def mfa_setup_user(self, session: str) -> tuple[Pool, User]:
        """The user of an MFA_SETUP session (AssociateSoftwareToken / VerifySoftwareToken by Session)."""
        state = await self.sessions.peek(session)
        if state.get("challenge") != "MFA_SETUP":
            raise NotAuthorizedException("Invalid session for the user, session is expired.")
        pool = await self.pools.get(state["pool_id"])
        user = await self.users.by_sub(pool, state["sub"])
        if user is None:
            raise NotAuthorizedException("Invalid session for the user, session is expired.")
        if not user.enabled:
            raise NotAuthorizedException("User is disabled.")
        return pool, user

    async def mfa_setup_verified(self, session: str) -> None:
        """VerifySoftwareToken succeeded with this MFA_SETUP session: its answer may now pass."""
        await self.sessions.update(session, {"totp_verified": True})

    async def _new_password(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        user: User,
        responses: Mapping[str, str],
        session: str | None,
        amr: tuple[str, ...],
    ) -> SignInStep:
        new_password = responses.get("NEW_PASSWORD")
        if not new_password:
            raise InvalidParameterException("Missing required parameter NEW_PASSWORD")
        password_policy.check(password_policy.policy_of(pool.doc), new_password)
        updates = [
            {"Name": k.removeprefix("userAttributes."), "Value": v}
            for k, v in responses.items()
            if k.startswith("userAttributes.")
        ]
        # The user writes here, not an administrator: only what the client may write
        # (never a verified flag or a developer-only attribute), checked like any write.
        check_user_writes(client, [u["Name"] for u in updates], pool)
        attributes.check_writes(
            pool.doc["SchemaAttributes"],
            {u["Name"]: u["Value"] for u in updates},
            creating=False,
            admin=False,
        )
        await self.sessions.redeem(session)  # single use, checked after validation so a typo can be retried
        if updates:
            user = await self.users.update_attributes(pool, user, updates, admin=False)
        user = await self.users.set_password(pool, user, new_password, permanent=True)
        step = await self.second_factor(ctx, pool, client, user, amr)
        if isinstance(step, Authenticated):
            return replace(step, token_source="TokenGeneration_NewPasswordChallenge")
        return step

    # --- refresh -------------------------------------------------------------------

    async def refresh(self, ctx: RequestContext, pool: Pool, client: Client, token: str) -> Authenticated:
        """A live refresh token of ``client``: its user, signed in when the family began.

        ``Tokens.complete`` issues again within the token's family (and rotates it when the
        client asks for rotation); REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken and the
        token endpoint's ``refresh_token`` grant all come through here.
        """
        record = await self.tokens.find_refresh(token, client)
        user = await self.refresh_user(pool, record.sub)
        scopes = record.doc.get("scopes")
        return Authenticated(
            pool,
            client,
            user,
            auth_time=int(record.doc["auth_time"]),
            amr=tuple(record.doc.get("amr") or ()),
            scopes=tuple(scopes) if scopes is not None else None,
            refresh=record,
        )

    async def refresh_user(self, pool: Pool, sub: str) -> User:
        """The live user behind a refresh token."""
        user = await self.tokens.store.cached_user_by_sub(pool.id, sub)
        if user is None:
            raise NotAuthorizedException("Invalid Refresh Token")
        if not user.enabled:
            raise NotAuthorizedException("User is disabled.")
        return user

    async def get_tokens_from_refresh(self, ctx: RequestContext, client_id: str, token: str) -> Authenticated:
        """GetTokensFromRefreshToken (the door has checked ClientSecret); with rotation on,
        ``Tokens.complete`` replaces the refresh token with a new one."""
        pool, client = await self.client_of(client_id)
        if not flow_enabled(client, "REFRESH_TOKEN_AUTH"):
            raise InvalidParameterException("REFRESH_TOKEN_AUTH flow not enabled for this client")
        return await self.refresh(ctx, pool, client, token)

    # --- sign-out and revocation ---------------------------------------------------------

    async def revoke(self, ctx: RequestContext, client_id: str, token: str) -> None:
        """RevokeToken (the door has checked ClientSecret): the refresh token and every
        access/ID token issued from it."""
        _, client = await self.client_of(client_id)
        if not client.doc.get("EnableTokenRevocation", True):
            raise UnsupportedOperationException("Token revocation is not enabled for this app client")
        if token.count(".") == 2:
            raise UnsupportedTokenTypeException("Only refresh tokens can be revoked")
        record = await self.tokens.lookup_refresh(token)
        if record is None:
            return  # RFC 7009 2.2: an invalid token is not an error
        if record.client_id != client.id:
            raise UnauthorizedException("The refresh token was not issued to this client")
        await self.tokens.store.revoke_refresh_family(record.origin_jti, self.clock.now())

    async def user_of_access_token(
        self, access_token: str, *, required_scope: str | None = ADMIN_SCOPE
    ) -> tuple[Pool, User, dict[str, Any]]:
        """The live user behind an access token that may call the user's own operations
        (``required_scope=None``: the caller checks the scopes, as the userInfo endpoint does)."""
        claims = await self.tokens.verify(access_token, token_use="access")
        pool = await self.tokens.store.cached_pool(claims["iss"].rsplit("/", 1)[1])
        if pool is None:
            raise NotAuthorizedException("Invalid Access Token")
        if required_scope is not None and required_scope not in str(claims.get("scope", "")).split():
            raise NotAuthorizedException("Access Token does not have required scopes")
        # The app client it was issued to must still exist: deleting a client ends its tokens.
        issued_to = await self.tokens.store.cached_client(str(claims.get("client_id", "")))
        if issued_to is None or issued_to[0].pool_id != pool.id:
            raise NotAuthorizedException("Invalid Access Token")
        user = await self.tokens.store.cached_user_by_sub(pool.id, claims["sub"])
        if user is None:
            raise NotAuthorizedException("User does not exist.")
        if int(claims["iat"]) < int(user.tokens_valid_after):
            raise NotAuthorizedException("Access Token has been revoked")
        if not user.enabled:
            raise NotAuthorizedException("User is disabled.")
        return pool, user, claims

    async def global_sign_out(self, pool: Pool, user: User) -> None:
        await self.users.store.sign_out_user(pool.id, user.sub, self.clock.now())
