"""A user's own account, and password resets.

With an access token (scope ``aws.cognito.signin.user.admin``): ChangePassword,
UpdateUserAttributes, DeleteUserAttributes, GetUserAttributeVerificationCode,
VerifyUserAttribute, DeleteUser. With a client id: ForgotPassword and
ConfirmForgotPassword. For administrators: AdminResetUserPassword.

Sources: Amazon Cognito API reference for each operation; developer guide, "Recovering
user accounts" (AccountRecoverySetting: verified_phone_number / verified_email by
priority, admin_only; without a setting, a verified phone number, else a verified
email), "Verifying updates to email addresses and phone numbers".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cognate.core import attributes, password_policy
from cognate.core.auth_events import FORGOT_PASSWORD as FORGOT_PASSWORD_EVENT
from cognate.core.auth_events import PASSWORD_CHANGE, note_user
from cognate.core.codes import LIFETIME_S, CodeDelivery, Codes, Delivery, delivery_for
from cognate.core.context import RequestContext, admin_context
from cognate.core.entities import Pool, User, UserStatus
from cognate.core.migration import FORGOT_PASSWORD, Migration
from cognate.core.sign_in_names import index_of
from cognate.core.signup import SignUps, auto_verified_delivery, check_writable
from cognate.core.triggers import LAMBDA_ERRORS
from cognate.core.users import username_key
from cognate.errors import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    NotAuthorizedException,
)

if TYPE_CHECKING:
    from cognate.core.auth_flows import AuthFlows

PENDING_KIND = "pending-attribute"  # a new address waiting for its code (see _held_until_verified)
NO_RECOVERY = "Cannot reset password for the user as there is no registered/verified email or phone_number"


def likely_recovery(pool: Pool) -> str:
    """The attribute a reset code of this pool most likely goes to (for a simulated answer):
    the first recovery mechanism whose attribute the pool uses (verifies, or signs in with)."""
    used = {
        *(pool.doc.get("AutoVerifiedAttributes") or []),
        *(pool.doc.get("UsernameAttributes") or []),
        *(pool.doc.get("AliasAttributes") or []),
    }
    mechanisms = (pool.doc.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms") or [
        {"Priority": 1, "Name": "verified_phone_number"},
        {"Priority": 2, "Name": "verified_email"},
    ]
    for mechanism in sorted(mechanisms, key=lambda m: int(m.get("Priority", 1))):
        attribute = {"verified_phone_number": "phone_number", "verified_email": "email"}.get(
            str(mechanism.get("Name"))
        )
        if attribute and attribute in used:
            return attribute
    return "email"


def recovery_delivery(pool: Pool, user: User) -> Delivery | None:
    """Where a reset code goes, by the pool's AccountRecoverySetting (or Cognito's default)."""
    mechanisms = (pool.doc.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms") or [
        {"Priority": 1, "Name": "verified_phone_number"},
        {"Priority": 2, "Name": "verified_email"},
    ]
    for mechanism in sorted(mechanisms, key=lambda m: int(m.get("Priority", 1))):
        name = mechanism.get("Name")
        if name == "admin_only":
            raise NotAuthorizedException("Only an administrator can reset this user's password.")
        attribute = {"verified_phone_number": "phone_number", "verified_email": "email"}.get(str(name))
        if (
            attribute
            and user.attributes.get(attribute)
            and user.attributes.get(f"{attribute}_verified") == "true"
        ):
            return delivery_for(attribute)
    return None


class Account:
    def __init__(self, flows: AuthFlows, codes: Codes, signups: SignUps) -> None:
        self.triggers = signups.triggers
        self.migration = Migration(flows.users, signups.triggers)
        self.flows = flows
        self.users = flows.users
        self.codes = codes
        self.signups = signups

    async def _owner(self, access_token: str) -> tuple[Pool, User, dict[str, Any]]:
        return await self.flows.user_of_access_token(access_token)

    # --- with an access token ----------------------------------------------------------

    async def change_password(
        self, access_token: str, previous: str, proposed: str, ctx: RequestContext | None = None
    ) -> None:
        """ChangePassword (a ``PasswordChange`` event of the user's history)."""
        await self.flows.history.observe(
            ctx or admin_context(), PASSWORD_CHANGE, self._change_password(access_token, previous, proposed)
        )

    async def _change_password(self, access_token: str, previous: str, proposed: str) -> None:
        pool, user, claims = await self._owner(access_token)
        note_user(pool, user)
        _, client = await self.flows.client_of(str(claims["client_id"]))
        password_policy.check(password_policy.policy_of(pool.doc), proposed)
        await self.flows.verify_password(pool, client, user.username, user, previous)
        await self.users.set_password(pool, user, proposed, permanent=True)

    async def update_attributes(
        self, access_token: str, changes: Mapping[str, str], ctx: RequestContext | None = None
    ) -> list[CodeDelivery]:
        """UpdateUserAttributes (name -> value); where the codes to changed addresses went."""
        pool, user, claims = await self._owner(access_token)
        _, client = await self.flows.client_of(str(claims["client_id"]))
        check_writable(client, dict(changes), pool)
        updates = [{"Name": name, "Value": value} for name, value in changes.items()]
        held = self._held_until_verified(pool, user, updates)
        if held:
            # Checked as a write now (schema, aliases' shape), applied once verified.
            attributes.check_writes(pool.doc["SchemaAttributes"], held, creating=False, admin=False)
            updates = [u for u in updates if u["Name"] not in held]
        previous = user
        if updates:
            user = await self.users.update_attributes(pool, user, updates, admin=False)
        sent: list[CodeDelivery] = []
        source = "CustomMessage_UpdateUserAttribute"
        try:
            for attribute in ("email", "phone_number"):
                value = user.attributes.get(attribute)
                changed = value and value != previous.attributes.get(attribute)
                if changed and attribute in (pool.doc.get("AutoVerifiedAttributes") or []):
                    sent.append(
                        await self.codes.send(
                            pool,
                            user,
                            "attribute",
                            delivery_for(attribute),
                            ctx=ctx,
                            source=source,
                            client=client,
                        )
                    )
            for attribute, value in held.items():
                sent.append(
                    await self.codes.send(
                        pool,
                        user,
                        "attribute",
                        delivery_for(attribute),
                        to=value,
                        ctx=ctx,
                        source=source,
                        client=client,
                    )
                )
                await self.users.store.put(
                    PENDING_KIND,
                    f"{pool.id}:{user.sub}:{attribute}",
                    {"value": value},
                    LIFETIME_S["attribute"],
                )
        except LAMBDA_ERRORS:  # the update did not happen
            if user is not previous:
                await self.users.store.update_user(
                    previous, username_key(pool, previous.username), index_of(pool, previous)
                )
            raise
        return sent

    @staticmethod
    def _held_until_verified(pool: Pool, user: User, updates: list[dict[str, str]]) -> dict[str, str]:
        """The new addresses that wait for their code before they replace a verified one.

        UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate (developer
        guide, "Verifying updates to email addresses and phone numbers"): with the setting,
        a new email or phone number does not replace the verified one -- for sign-in and
        for messages -- until the user confirms the code sent to it; without it, the new
        value replaces the old one at once, unverified.
        """
        settings = pool.doc.get("UserAttributeUpdateSettings") or {}
        listed = set(settings.get("AttributesRequireVerificationBeforeUpdate") or [])
        held = {}
        for update in updates:
            name, value = update["Name"], update.get("Value", "")
            if (
                name in ("email", "phone_number")
                and name in listed
                and value
                and value != user.attributes.get(name)
                and user.attributes.get(f"{name}_verified") == "true"
            ):
                held[name] = value
        return held

    async def _pending(self, pool: Pool, user: User, attribute: str) -> str | None:
        doc = await self.users.store.get(PENDING_KIND, f"{pool.id}:{user.sub}:{attribute}")
        return str(doc["value"]) if doc and doc.get("value") else None

    async def delete_attributes(self, access_token: str, names: list[str]) -> None:
        pool, user, claims = await self._owner(access_token)
        _, client = await self.flows.client_of(str(claims["client_id"]))
        check_writable(client, dict.fromkeys(names, ""), pool)
        await self.users.delete_attributes(pool, user, names)

    async def attribute_code(
        self, access_token: str, attribute: str, ctx: RequestContext | None = None
    ) -> CodeDelivery:
        pool, user, claims = await self._owner(access_token)
        _, client = await self.flows.client_of(str(claims["client_id"]))
        if attribute not in ("email", "phone_number"):
            raise InvalidParameterException(
                f"{attribute} cannot be verified: only email and phone_number can."
            )
        pending = await self._pending(pool, user, attribute)  # a new address waiting for its code
        if not user.attributes.get(attribute) and pending is None:
            raise InvalidParameterException(f"The user has no {attribute} to verify.")
        return await self.codes.send(
            pool,
            user,
            "attribute",
            delivery_for(attribute),
            to=pending,
            ctx=ctx,
            source="CustomMessage_VerifyUserAttribute",
            client=client,
        )

    async def verify_attribute(self, access_token: str, attribute: str, code: str) -> None:
        pool, user, _ = await self._owner(access_token)
        pending = await self._pending(pool, user, attribute)
        async with self.codes.redeeming(pool, user, "attribute", code, to=pending) as doc:
            if doc.get("attribute") != attribute:
                raise CodeMismatchException("Invalid verification code provided, please try again.")
            verified = [{"Name": f"{attribute}_verified", "Value": "true"}]
            if pending is not None:  # the new address, proven: it replaces the old one now
                verified.insert(0, {"Name": attribute, "Value": pending})
            await self.users.update_attributes(pool, user, verified)
        if pending is not None:
            await self.users.store.delete(PENDING_KIND, f"{pool.id}:{user.sub}:{attribute}")

    async def delete_user(self, access_token: str) -> None:
        pool, user, _ = await self._owner(access_token)
        await self.users.delete(pool, user)

    # --- password resets ----------------------------------------------------------------

    async def forgot_password(self, ctx: RequestContext, client_id: str, typed: str) -> CodeDelivery:
        """ForgotPassword: a reset code by the pool's AccountRecoverySetting; where it went."""
        return await self.flows.history.observe(
            ctx, FORGOT_PASSWORD_EVENT, self._forgot_password(ctx, client_id, typed)
        )

    async def _forgot_password(self, ctx: RequestContext, client_id: str, typed: str) -> CodeDelivery:
        pool, client = await self.flows.client_of(client_id)
        user = await self.users.find(pool, typed)
        if user is None:  # a user the pool's UserMigration function may know
            user = await self.migration.migrate(ctx, pool, client, FORGOT_PASSWORD, typed, None)
        if user is None:
            user = await self.signups.known_user(pool, client, typed)
        if user is None:  # PreventUserExistenceErrors: looks, counts and takes as a real one
            return await self.codes.simulate(ctx, pool, "reset", typed, likely_recovery(pool))  # nothing sent
        note_user(pool, user)
        if not user.enabled:
            raise NotAuthorizedException("User is disabled.")
        delivery = recovery_delivery(pool, user)
        if delivery is None:
            raise InvalidParameterException(NO_RECOVERY)
        return await self.codes.send(
            pool, user, "reset", delivery, ctx=ctx, source="CustomMessage_ForgotPassword", client=client
        )

    async def confirm_forgot_password(
        self, ctx: RequestContext, client_id: str, username: str, code: str, password: str
    ) -> None:
        """ConfirmForgotPassword: the reset code and the new password (a ``PasswordChange``
        event of the user's history, as the password changes)."""
        await self.flows.history.observe(
            ctx, PASSWORD_CHANGE, self._confirm_forgot_password(ctx, client_id, username, code, password)
        )

    async def _confirm_forgot_password(
        self, ctx: RequestContext, client_id: str, username: str, code: str, password: str
    ) -> None:
        pool, client = await self.flows.client_of(client_id)
        # The new password is judged before the user is looked up: a weak one gets the same
        # answer whether or not the user exists.
        password_policy.check(password_policy.policy_of(pool.doc), password)
        user = await self.signups.known_user(pool, client, username)
        if user is None:  # PreventUserExistenceErrors: a wrong code, counted as a real one
            await self.codes.redeem_unknown(pool, "reset", username)
            return
        note_user(pool, user)
        status = user.status if user.status == UserStatus.UNCONFIRMED else UserStatus.CONFIRMED
        try:
            # A failing PostConfirmation function gives the code back (codes.redeeming).
            async with self.codes.redeeming(pool, user, "reset", code):
                await self.signups.post_confirmation(
                    ctx, pool, client, "PostConfirmation_ConfirmForgotPassword", replace(user, status=status)
                )
        except ExpiredCodeException:
            if client.doc.get("PreventUserExistenceErrors") == "ENABLED":
                # No code outstanding is what an unknown user also has: the same answer.
                raise CodeMismatchException("Invalid verification code provided, please try again.") from None
            raise
        user = await self.users.set_password(pool, user, password, permanent=True)
        if user.status == UserStatus.RESET_REQUIRED:  # set_password keeps UNCONFIRMED as it is
            user = replace(user, status=UserStatus.CONFIRMED)
            await self.users.store.update_user(user, username_key(pool, user.username))

    async def admin_reset_password(self, pool: Pool, user: User, ctx: RequestContext | None = None) -> None:
        """The user must set a new password with a code before signing in again.

        A user who never set a password (FORCE_CHANGE_PASSWORD) has none to reset:
        Cognito refuses (the administrator resends the invitation instead).
        """
        if user.status == UserStatus.FORCE_CHANGE_PASSWORD:
            raise NotAuthorizedException("User password cannot be reset in the current state.")
        delivery = recovery_delivery(pool, user) or auto_verified_delivery(pool, user)
        reset = replace(user, status=UserStatus.RESET_REQUIRED, modified=self.flows.clock.now())
        if delivery is not None:  # the message first: a failing CustomMessage changes nothing
            await self.codes.send(
                pool,
                reset,
                "reset",
                delivery,
                ctx=ctx or admin_context(),
                source="CustomMessage_ForgotPassword",
            )
        await self.users.store.update_user(reset, username_key(pool, user.username))
