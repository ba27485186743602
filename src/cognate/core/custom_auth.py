"""CUSTOM_AUTH: sign-in driven by the pool's Define, Create and VerifyAuthChallengeResponse functions.

Developer guide, "Custom authentication challenge Lambda triggers" and "Define auth
challenge Lambda trigger"; API reference, InitiateAuth / RespondToAuthChallenge:

1. InitiateAuth (CUSTOM_AUTH, ``USERNAME``; with ``SRP_A`` and ``CHALLENGE_NAME: SRP_A``
   for a password first): PreAuthentication, then DefineAuthChallenge with a session of
   ``[]`` (or ``[{SRP_A, true}]``). Its answer: ``issueTokens``, ``failAuthentication``,
   or a ``challengeName``: PASSWORD_VERIFIER (the SRP step, srp_sign_in.py, whose
   success is recorded in the session and handed back to Define) or CUSTOM_CHALLENGE
   (CreateAuthChallenge makes it; its ``publicChallengeParameters`` go to the client,
   its ``privateChallengeParameters`` and ``challengeMetadata`` stay in the Session).
2. RespondToAuthChallenge (CUSTOM_CHALLENGE, ``ANSWER``): VerifyAuthChallengeResponse
   judges it against the private parameters; the result joins the session and Define
   decides again.

The Session lives for the client's AuthSessionValidity minutes and is single-use: a
step that fails in a function (raise, timeout, bad answer) leaves it as it was, so the
same answer can be sent again; a step that succeeds redeems it before anything is
issued, so two answers on one Session never both sign in. Wrong answers count toward
the user's lockout like wrong passwords. The private parameters (the expected answer)
are sealed at rest with the master key. A wrong password in the SRP step ends the
sign-in at once (NotAuthorizedException, counted). A sign-in may present at most
``MAX_CHALLENGES`` custom challenges (Cognito documents no bound; this one is
Cognate's, and past it the sign-in fails as if Define had said so).
With PreventUserExistenceErrors ENABLED an unknown user goes through the functions
with ``userNotFound: true`` and can never be issued tokens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cognate.core.auth_events import continue_event, event_id_for_session, note_user
from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User, UserStatus
from cognate.core.outcome import Challenge, SignInStep
from cognate.core.triggers import ChallengeStep, CreatedChallenge
from cognate.core.users import username_key
from cognate.errors import (
    InvalidLambdaResponseException,
    InvalidParameterException,
    NotAuthorizedException,
    UserNotConfirmedException,
    UserNotFoundException,
)

if TYPE_CHECKING:
    from cognate.core.auth_flows import AuthFlows

CUSTOM = "CUSTOM_CHALLENGE"
INCORRECT = "Incorrect username or password."
NOT_CONFIGURED = "Custom auth lambda trigger is not configured for the user pool."
MAX_CHALLENGES = 10
PRIVATE_PURPOSE = "custom-challenge-private"


@dataclass(frozen=True)
class _Who:
    typed: str
    user: User | None

    @property
    def username(self) -> str:
        return self.user.username if self.user else self.typed


class CustomAuth:
    def __init__(self, flows: AuthFlows) -> None:
        self.flows = flows
        self.triggers = flows.triggers

    # --- InitiateAuth ------------------------------------------------------------------

    async def start(
        self, ctx: RequestContext, pool: Pool, client: Client, params: Mapping[str, str]
    ) -> SignInStep:
        typed = params.get("USERNAME") or ""
        if not typed:
            raise InvalidParameterException("Missing required parameter USERNAME")
        if not self.triggers.configured(pool, "DefineAuthChallenge"):
            raise NotAuthorizedException(NOT_CONFIGURED)
        user = await self.flows.users.find(pool, typed)
        hidden = client.doc.get("PreventUserExistenceErrors") == "ENABLED"
        if user is None and not hidden:
            raise UserNotFoundException("User does not exist.")
        if user is not None:
            if user.status == UserStatus.UNCONFIRMED:
                raise UserNotConfirmedException("User is not confirmed.")
            if not user.enabled:
                raise NotAuthorizedException("User is disabled.")
        await self.flows.pre_authentication(ctx, pool, client, typed, user)
        srp_a = params.get("SRP_A") or ""
        session: list[dict[str, Any]] = []
        if srp_a:
            session.append({"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None})
        who = _Who(typed, user)
        step = await self._define(ctx, pool, client, who, session)
        return await self._decided(ctx, pool, client, who, session, step, None, srp_a)

    # --- after the SRP step of a custom sign-in -----------------------------------------

    async def after_password(
        self, ctx: RequestContext, pool: Pool, client: Client, user: User, custom: Mapping[str, Any]
    ) -> SignInStep:
        """The password was proven (srp_sign_in.py calls this): Define hears it, and goes on."""
        session = [
            *custom["session"],
            {"challengeName": "PASSWORD_VERIFIER", "challengeResult": True, "challengeMetadata": None},
        ]
        who = _Who(str(custom["typed"]), user)
        step = await self._define(ctx, pool, client, who, session)
        return await self._decided(ctx, pool, client, who, session, step, None, "")

    # --- RespondToAuthChallenge(CUSTOM_CHALLENGE) -----------------------------------------

    async def answer(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        responses: Mapping[str, str],
        session_token: str | None,
    ) -> SignInStep:
        state = await self.flows.sessions.peek(session_token)
        if state.get("client_id") != client.id or state.get("challenge") != CUSTOM:
            raise NotAuthorizedException("Invalid session for the user, session is expired.")
        custom = state["custom"]
        user = await self.flows.user_by_sub(pool, state["sub"]) if state.get("sub") else None
        if state.get("sub") and user is None:
            raise NotAuthorizedException("Invalid session for the user, session is expired.")
        continue_event(state.get("event_id"))  # the sign-in's event, started by the first step
        answer = responses.get("ANSWER")
        if answer is None:
            raise InvalidParameterException("Missing required parameter ANSWER")
        who = _Who(str(custom["typed"]), user)
        correct = await self.triggers.verify_auth_challenge_response(
            ctx, pool, client, who.username, user, self._unseal(custom["private"]), answer
        )
        key = user.sub if user else "unknown:" + username_key(pool, who.typed)
        async with self.flows.lockout.attempt(pool.id, key) as attempt:  # wrong answers count
            attempt.success = correct
        session = [
            *custom["session"],
            {
                "challengeName": CUSTOM,
                "challengeResult": correct,
                "challengeMetadata": custom.get("metadata"),
            },
        ]
        step = await self._define(ctx, pool, client, who, session)
        return await self._decided(ctx, pool, client, who, session, step, session_token, "")

    async def _define(
        self, ctx: RequestContext, pool: Pool, client: Client, who: _Who, session: list[dict[str, Any]]
    ) -> ChallengeStep:
        return await self.triggers.define_auth_challenge(ctx, pool, client, who.username, who.user, session)

    def _unseal(self, sealed: str) -> dict[str, Any]:
        private: dict[str, Any] = json.loads(self.flows.clients.sealer.unseal(sealed, PRIVATE_PURPOSE))
        return private

    # --- one decision of DefineAuthChallenge -------------------------------------------------

    async def _decided(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        who: _Who,
        session: list[dict[str, Any]],
        step: Any,
        redeem: str | None,
        srp_a: str,
    ) -> SignInStep:
        """Act on Define's answer; ``redeem`` (the Session answered) is used up only now."""
        if who.user is not None:  # the user's sign-in history: one event for the whole sign-in
            note_user(pool, who.user)
        asked = sum(1 for s in session if s["challengeName"] == CUSTOM)
        if step.fail or (not step.issue_tokens and step.challenge == CUSTOM and asked >= MAX_CHALLENGES):
            if redeem:
                await self.flows.sessions.redeem(redeem)
            raise NotAuthorizedException(INCORRECT)
        if step.issue_tokens:
            if who.user is None:  # an unknown user never signs in, whatever the functions say
                raise NotAuthorizedException(INCORRECT)
            if redeem:
                await self.flows.sessions.redeem(redeem)
            password = any(s["challengeName"] == "PASSWORD_VERIFIER" for s in session)
            amr = ("pwd", "custom") if password else ("custom",)
            return await self.flows.authenticated(ctx, pool, client, who.user, amr)
        if step.challenge == "PASSWORD_VERIFIER":
            if not srp_a:
                raise InvalidLambdaResponseException(
                    "Invalid lambda response: PASSWORD_VERIFIER needs SRP_A in the InitiateAuth request"
                )
            custom = {"typed": who.typed, "session": session}
            return await self.flows.srp.start(ctx, pool, client, who.typed, srp_a, custom=custom)
        if step.challenge != CUSTOM:
            raise InvalidLambdaResponseException(
                f"Invalid lambda response: unsupported challengeName {step.challenge}"
            )
        created: CreatedChallenge = await self.triggers.create_auth_challenge(
            ctx, pool, client, who.username, who.user, CUSTOM, session
        )
        if redeem:
            await self.flows.sessions.redeem(redeem)
        event_id = event_id_for_session() if who.user is not None else None
        token = await self.flows.sessions.start(
            {
                "event_id": event_id,
                "challenge": CUSTOM,
                "pool_id": pool.id,
                "client_id": client.id,
                "sub": who.user.sub if who.user else None,
                "username": who.username,
                "custom": {
                    "typed": who.typed,
                    "session": session,
                    # The expected answer is a secret: sealed at rest, like SRP's ephemeral.
                    "private": self.flows.clients.sealer.seal(json.dumps(created.private), PRIVATE_PURPOSE),
                    "metadata": created.metadata,
                },
            },
            int(client.doc.get("AuthSessionValidity") or 3),
        )
        return Challenge(name=CUSTOM, session=token, parameters={**created.public, "USERNAME": who.username})
