"""Lazy user migration: the pool's UserMigration function brings a user it knows into the pool.

Developer guide, "Migrate user Lambda trigger": Cognito calls the function when a user
it does not know signs in with a password (``UserMigration_Authentication``, the typed
password in the event, which the function checks against the old store) or asks for a
password reset (``UserMigration_ForgotPassword``). The answer's ``userAttributes``,
``finalUserStatus`` (CONFIRMED or RESET_REQUIRED), ``messageAction`` (SUPPRESS: no
welcome message), ``desiredDeliveryMediums`` and ``forceAliasCreation`` make the user,
who then goes on as if they had been there: a sign-in with the password, a reset code.

It cannot run for USER_SRP_AUTH (nor for the SRP step of CUSTOM_AUTH): Cognito never
sees the password there, so there is nothing to hand the function. Clients that must
migrate users sign in with USER_PASSWORD_AUTH until their users have moved.

A function that does not know the user raises; with PreventUserExistenceErrors ENABLED
that looks like any unknown user (Cognito's "simulated response"), otherwise the
function's error is the answer (``UserLambdaValidationException``).
"""

from __future__ import annotations

from cognate.core import password_policy
from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User, UserStatus
from cognate.core.triggers import Migrated, Triggers
from cognate.core.users import Users
from cognate.errors import UserLambdaValidationException, UsernameExistsException

AUTHENTICATION = "UserMigration_Authentication"
FORGOT_PASSWORD = "UserMigration_ForgotPassword"
WELCOME_SUBJECT = "Welcome"
WELCOME = "Welcome! Your account {username} is ready."


class Migration:
    def __init__(self, users: Users, triggers: Triggers) -> None:
        self.users = users
        self.triggers = triggers

    async def migrate(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        source: str,
        typed: str,
        password: str | None,
    ) -> User | None:
        """The migrated user, or None when there is no function or it does not know the user."""
        if not self.triggers.configured(pool, "UserMigration"):
            return None
        try:
            migrated = await self.triggers.user_migration(ctx, pool, client, source, typed, password)
        except UserLambdaValidationException:
            if client.doc.get("PreventUserExistenceErrors") == "ENABLED":
                return None
            raise
        assert migrated is not None
        return await self._create(pool, typed, password, migrated, source)

    async def _create(
        self, pool: Pool, typed: str, password: str | None, migrated: Migrated, source: str
    ) -> User:
        attrs = {k: v for k, v in migrated.attributes.items() if k not in ("sub", "cognito:user_status")}
        if source == AUTHENTICATION and password is not None:
            status = (
                UserStatus.CONFIRMED if migrated.final_status == "CONFIRMED" else UserStatus.RESET_REQUIRED
            )
        else:
            # No password is known yet: the user sets one with the reset code.
            status = UserStatus.RESET_REQUIRED
            password = password_policy.generate(password_policy.policy_of(pool.doc))
        try:
            user = await self.users.create(
                pool,
                typed,
                password,
                attrs,
                status,
                required=False,
                force_alias=migrated.force_alias_creation,
            )
        except UsernameExistsException:
            found = await self.users.find(pool, typed)  # migrated meanwhile by a twin request
            if found is None:
                raise
            return found
        if migrated.message_action != "SUPPRESS":
            await self._welcome(pool, user, migrated.delivery_mediums)
        return user

    async def _welcome(self, pool: Pool, user: User, mediums: tuple[str, ...]) -> None:
        """Cognito's welcome message to a migrated user (unless the function said SUPPRESS)."""
        sender = (pool.doc.get("EmailConfiguration") or {}).get("From")
        for medium in mediums or ("EMAIL",):
            attribute = "email" if medium == "EMAIL" else "phone_number"
            if not user.attributes.get(attribute):
                continue
            await self.users.messenger.send(
                channel="email" if medium == "EMAIL" else "sms",
                to=user.attributes[attribute],
                subject=WELCOME_SUBJECT if medium == "EMAIL" else "",
                body=WELCOME.replace("{username}", user.username),
                kind="other",
                pool_id=pool.id,
                username=user.username,
                code=None,
                sender=sender if medium == "EMAIL" else None,
            )
