"""Self-service sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode.

Sources: Amazon Cognito API reference (SignUp, ConfirmSignUp, ResendConfirmationCode);
developer guide, "Signing up and confirming user accounts" (the code goes to the
auto-verified attribute, the phone number when both are; confirming verifies that
attribute), "Managing error responses" (PreventUserExistenceErrors). Codes: codes.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cognate.core.attribute_access import check_user_writes
from cognate.core.codes import Codes, Delivery, delivery_for
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

SIMULATED = {"Destination": "+*******0000", "DeliveryMedium": "SMS", "AttributeName": "phone_number"}


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

    async def sign_up(self, ctx: RequestContext, client_id: str, req: dict[str, Any]) -> dict[str, Any]:
        pool, client = await self.flows.client_of(client_id)
        username, password = req["Username"], req["Password"]
        if (pool.doc.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
            raise NotAuthorizedException("SignUp is not permitted for this user pool")
        attrs = {a["Name"]: a.get("Value", "") for a in req.get("UserAttributes") or []}
        check_writable(client, attrs, pool)
        validation = {a["Name"]: a.get("Value", "") for a in req.get("ValidationData") or []}
        attrs, answer = await self.users.pre_sign_up(
            ctx, pool, client, "PreSignUp_SignUp", username, attrs, validation
        )
        status = UserStatus.CONFIRMED if answer.auto_confirm else UserStatus.UNCONFIRMED
        user = await self.users.create(pool, username, password, attrs, status, admin=False)
        out: dict[str, Any] = {"UserConfirmed": answer.auto_confirm, "UserSub": user.sub}
        delivery = auto_verified_delivery(pool, user)
        if delivery is not None and not answer.auto_confirm:
            try:
                out["CodeDeliveryDetails"] = await self.codes.send(
                    pool, user, "signup", delivery, ctx=ctx, source="CustomMessage_SignUp", client=client
                )
            except LAMBDA_ERRORS:
                await self.users.delete(pool, user)  # the sign-up did not happen
                raise
        return out

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

    async def confirm(self, ctx: RequestContext, client_id: str, req: dict[str, Any]) -> None:
        pool, client = await self.flows.client_of(client_id)
        user = await self.known_user(pool, client, req["Username"])
        if user is None:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        if user.status != UserStatus.UNCONFIRMED:
            raise NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
        force = bool(req.get("ForceAliasCreation"))
        # A step that fails after the code (AliasExistsException, the PostConfirmation
        # function) gives the code back.
        async with self.codes.redeeming(pool, user, "signup", str(req["ConfirmationCode"])) as doc:
            attribute = doc.get("attribute")
            verified = {f"{attribute}_verified": "true"} if attribute else {}
            confirmed = replace(user, attributes={**user.attributes, **verified}, status=UserStatus.CONFIRMED)
            await self.post_confirmation(ctx, pool, client, "PostConfirmation_ConfirmSignUp", confirmed)
            await self.users.confirm_sign_up(pool, user, doc.get("attribute"), force_alias=force)

    async def resend(self, ctx: RequestContext, client_id: str, req: dict[str, Any]) -> dict[str, Any]:
        pool, client = await self.flows.client_of(client_id)
        user = await self.known_user(pool, client, req["Username"])
        hide = client.doc.get("PreventUserExistenceErrors") == "ENABLED"
        auto = pool.doc.get("AutoVerifiedAttributes") or []
        if not ("phone_number" in auto or "email" in auto):
            raise InvalidParameterException("Auto verification not turned on.")  # the pool's, for anyone
        if user is None or (hide and user.status != UserStatus.UNCONFIRMED):
            # PreventUserExistenceErrors: an unknown or already confirmed user looks, counts
            # and takes as one who is sent a code; nothing is sent.
            attribute = "phone_number" if "phone_number" in auto else "email"
            details = await self.codes.simulate(ctx, pool, "signup", req["Username"], attribute)
            return {"CodeDeliveryDetails": details}
        if user.status != UserStatus.UNCONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        delivery = auto_verified_delivery(pool, user)
        if delivery is None:
            raise InvalidParameterException("Auto verification not turned on.")
        sent = await self.codes.send(
            pool, user, "signup", delivery, ctx=ctx, source="CustomMessage_ResendCode", client=client
        )
        return {"CodeDeliveryDetails": sent}


def check_writable(client: Client, attrs: dict[str, Any], pool: Pool | None = None) -> None:
    """A client may only write what its WriteAttributes allow (attribute_access.py)."""
    check_user_writes(client, attrs, pool)
