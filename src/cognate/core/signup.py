"""Self-service sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode.

Sources: Amazon Cognito API reference (SignUp, ConfirmSignUp, ResendConfirmationCode);
developer guide, "Signing up and confirming user accounts" (the code goes to the
auto-verified attribute, the phone number when both are; confirming verifies that
attribute), "Managing error responses" (PreventUserExistenceErrors). Codes: codes.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cognate.core.attribute_access import check_user_writes
from cognate.core.auth_events import RESEND_CODE, SIGN_UP, note_user
from cognate.core.codes import CodeDelivery, Codes, Delivery, delivery_for
from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User, UserStatus
from cognate.core.triggers import LAMBDA_ERRORS, Triggers
from cognate.errors import (
    CodeMismatchException,
    InvalidParameterException,
    NotAuthorizedException,
    UserNotFoundException,
)

if TYPE_CHECKING:
    from cognate.core.auth_flows import AuthFlows


@dataclass(frozen=True)
class SignUpResult:
    """A sign-up: the new user, whether it is confirmed already (PreSignUp's autoConfirmUser),
    and where its confirmation code went (None when none was sent)."""

    user: User
    confirmed: bool
    delivery: CodeDelivery | None = None


def auto_verified_delivery(pool: Pool, user: User) -> Delivery | None:
    """Where a verification code goes: the auto-verified phone number, else email."""
    auto = pool.doc.get("AutoVerifiedAttributes") or []
    for attribute in ("phone_number", "email"):
        if attribute in auto and user.attributes.get(attribute):
            return delivery_for(attribute)
    return None


class SignUps:
    def __init__(self, flows: AuthFlows, codes: Codes, triggers: Triggers) -> None:
        self.flows = flows
        self.users = flows.users
        self.codes = codes
        self.triggers = triggers

    async def sign_up(
        self,
        ctx: RequestContext,
        client_id: str,
        username: str,
        password: str,
        attributes: Mapping[str, str],
        validation_data: Mapping[str, str] | None = None,
    ) -> SignUpResult:
        """SignUp (and the hosted sign-up page): a new user, UNCONFIRMED unless PreSignUp
        confirms it, and a code to the auto-verified attribute (a ``SignUp`` event)."""
        return await self.flows.history.observe(
            ctx, SIGN_UP, self._sign_up(ctx, client_id, username, password, attributes, validation_data)
        )

    async def _sign_up(
        self,
        ctx: RequestContext,
        client_id: str,
        username: str,
        password: str,
        attributes: Mapping[str, str],
        validation_data: Mapping[str, str] | None,
    ) -> SignUpResult:
        pool, client = await self.flows.client_of(client_id)
        if (pool.doc.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
            raise NotAuthorizedException("SignUp is not permitted for this user pool")
        attrs = dict(attributes)
        check_writable(client, attrs, pool)
        validation = dict(validation_data or {})
        attrs, answer = await self.users.pre_sign_up(
            ctx, pool, client, "PreSignUp_SignUp", username, attrs, validation
        )
        status = UserStatus.CONFIRMED if answer.auto_confirm else UserStatus.UNCONFIRMED
        user = await self.users.create(pool, username, password, attrs, status, admin=False)
        sent = None
        delivery = auto_verified_delivery(pool, user)
        if delivery is not None and not answer.auto_confirm:
            try:
                sent = await self.codes.send(
                    pool, user, "signup", delivery, ctx=ctx, source="CustomMessage_SignUp", client=client
                )
            except LAMBDA_ERRORS:
                await self.users.delete(pool, user)  # the sign-up did not happen
                raise
        note_user(pool, user)
        return SignUpResult(user, confirmed=answer.auto_confirm, delivery=sent)

    async def post_confirmation(
        self, ctx: RequestContext, pool: Pool, client: Client, source: str, confirmed: User
    ) -> None:
        """The pool's PostConfirmation function, for ConfirmSignUp and ConfirmForgotPassword,
        with the user as they will be stored once it has answered."""
        await self.triggers.post_confirmation(ctx, pool, client, source, confirmed)

    async def known_user(self, pool: Pool, client: Client, typed: str) -> User | None:
        """The user a public operation names; None only when PreventUserExistenceErrors hides it."""
        user = await self.users.find(pool, typed)
        if user is None and client.doc.get("PreventUserExistenceErrors") != "ENABLED":
            raise UserNotFoundException("Username/client id combination not found.")
        return user

    async def confirm(
        self, ctx: RequestContext, client_id: str, username: str, code: str, *, force_alias: bool = False
    ) -> None:
        """ConfirmSignUp: the code verifies the attribute it went to and confirms the user."""
        pool, client = await self.flows.client_of(client_id)
        user = await self.known_user(pool, client, username)
        if user is None:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        if user.status != UserStatus.UNCONFIRMED:
            raise NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
        # A step that fails after the code (AliasExistsException, the PostConfirmation
        # function) gives the code back.
        async with self.codes.redeeming(pool, user, "signup", code) as doc:
            attribute = doc.get("attribute")
            verified = {f"{attribute}_verified": "true"} if attribute else {}
            confirmed = replace(user, attributes={**user.attributes, **verified}, status=UserStatus.CONFIRMED)
            await self.post_confirmation(ctx, pool, client, "PostConfirmation_ConfirmSignUp", confirmed)
            await self.users.confirm_sign_up(pool, user, doc.get("attribute"), force_alias=force_alias)

    async def resend(self, ctx: RequestContext, client_id: str, username: str) -> CodeDelivery:
        """ResendConfirmationCode: a new sign-up code; where it went (a ``ResendCode`` event)."""
        return await self.flows.history.observe(ctx, RESEND_CODE, self._resend(ctx, client_id, username))

    async def _resend(self, ctx: RequestContext, client_id: str, username: str) -> CodeDelivery:
        pool, client = await self.flows.client_of(client_id)
        user = await self.known_user(pool, client, username)
        hide = client.doc.get("PreventUserExistenceErrors") == "ENABLED"
        auto = pool.doc.get("AutoVerifiedAttributes") or []
        if not ("phone_number" in auto or "email" in auto):
            raise InvalidParameterException("Auto verification not turned on.")  # the pool's, for anyone
        if user is None or (hide and user.status != UserStatus.UNCONFIRMED):
            # PreventUserExistenceErrors: an unknown or already confirmed user looks, counts
            # and takes as one who is sent a code; nothing is sent.
            attribute = "phone_number" if "phone_number" in auto else "email"
            return await self.codes.simulate(ctx, pool, "signup", username, attribute)
        note_user(pool, user)
        if user.status != UserStatus.UNCONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        delivery = auto_verified_delivery(pool, user)
        if delivery is None:
            raise InvalidParameterException("Auto verification not turned on.")
        return await self.codes.send(
            pool, user, "signup", delivery, ctx=ctx, source="CustomMessage_ResendCode", client=client
        )


def check_writable(client: Client, attrs: dict[str, Any], pool: Pool | None = None) -> None:
    """A client may only write what its WriteAttributes allow (attribute_access.py)."""
    check_user_writes(client, attrs, pool)
