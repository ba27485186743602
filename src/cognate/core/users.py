"""Users as administrators manage them: create (with the invitation), read, passwords,
attributes, enable/disable, confirm, delete, list.

Sources: Amazon Cognito API reference (AdminCreateUser, AdminGetUser,
AdminSetUserPassword, AdminUpdateUserAttributes, AdminDeleteUserAttributes,
AdminDisableUser, AdminEnableUser, AdminConfirmSignUp, AdminDeleteUser, ListUsers);
developer guide, "Customizing sign-in attributes" (usernames, aliases, case
sensitivity). Passwords are hashed with argon2id; the SRP verifier is sealed.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import re
import uuid
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

from cognate.core import attributes, ids, list_filter, paging, password_policy
from cognate.core.clock import Clock
from cognate.core.entities import Pool, User, UserStatus
from cognate.core.messages import Messenger
from cognate.crypto import srp
from cognate.crypto.passwords import Passwords
from cognate.crypto.sealing import Sealer
from cognate.errors import (
    AliasExistsException,
    InvalidParameterException,
    NotAuthorizedException,
    UnsupportedUserStateException,
    UsernameExistsException,
    UserNotFoundException,
)
from cognate.store.base import Conflict
from cognate.store.sql import Store

# Attributes kept in the attribute index: the ones ListUsers filters on and the aliases.
INDEXED = ("email", "phone_number", "name", "given_name", "family_name", "preferred_username", "sub")
ALIASES = ("email", "phone_number", "preferred_username")
SRP_PURPOSE = "srp-verifier"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^\+[0-9]{4,15}$")

DEFAULT_INVITE_SUBJECT = "Your temporary password"
DEFAULT_INVITE_EMAIL = "Your username is {username} and temporary password is {####}."
DEFAULT_INVITE_SMS = "Your username is {username} and temporary password is {####}."


def case_sensitive(pool: Pool) -> bool:
    return bool((pool.doc.get("UsernameConfiguration") or {}).get("CaseSensitive", True))


def username_key(pool: Pool, username: str) -> str:
    return username if case_sensitive(pool) else username.lower()


def indexed_values(user: User) -> list[tuple[str, str]]:
    out = [("sub", user.sub)]
    for name in INDEXED:
        if name != "sub" and user.attributes.get(name):
            out.append((name, user.attributes[name]))
    return out


def render(template: str, username: str, code: str) -> str:
    return template.replace("{username}", username).replace("{####}", code)


class Users:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        passwords: Passwords,
        sealer: Sealer,
        messenger: Messenger,
        cpu: Executor | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.passwords = passwords
        self.sealer = sealer
        self.messenger = messenger
        # Password hashing runs here, off the event loop, at most one per core at a time.
        self.cpu = cpu

    # --- lookups ----------------------------------------------------------------

    async def find(self, pool: Pool, name: str) -> User | None:
        """The user a sign-in name designates: username, then alias or username attribute, then sub."""
        user = await self.store.get_user(pool.id, username_key(pool, name))
        if user is not None:
            return user
        for attr in self._sign_in_attributes(pool):
            for value in {name, name.lower()} if not case_sensitive(pool) and attr == "email" else {name}:
                subs = await self.store.find_subs_by_attr(pool.id, attr, value)
                for sub in subs:
                    candidate = await self.store.get_user_by_sub(pool.id, sub)
                    if candidate and self._alias_usable(pool, candidate, attr):
                        return candidate
        try:
            uuid.UUID(name)
        except ValueError:
            return None
        return await self.store.get_user_by_sub(pool.id, name)

    @staticmethod
    def _sign_in_attributes(pool: Pool) -> list[str]:
        return list(pool.doc.get("UsernameAttributes") or []) + list(pool.doc.get("AliasAttributes") or [])

    @staticmethod
    def _alias_usable(pool: Pool, user: User, attr: str) -> bool:
        if attr in (pool.doc.get("UsernameAttributes") or []) or attr == "preferred_username":
            return True
        return user.attributes.get(f"{attr}_verified") == "true"

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
            return self.passwords.hash(password), sealed

        pw_hash, srp_secret = await asyncio.get_running_loop().run_in_executor(self.cpu, work)
        return {"password_hash": pw_hash, "srp_secret": srp_secret}

    def srp_material(self, user: User) -> tuple[str, str] | None:
        if not user.srp_secret:
            return None
        doc = json.loads(self.sealer.unseal(user.srp_secret, SRP_PURPOSE))
        return doc["salt"], doc["verifier"]

    async def check_password(self, user: User | None, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            self.cpu, self.passwords.verify, user.password_hash if user else None, password
        )

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

    async def admin_create(self, pool: Pool, req: dict[str, Any]) -> User:
        username: str = req["Username"]
        attrs = {a["Name"]: a.get("Value", "") for a in req.get("UserAttributes") or []}
        action = req.get("MessageAction")
        if action == "RESEND":
            return await self._resend_invitation(pool, username, req)
        username, attrs = self._apply_username_attributes(pool, username, attrs)
        attributes.check_writes(pool.doc["SchemaAttributes"], attrs, creating=True)
        attrs = attributes.canonical(pool.doc["SchemaAttributes"], attrs)
        attributes.check_required(pool.doc["SchemaAttributes"], attrs)
        await self._check_aliases(pool, None, attrs, force=bool(req.get("ForceAliasCreation")))
        policy = password_policy.policy_of(pool.doc)
        temp = req.get("TemporaryPassword")
        if temp is not None:
            password_policy.check(policy, temp)
        else:
            temp = password_policy.generate(policy)
        mediums = req.get("DesiredDeliveryMediums") or ["SMS"]
        if action != "SUPPRESS":
            self._deliverable(mediums, attrs)
        now = self.clock.now()
        sub = self._new_sub(pool, username)
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
        try:
            await self.store.insert_user(user, username_key(pool, username), indexed_values(user))
        except Conflict:
            raise UsernameExistsException("User account already exists") from None
        if action != "SUPPRESS":
            await self._send_invitation(pool, user, temp, mediums)
        return user

    def _apply_username_attributes(
        self, pool: Pool, username: str, attrs: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        """With UsernameAttributes, the given name is an email or phone; the username is a UUID."""
        if username.strip() != username or not username:
            raise InvalidParameterException("Username should not contain leading or trailing whitespace.")
        kinds = pool.doc.get("UsernameAttributes") or []
        if not kinds:
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
    def _new_sub(pool: Pool, username: str) -> str:
        """A new user's sub: with UsernameAttributes the generated username is the sub."""
        return username if pool.doc.get("UsernameAttributes") else ids.sub()

    async def _check_aliases(
        self, pool: Pool, user: User | None, attrs: dict[str, str], *, force: bool
    ) -> None:
        """Usernames-by-attribute must be unique; verified aliases too (or move with ForceAliasCreation)."""
        username_attrs = pool.doc.get("UsernameAttributes") or []
        alias_attrs = pool.doc.get("AliasAttributes") or []
        for attr in ALIASES:
            value = attrs.get(attr)
            if not value or (attr not in username_attrs and attr not in alias_attrs):
                continue
            others = [
                s
                for s in await self.store.find_subs_by_attr(pool.id, attr, value)
                if not user or s != user.sub
            ]
            if not others:
                continue
            if attr in username_attrs:
                # Taken by another user: at creation the name is taken, at an update the alias.
                error = UsernameExistsException if user is None else AliasExistsException
                raise error(f"An account with the given {attr} already exists.")
            verified = attr == "preferred_username" or attrs.get(f"{attr}_verified") == "true"
            if not verified:
                continue
            for sub in others:
                other = await self.store.get_user_by_sub(pool.id, sub)
                if other is None or not self._alias_usable(pool, other, attr):
                    continue
                if not force or attr == "preferred_username":
                    raise AliasExistsException(f"An account with the given {attr} already exists.")
                moved = dict(other.attributes)
                moved[f"{attr}_verified"] = "false"
                await self.store.update_user(
                    replace(other, attributes=moved, modified=self.clock.now()),
                    username_key(pool, other.username),
                )

    @staticmethod
    def _deliverable(mediums: list[str], attrs: dict[str, str]) -> None:
        if ("EMAIL" in mediums and attrs.get("email")) or ("SMS" in mediums and attrs.get("phone_number")):
            return
        raise InvalidParameterException("User has no attribute matching desired delivery mediums")

    async def _send_invitation(self, pool: Pool, user: User, temp: str, mediums: list[str]) -> None:
        tpl = (pool.doc.get("AdminCreateUserConfig") or {}).get("InviteMessageTemplate") or {}
        sender = (pool.doc.get("EmailConfiguration") or {}).get("From")
        if "EMAIL" in mediums and user.attributes.get("email"):
            await self.messenger.send(
                channel="email",
                to=user.attributes["email"],
                subject=tpl.get("EmailSubject") or DEFAULT_INVITE_SUBJECT,
                body=render(tpl.get("EmailMessage") or DEFAULT_INVITE_EMAIL, user.username, temp),
                kind="temporary-password",
                pool_id=pool.id,
                username=user.username,
                code=temp,
                sender=sender,
            )
        if "SMS" in mediums and user.attributes.get("phone_number"):
            await self.messenger.send(
                channel="sms",
                to=user.attributes["phone_number"],
                subject="",
                body=render(tpl.get("SMSMessage") or DEFAULT_INVITE_SMS, user.username, temp),
                kind="temporary-password",
                pool_id=pool.id,
                username=user.username,
                code=temp,
            )

    async def _resend_invitation(self, pool: Pool, username: str, req: dict[str, Any]) -> User:
        user = await self.get(pool, username)
        if user.status != UserStatus.FORCE_CHANGE_PASSWORD:
            raise UnsupportedUserStateException(
                "Resend not possible. User is not in FORCE_CHANGE_PASSWORD state."
            )
        policy = password_policy.policy_of(pool.doc)
        temp = req.get("TemporaryPassword") or password_policy.generate(policy)
        password_policy.check(policy, temp)
        mediums = req.get("DesiredDeliveryMediums") or ["SMS"]
        self._deliverable(mediums, user.attributes)
        updated = await self.set_password(pool, user, temp, permanent=False)
        await self._send_invitation(pool, updated, temp, mediums)
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
    ) -> User:
        """A user with a permanent password in ``status`` (seed: CONFIRMED; SignUp: UNCONFIRMED)."""
        username, attrs = self._apply_username_attributes(pool, username, attrs)
        attributes.check_writes(pool.doc["SchemaAttributes"], attrs, creating=True, admin=admin)
        attrs = attributes.canonical(pool.doc["SchemaAttributes"], attrs)
        if required:
            attributes.check_required(pool.doc["SchemaAttributes"], attrs)
        password_policy.check(password_policy.policy_of(pool.doc), password)
        await self._check_aliases(pool, None, attrs, force=False)
        now = self.clock.now()
        sub = self._new_sub(pool, username)
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
        try:
            await self.store.insert_user(user, username_key(pool, username), indexed_values(user))
        except Conflict:
            raise UsernameExistsException("User already exists") from None
        return user

    # --- attribute updates -------------------------------------------------------

    async def update_attributes(
        self, pool: Pool, user: User, updates: list[dict[str, str]], *, admin: bool = True
    ) -> User:
        changes = {a["Name"]: a.get("Value", "") for a in updates}
        attributes.check_writes(pool.doc["SchemaAttributes"], changes, creating=False, admin=admin)
        changes = attributes.canonical(pool.doc["SchemaAttributes"], changes)
        new = dict(user.attributes)
        for contact in ("email", "phone_number"):
            if (
                contact in changes
                and changes[contact] != new.get(contact)
                and f"{contact}_verified" not in changes
            ):
                # A new address is unverified until proven (Cognito's rule).
                new[f"{contact}_verified"] = "false"
        new.update(changes)
        kinds = pool.doc.get("UsernameAttributes") or []
        for contact in kinds:
            if contact in user.attributes and not new.get(contact):
                raise InvalidParameterException(f"Cannot remove the {contact} attribute: it is the username.")
        await self._check_aliases(pool, user, new, force=False)
        updated = replace(user, attributes=new, modified=self.clock.now())
        await self.store.update_user(updated, username_key(pool, user.username), indexed_values(updated))
        return updated

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
        new = {k: v for k, v in user.attributes.items() if k not in names}
        updated = replace(user, attributes=new, modified=self.clock.now())
        await self.store.update_user(updated, username_key(pool, user.username), indexed_values(updated))
        return updated

    # --- state changes -----------------------------------------------------------

    async def set_enabled(self, pool: Pool, user: User, enabled: bool) -> User:
        updated = replace(user, enabled=enabled, modified=self.clock.now())
        await self.store.update_user(updated, username_key(pool, user.username))
        if not enabled:
            await self.store.sign_out_user(pool.id, user.sub, self.clock.now())
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
        self, pool: Pool, filter_text: str | None, limit: int, token: str | None
    ) -> tuple[list[User], str | None]:
        flt = list_filter.parse(filter_text)
        scope = self._page_scope(pool, filter_text)
        after = paging.decode(token, scope) if token else None
        attr = column = None
        if flt is not None:
            if flt.attribute == "username":
                value = flt.value if case_sensitive(pool) else flt.value.lower()
                column = ("username_key", flt.op, value)
            elif flt.attribute == "cognito:user_status":
                # Case-insensitive in Cognito (ListUsers): the statuses are upper case.
                column = ("status", flt.op, flt.value.upper())
            elif flt.attribute == "status":
                return await self._list_by_enabled(pool, flt, limit, after, scope)
            else:
                attr = (flt.attribute, flt.op, flt.value)
        users = await self.store.list_users(pool.id, limit + 1, after, attr=attr, column=column)
        return self._page(pool, users, limit, scope)

    async def _list_by_enabled(
        self, pool: Pool, flt: list_filter.Filter, limit: int, after: str | None, scope: str
    ) -> tuple[builtins.list[User], str | None]:
        wanted: bool | None = {"enabled": True, "disabled": False}.get(flt.value.lower())
        if wanted is None or flt.op != "=":
            return [], None
        found: builtins.list[User] = []
        cursor = after
        while len(found) <= limit:
            batch = await self.store.list_users(pool.id, 200, cursor)
            if not batch:
                break
            found += [u for u in batch if u.enabled == wanted]
            cursor = username_key(pool, batch[-1].username)
        return self._page(pool, found, limit, scope)

    @staticmethod
    def _page_scope(pool: Pool, filter_text: str | None) -> str:
        """What a ListUsers token is bound to: this pool and this filter."""
        return f"ListUsers\n{pool.id}\n{filter_text or ''}"

    @staticmethod
    def _page(
        pool: Pool, users: builtins.list[User], limit: int, scope: str
    ) -> tuple[builtins.list[User], str | None]:
        more = len(users) > limit
        users = users[:limit]
        token = paging.encode(username_key(pool, users[-1].username), scope) if more and users else None
        return users, token
