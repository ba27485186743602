"""Users as administrators manage them: create (with the invitation), read, passwords,
attributes, enable/disable, confirm, delete, list.

Sources: Amazon Cognito API reference (AdminCreateUser, AdminGetUser,
AdminSetUserPassword, AdminUpdateUserAttributes, AdminDeleteUserAttributes,
AdminDisableUser, AdminEnableUser, AdminConfirmSignUp, AdminDeleteUser, ListUsers);
developer guide, "Customizing sign-in attributes" (usernames, aliases, case
sensitivity). Passwords are hashed with argon2id; the SRP verifier is sealed.

A usable alias belongs to one user, and the database holds that rule (a unique
index, store/users.py): each write that may give a user an alias runs in one
transaction that relies on it, and a taken alias comes back as AliasExistsException
(UsernameExistsException when it is the new user's sign-in name), never by
check-then-insert.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

from cognate.core import attributes, ids, list_filter, paging, password_policy, usernames
from cognate.core.clock import Clock
from cognate.core.context import RequestContext, admin_context
from cognate.core.custom_messages import CustomMessages
from cognate.core.entities import Client, Pool, User, UserStatus
from cognate.core.events import NULL_EVENTS, Events
from cognate.core.invitations import deliverable, send_invitation
from cognate.core.invitations import render as render  # re-exported
from cognate.core.messages import Messenger
from cognate.core.sign_in_names import (
    ALIASES,
    _legacy_alias_key,
    alias_key,
    alias_taken,
    case_sensitive,
    index_of,
    usable_aliases,
)
from cognate.core.sign_in_names import indexed_values as indexed_values  # re-exported
from cognate.core.sign_in_names import username_key as username_key  # re-exported
from cognate.core.triggers import Message, PreSignUpAnswer, Triggers
from cognate.crypto import imported_hashes, srp
from cognate.crypto.passwords import Passwords
from cognate.crypto.sealing import Sealer
from cognate.errors import (
    InvalidParameterException,
    NotAuthorizedException,
    UnsupportedUserStateException,
    UsernameExistsException,
    UserNotFoundException,
)
from cognate.store.base import AliasConflict, Conflict, Store, Tx, UserFilter

SRP_PURPOSE = "srp-verifier"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^\+[0-9]{4,15}$")
_PHONE_SHAPED = re.compile(r"^\+[0-9]+$")  # could be some user's phone_number (E.164)


class Users:
    events: Events = NULL_EVENTS  # Core sets its own

    def __init__(
        self,
        store: Store,
        clock: Clock,
        passwords: Passwords,
        sealer: Sealer,
        messenger: Messenger,
        cpu: Executor | None = None,
        triggers: Triggers | None = None,
    ) -> None:
        self.triggers = triggers
        self.store = store
        self.clock = clock
        self.passwords = passwords
        self.sealer = sealer
        self.messenger = messenger
        # Password hashing runs here, off the event loop, at most one per core at a time.
        self.cpu = cpu

    # --- lookups ----------------------------------------------------------------

    async def find(self, pool: Pool, name: str) -> User | None:
        """The user a sign-in name designates: username, then a usable alias, then sub."""
        user = await self.store.get_user(pool.id, username_key(pool, name))
        if user is not None:
            return user
        legacy = name if case_sensitive(pool) else name.lower()
        if legacy != username_key(pool, name):
            # A row written before names were normalised keeps its old key (docs/usernames.md).
            user = await self.store.get_user(pool.id, legacy)
            if user is not None:
                return user
        for attr in self._sign_in_attributes(pool):
            if attr in ALIASES:
                for k in dict.fromkeys((alias_key(pool, attr, name), _legacy_alias_key(pool, attr, name))):
                    user = await self.store.user_by_alias(pool.id, attr, k)
                    if user is not None:
                        return user
        try:
            uuid.UUID(name)
        except ValueError:
            return None
        return await self.store.get_user_by_sub(pool.id, name)

    @staticmethod
    def _sign_in_attributes(pool: Pool) -> list[str]:
        return list(pool.doc.get("UsernameAttributes") or []) + list(pool.doc.get("AliasAttributes") or [])

    async def count(self, pool: Pool) -> int:
        """DescribeUserPool's EstimatedNumberOfUsers (exact here)."""
        return await self.store.count_users(pool.id)

    async def by_sub(self, pool: Pool, sub: str) -> User | None:
        """The user whose ``sub`` this is (a token's, a code's, a session's), or None."""
        return await self.store.get_user_by_sub(pool.id, sub)

    async def get(self, pool: Pool, name: str) -> User:
        user = await self.find(pool, name)
        if user is None:
            raise UserNotFoundException("User does not exist.")
        return user

    # --- credentials ------------------------------------------------------------

    async def credentials(self, pool: Pool, username: str, password: str) -> dict[str, Any]:
        """Hash and SRP verifier for a password (off the event loop)."""

        def work() -> tuple[str, str]:
            salt, verifier = srp.make_verifier(pool.short_id, username, password)
            sealed = self.sealer.seal(json.dumps({"salt": salt, "verifier": verifier}), SRP_PURPOSE)
            started = time.perf_counter()
            hashed = self.passwords.hash(password)
            self.events.password_hash("hash", time.perf_counter() - started)
            return hashed, sealed

        pw_hash, srp_secret = await asyncio.get_running_loop().run_in_executor(self.cpu, work)
        return {"password_hash": pw_hash, "srp_secret": srp_secret}

    def srp_material(self, user: User) -> tuple[str, str] | None:
        if not user.srp_secret:
            return None
        doc = json.loads(self.sealer.unseal(user.srp_secret, SRP_PURPOSE))
        return doc["salt"], doc["verifier"]

    async def check_password(self, user: User | None, password: str) -> bool:
        stored = user.password_hash if user else None

        def work() -> bool:
            started = time.perf_counter()
            try:
                if stored is not None and imported_hashes.algorithm_of(stored) not in (None, "ARGON2ID"):
                    # A hash an import job brought (bcrypt, scrypt, PBKDF2): its own library checks it.
                    return imported_hashes.verify(stored, password)
                return self.passwords.verify(stored, password)
            finally:
                self.events.password_hash("verify", time.perf_counter() - started)

        return await asyncio.get_running_loop().run_in_executor(self.cpu, work)

    async def upgrade_credentials(self, pool: Pool, user: User, password: str) -> User:
        """After a successful password sign-in: a user whose hash is not argon2id (an imported
        bcrypt, scrypt or PBKDF2 hash), or who has no SRP verifier (every imported user), gets
        Cognate's argon2id hash and the verifier of the password just proven, in one transaction."""
        if user.srp_secret and (user.password_hash or "").startswith("$argon2id$"):
            return user  # Cognate's own (whatever its cost: the cost is the operator's choice)
        creds = await self.credentials(pool, user.username, password)
        async with self.store.transaction() as tx:
            current = await self.store.get_user_by_sub(pool.id, user.sub, tx=tx)
            if current is None or current.password_hash != user.password_hash:
                return current or user  # changed meanwhile: that change stands
            updated = replace(current, **creds)
            await self.store.update_user(updated, username_key(pool, current.username), tx=tx)
        return updated

    async def set_password(self, pool: Pool, user: User, password: str, *, permanent: bool) -> User:
        password_policy.check(password_policy.policy_of(pool.doc), password)
        creds = await self.credentials(pool, user.username, password)
        now = self.clock.now()
        status: UserStatus
        if permanent:
            status = UserStatus.CONFIRMED if user.status != UserStatus.UNCONFIRMED else user.status
            expires = None
        else:
            status = UserStatus.FORCE_CHANGE_PASSWORD
            expires = now + self._temp_validity(pool)
        updated = replace(user, status=status, password_expires=expires, modified=now, **creds)
        await self.store.update_user(updated, username_key(pool, user.username))
        return updated

    @staticmethod
    def _temp_validity(pool: Pool) -> float:
        days = int(password_policy.policy_of(pool.doc)["TemporaryPasswordValidityDays"])
        return days * 86400.0

    # --- AdminCreateUser ----------------------------------------------------------

    async def admin_create(self, pool: Pool, req: dict[str, Any], ctx: RequestContext | None = None) -> User:
        ctx = ctx or admin_context()
        username: str = req["Username"]
        attrs = {a["Name"]: a.get("Value", "") for a in req.get("UserAttributes") or []}
        action = req.get("MessageAction")
        if action == "RESEND":
            return await self._resend_invitation(ctx, pool, username, req)
        username, attrs = self.apply_username_attributes(pool, username, attrs)
        attributes.check_writes(pool.doc["SchemaAttributes"], attrs, creating=True)
        attrs = attributes.canonical(pool.doc["SchemaAttributes"], attrs)
        attributes.check_required(pool.doc["SchemaAttributes"], attrs)
        policy = password_policy.policy_of(pool.doc)
        temp = req.get("TemporaryPassword")
        if temp is not None:
            password_policy.check(policy, temp)
        else:
            temp = password_policy.generate(policy)
        mediums = req.get("DesiredDeliveryMediums") or ["SMS"]
        if action != "SUPPRESS":
            deliverable(mediums, attrs)
        validation = {a["Name"]: a.get("Value", "") for a in req.get("ValidationData") or []}
        attrs, _ = await self.pre_sign_up(
            ctx, pool, None, "PreSignUp_AdminCreateUser", username, attrs, validation
        )
        now = self.clock.now()
        sub = self.new_sub(pool, username)
        attrs = {"sub": sub, **attrs}
        creds = await self.credentials(pool, username, temp)
        user = User(
            sub=sub,
            pool_id=pool.id,
            username=username,
            status=UserStatus.FORCE_CHANGE_PASSWORD,
            enabled=True,
            attributes=attrs,
            created=now,
            modified=now,
            password_expires=now + self._temp_validity(pool),
            **creds,
        )
        custom = await self._invitation_text(ctx, pool, user) if action != "SUPPRESS" else None
        await self._insert(
            pool, user, "User account already exists", force=bool(req.get("ForceAliasCreation"))
        )
        if action != "SUPPRESS":
            await send_invitation(self.messenger, pool, user, temp, mediums, custom)
        return user

    async def pre_sign_up(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client | None,
        source: str,
        username: str,
        attrs: dict[str, str],
        validation: dict[str, str],
    ) -> tuple[dict[str, str], PreSignUpAnswer]:
        """The pool's PreSignUp function (SignUp, AdminCreateUser): its answer, and the
        attributes with the addresses it marked verified (autoVerifyEmail / autoVerifyPhone)."""
        if self.triggers is None:
            return dict(attrs), PreSignUpAnswer()
        answer = await self.triggers.pre_sign_up(ctx, pool, client, source, username, attrs, validation)
        out = dict(attrs)
        if answer.auto_verify_email and out.get("email"):
            out["email_verified"] = "true"
        if answer.auto_verify_phone and out.get("phone_number"):
            out["phone_number_verified"] = "true"
        return out, answer

    async def _invitation_text(self, ctx: RequestContext, pool: Pool, user: User) -> Message | None:
        """CustomMessage_AdminCreateUser: the function's invitation (before anything is stored)."""
        if self.triggers is None:
            return None
        return await CustomMessages(self.triggers).text(
            ctx, pool, None, "CustomMessage_AdminCreateUser", user, "{username}"
        )

    def apply_username_attributes(
        self, pool: Pool, username: str, attrs: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        """With UsernameAttributes, the given name is an email or phone; the username is a UUID."""
        if username.strip() != username or not username:
            raise InvalidParameterException("Username should not contain leading or trailing whitespace.")
        username = usernames.stored(username)  # one user per name, however it was typed
        kinds = pool.doc.get("UsernameAttributes") or []
        if not kinds:
            # With aliases, a username shaped like an email or phone number could be
            # another user's verified address, breaking their alias sign-in: Cognito refuses.
            aliases = pool.doc.get("AliasAttributes") or []
            if "email" in aliases and _EMAIL.match(username):
                raise InvalidParameterException(
                    "Username cannot be of email format, since user pool is configured for email alias."
                )
            if "phone_number" in aliases and _PHONE_SHAPED.match(username):
                raise InvalidParameterException(
                    "Username cannot be of phone number format, since user pool is configured for "
                    "phone_number alias."
                )
            return username, attrs
        # The username is then a generated UUID, which is also the user's sub (as in Cognito).
        if "email" in kinds and _EMAIL.match(username):
            if attrs.get("email", username) != username:
                raise InvalidParameterException(
                    "User email should be empty or same as username, since username attribute is email."
                )
            return ids.sub(), {**attrs, "email": username}
        if "phone_number" in kinds and _PHONE.match(username):
            if attrs.get("phone_number", username) != username:
                raise InvalidParameterException(
                    "User phone number should be empty or same as username, since username attribute is "
                    "phone_number."
                )
            return ids.sub(), {**attrs, "phone_number": username}
        if kinds == ["email"]:
            raise InvalidParameterException("Username should be an email.")
        if kinds == ["phone_number"]:
            raise InvalidParameterException("Username should be a phone number.")
        raise InvalidParameterException("Username should be either an email or a phone number.")

    @staticmethod
    def new_sub(pool: Pool, username: str) -> str:
        """A new user's sub: with UsernameAttributes the generated username is the sub."""
        return username if pool.doc.get("UsernameAttributes") else ids.sub()

    async def _insert(self, pool: Pool, user: User, exists: str, *, force: bool = False) -> None:
        """Insert a new user in one transaction; the unique indexes decide who gets a name.

        With ForceAliasCreation, a verified email or phone another user holds as an alias
        moves to the new user (and is marked unverified on the other), in the same
        transaction: if the insert fails, nothing moved.
        """
        try:
            async with self.store.transaction() as tx:
                if force:
                    await self._take_aliases(pool, user, tx)
                await self.store.insert_user(
                    user, username_key(pool, user.username), index_of(pool, user), tx=tx
                )
        except AliasConflict as conflict:
            raise alias_taken(pool, conflict, creating=True) from None
        except Conflict:
            raise UsernameExistsException(exists) from None

    async def _take_aliases(self, pool: Pool, user: User, tx: Tx) -> None:
        """Move the verified email / phone aliases of ``user`` from whoever holds them.

        The holder's user row is locked before the alias row, the order an attribute
        change takes them in, so the two never wait for each other (PostgreSQL).
        """
        alias_attrs = pool.doc.get("AliasAttributes") or []
        for attr, key in usable_aliases(pool, user.attributes):
            if attr not in ("email", "phone_number") or attr not in alias_attrs:
                continue  # preferred_username and a username attribute never move
            holder = await self.store.user_by_alias(pool.id, attr, key)
            if holder is not None and holder.sub != user.sub:
                await self.store.get_user_by_sub(pool.id, holder.sub, tx=tx)
            previous = await self.store.take_alias(pool.id, attr, key, user.sub, tx=tx)
            if previous is None:
                continue
            other = await self.store.get_user_by_sub(pool.id, previous, tx=tx)
            if other is None:
                continue
            moved = replace(
                other,
                attributes={**other.attributes, f"{attr}_verified": "false"},
                modified=self.clock.now(),
            )
            await self.store.update_user(
                moved, username_key(pool, other.username), index_of(pool, moved), tx=tx
            )

    async def _resend_invitation(
        self, ctx: RequestContext, pool: Pool, username: str, req: dict[str, Any]
    ) -> User:
        user = await self.get(pool, username)
        if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
            raise UnsupportedUserStateException(
                "Resend not possible. User is not in FORCE_CHANGE_PASSWORD state."
            )
        policy = password_policy.policy_of(pool.doc)
        temp = req.get("TemporaryPassword") or password_policy.generate(policy)
        password_policy.check(policy, temp)
        mediums = req.get("DesiredDeliveryMediums") or ["SMS"]
        deliverable(mediums, user.attributes)
        custom = await self._invitation_text(ctx, pool, user)
        updated = await self.set_password(pool, user, temp, permanent=False)
        await send_invitation(self.messenger, pool, updated, temp, mediums, custom)
        return updated

    # --- seed: confirmed users with a permanent password ----------------------------

    async def create_confirmed(self, pool: Pool, username: str, password: str, attrs: dict[str, str]) -> User:
        """A confirmed user with a permanent password (the seed file's users)."""
        return await self.create(pool, username, password, attrs, UserStatus.CONFIRMED, required=False)

    async def create(
        self,
        pool: Pool,
        username: str,
        password: str,
        attrs: dict[str, str],
        status: UserStatus,
        *,
        required: bool = True,
        admin: bool = True,
        force_alias: bool = False,
    ) -> User:
        """A user with a permanent password in ``status`` (seed: CONFIRMED; SignUp: UNCONFIRMED)."""
        username, attrs = self.apply_username_attributes(pool, username, attrs)
        attributes.check_writes(pool.doc["SchemaAttributes"], attrs, creating=True, admin=admin)
        attrs = attributes.canonical(pool.doc["SchemaAttributes"], attrs)
        if required:
            attributes.check_required(pool.doc["SchemaAttributes"], attrs)
        password_policy.check(password_policy.policy_of(pool.doc), password)
        now = self.clock.now()
        sub = self.new_sub(pool, username)
        user = User(
            sub=sub,
            pool_id=pool.id,
            username=username,
            status=status,
            enabled=True,
            attributes={"sub": sub, **attrs},
            created=now,
            modified=now,
            **(await self.credentials(pool, username, password)),
        )
        await self._insert(pool, user, "User already exists", force=force_alias)
        return user

    # --- attribute updates -------------------------------------------------------

    async def update_attributes(
        self, pool: Pool, user: User, updates: list[dict[str, str]], *, admin: bool = True
    ) -> User:
        changes = {a["Name"]: a.get("Value", "") for a in updates}
        attributes.check_writes(pool.doc["SchemaAttributes"], changes, creating=False, admin=admin)
        changes = attributes.canonical(pool.doc["SchemaAttributes"], changes)
        kinds = pool.doc.get("UsernameAttributes") or []

        def change(current: dict[str, str]) -> dict[str, str]:
            new = dict(current)
            for contact in ("email", "phone_number"):
                if (
                    contact in changes
                    and changes[contact] != new.get(contact)
                    and f"{contact}_verified" not in changes
                ):
                    # A new address is unverified until proven (Cognito's rule).
                    new[f"{contact}_verified"] = "false"
            new.update(changes)
            for contact in kinds:
                if contact in current and not new.get(contact):
                    raise InvalidParameterException(
                        f"Cannot remove the {contact} attribute: it is the username."
                    )
            return new

        return await self._rewrite(pool, user, change)

    async def _rewrite(
        self,
        pool: Pool,
        user: User,
        change: Callable[[dict[str, str]], dict[str, str]],
        *,
        confirm: bool = False,
        force: bool = False,
    ) -> User:
        """Change a user's attributes (``change(current) -> new``) in one transaction.

        The row is read again inside it (locked on PostgreSQL), so concurrent changes
        to one user are applied one after the other; the aliases the new attributes
        make usable are claimed there, and a taken one is AliasExistsException (or,
        with ``force``, moves here as ForceAliasCreation moves it).
        """
        try:
            async with self.store.transaction() as tx:
                current = await self.store.get_user_by_sub(pool.id, user.sub, tx=tx)
                if current is None:
                    raise UserNotFoundException("User does not exist.")
                if confirm and current.status != UserStatus.UNCONFIRMED:
                    raise NotAuthorizedException(
                        f"User cannot be confirmed. Current status is {current.status}"
                    )
                updated = replace(
                    current,
                    attributes=change(current.attributes),
                    status=UserStatus.CONFIRMED if confirm else current.status,
                    modified=self.clock.now(),
                )
                if force:
                    await self._take_aliases(pool, updated, tx)
                await self.store.update_user(
                    updated, username_key(pool, updated.username), index_of(pool, updated), tx=tx
                )
        except AliasConflict as conflict:
            raise alias_taken(pool, conflict, creating=False) from None
        return updated

    async def confirm_sign_up(
        self, pool: Pool, user: User, attribute: str | None, *, force_alias: bool = False
    ) -> User:
        """ConfirmSignUp's writes, in one transaction: the attribute the code went to is
        verified and the user CONFIRMED. If that makes an alias another user holds,
        AliasExistsException, unless ForceAliasCreation moves it here."""

        def verify(current: dict[str, str]) -> dict[str, str]:
            return {**current, f"{attribute}_verified": "true"} if attribute else dict(current)

        return await self._rewrite(pool, user, verify, confirm=True, force=force_alias)

    async def delete_attributes(self, pool: Pool, user: User, names: list[str]) -> User:
        schema = {a["Name"]: a for a in pool.doc["SchemaAttributes"]}
        names = list(attributes.canonical(pool.doc["SchemaAttributes"], dict.fromkeys(names, "")))
        for name in names:
            defn = schema.get(name)
            if defn is None:
                raise attributes.schema_error(name, "Attribute does not exist in the schema.")
            if name == "sub" or defn.get("Required"):
                raise InvalidParameterException(f"Cannot delete the required attribute: {name}")
            if not defn.get("Mutable", True):
                raise InvalidParameterException(f"Cannot modify an immutable attribute: {name}")
            if name in (pool.doc.get("UsernameAttributes") or []):
                raise InvalidParameterException(f"Cannot delete the {name} attribute: it is the username.")
        return await self._rewrite(
            pool, user, lambda current: {k: v for k, v in current.items() if k not in names}
        )

    # --- state changes -----------------------------------------------------------

    async def set_enabled(self, pool: Pool, user: User, enabled: bool) -> User:
        """Enable or disable; disabling also signs the user out everywhere, in the same transaction."""
        updated = replace(user, enabled=enabled, modified=self.clock.now())
        async with self.store.transaction() as tx:
            await self.store.update_user(updated, username_key(pool, user.username), tx=tx)
            if not enabled:
                await self.store.sign_out_user(pool.id, user.sub, self.clock.now(), tx=tx)
        return updated

    async def admin_confirm(self, pool: Pool, user: User) -> User:
        if user.status != UserStatus.UNCONFIRMED:
            raise NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
        updated = replace(user, status=UserStatus.CONFIRMED, modified=self.clock.now())
        await self.store.update_user(updated, username_key(pool, user.username))
        return updated

    async def delete(self, pool: Pool, user: User) -> None:
        await self.store.delete_user(pool.id, user.sub)

    # --- ListUsers ---------------------------------------------------------------

    async def list(
        self,
        pool: Pool,
        filter_text: str | None,
        limit: int,
        token: str | None,
        attributes_to_get: builtins.list[str] | None = None,
    ) -> tuple[list[User], str | None]:
        """One page of ListUsers; ``attributes_to_get`` must name attributes of the pool."""
        if attributes_to_get:
            known = {a["Name"].removeprefix("dev:") for a in pool.doc["SchemaAttributes"]}
            if not set(attributes_to_get) <= known:
                raise InvalidParameterException("One or more requested attributes do not exist.")
        parsed = list_filter.parse(filter_text)
        flt = self._store_filter(pool, parsed)
        if parsed is not None and flt is None:
            return [], None  # a status filter that no user can match
        scope = self._page_scope(pool, filter_text)
        after = self._position(paging.decode(token, scope), flt) if token else None
        users = await self.store.list_users(pool.id, limit + 1, after, flt)
        more = len(users) > limit
        users = users[:limit]
        if not (more and users):
            return users, None
        key = username_key(pool, users[-1].username)
        position = flt.position(users[-1], key) if flt else (key,)
        return users, paging.encode(json.dumps(position) if len(position) > 1 else position[0], scope)

    @staticmethod
    def _store_filter(pool: Pool, flt: list_filter.Filter | None) -> UserFilter | None:
        """The store's form of a ListUsers filter (Cognito's ListUsers: username as the pool
        compares usernames, cognito:user_status ignoring case, status Enabled or Disabled)."""
        if flt is None:
            return None
        if flt.attribute == "username":
            return UserFilter("username_key", flt.op, username_key(pool, flt.value))
        if flt.attribute == "cognito:user_status":
            # Case-insensitive in Cognito (ListUsers): the statuses are upper case.
            return UserFilter("status", flt.op, flt.value.upper())
        if flt.attribute == "status":
            wanted = {"enabled": True, "disabled": False}.get(flt.value.lower())
            return None if wanted is None or flt.op != "=" else UserFilter("enabled", "=", wanted)
        return UserFilter(flt.attribute, flt.op, flt.value)

    @staticmethod
    def _position(after: str, flt: UserFilter | None) -> tuple[str, ...]:
        """A token's position: a username key, or a JSON pair (value, username key)."""
        if flt is None or not flt.by_value:
            return (after,)
        try:
            pair = json.loads(after)
        except ValueError:
            pair = None
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair)):
            raise InvalidParameterException("Invalid pagination token.")
        return (pair[0], pair[1])

    @staticmethod
    def _page_scope(pool: Pool, filter_text: str | None) -> str:
        """What a ListUsers token is bound to: this pool and this filter."""
        return f"ListUsers\n{pool.id}\n{filter_text or ''}"
