"""One-time codes sent to a user: sign-up confirmation, attribute verification, password reset.

Six random digits, sent by email (SMTP or the outbox) or SMS (the outbox), stored only
as an HMAC under a key derived from the master key (a copy of the database alone
cannot try the million codes), under the user and purpose, expiring as Cognito's do
(developer guide, "Quotas": sign-up and attribute codes 24 hours, reset codes 1 hour).
A new code replaces the previous one. A code is bound to the address it was sent to:
once the attribute holds another value, the code is expired. Guessing is limited per
user and purpose with the sign-in lockout's counter: after five wrong codes,
LimitExceededException with a growing wait.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from cognate.core.clock import Clock
from cognate.core.context import RequestContext, admin_context
from cognate.core.custom_messages import CustomMessages
from cognate.core.entities import Client, Pool, User, UserStatus
from cognate.core.lockout import Lockout
from cognate.core.messages import Messenger
from cognate.core.send_limits import SendLimits
from cognate.core.triggers import Message, Triggers
from cognate.core.users import render
from cognate.crypto.sealing import Sealer
from cognate.errors import (
    CodeMismatchException,
    ExpiredCodeException,
    LimitExceededException,
    NotAuthorizedException,
)
from cognate.store.base import TtlStore

KIND = "user-code"
LIMIT = "Attempt limit exceeded, please try after some time."
MISMATCH = "Invalid verification code provided, please try again."
EXPIRED = "Invalid code provided, please request a code again."
LIFETIME_S = {"signup": 24 * 3600, "attribute": 24 * 3600, "reset": 3600, "mfa": 180}
DEFAULT_SUBJECT = {"reset": "Your password reset code", "mfa": "Your authentication code"}
DEFAULT_MESSAGE = {
    "reset": "Your password reset code is {####}.",
    "mfa": "Your authentication code is {####}.",
}
VERIFY_SUBJECT = "Your verification code"
VERIFY_MESSAGE = "Your verification code is {####}."
# VerificationMessageTemplate.DefaultEmailOption CONFIRM_WITH_LINK: the email carries a link to the
# hosted /confirmUser page instead of the code; {##text##} becomes the link (Cognito's defaults).
LINK_SUBJECT = "Your verification link"
LINK_MESSAGE = "Please click the link below to verify your email address. {##Verify Email##}"
_LINK_TEXT = re.compile(r"\{##(.*?)##\}", re.S)


CODE_PARAMETER = "{####}"


def custom_texts(
    custom: Message | None, medium: str, subject: str, body: str, *, link: bool = False
) -> tuple[str, str]:
    """A CustomMessage function's text, when it keeps the code's placeholder (or, for a
    confirmation link, the link's ``{##text##}``); else the default text."""
    if custom is None:
        return subject, body
    text = custom.email if medium == "EMAIL" else custom.sms
    if text and (CODE_PARAMETER in text or (link and _LINK_TEXT.search(text))):
        body = text
    if medium == "EMAIL" and custom.subject:
        subject = custom.subject
    return subject, body


def mask(medium: str, destination: str) -> str:
    """Cognito-style masked destination: ``a***@e***`` or ``+*******1234``."""
    if medium == "EMAIL" and "@" in destination:
        local, domain = destination.split("@", 1)
        return f"{local[:1]}***@{domain[:1]}***"
    return "+" + "*" * max(0, len(destination) - 5) + destination[-4:]


DIGEST_PURPOSE = "one-time-code"


@dataclass(frozen=True)
class Delivery:
    medium: str  # "EMAIL" or "SMS"
    attribute: str  # "email" or "phone_number"

    def sent_to(self, user: User) -> CodeDelivery:
        """Where a code for this user went, the address masked."""
        return CodeDelivery(
            mask(self.medium, user.attributes.get(self.attribute, "")), self.medium, self.attribute
        )


@dataclass(frozen=True)
class CodeDelivery:
    """Where a code went (Cognito's CodeDeliveryDetailsType): the destination, masked."""

    destination: str
    medium: str  # "EMAIL" or "SMS"
    attribute: str  # "email" or "phone_number"


def delivery_for(attribute: str) -> Delivery:
    return Delivery("SMS" if attribute == "phone_number" else "EMAIL", attribute)


class Codes:
    def __init__(
        self,
        store: TtlStore,
        clock: Clock,
        lockout: Lockout,
        messenger: Messenger,
        sealer: Sealer,
        public_url: str = "",
        triggers: Triggers | None = None,
    ) -> None:
        self.triggers = triggers
        self.store = store
        self.clock = clock
        self.lockout = lockout
        self.messenger = messenger
        self.sealer = sealer
        self.limits = SendLimits(lockout.auth_store, clock)
        self.public_url = public_url

    @staticmethod
    def _code_message(user: User, purpose: str, code: str) -> str:
        return f"{user.pool_id}:{user.sub}:{purpose}:{code}"

    @staticmethod
    def _destination_message(user: User, attribute: str, value: str) -> str:
        return f"{user.pool_id}:{user.sub}:{attribute}={value}"

    async def send(
        self,
        pool: Pool,
        user: User,
        purpose: str,
        delivery: Delivery,
        to: str | None = None,
        ctx: RequestContext | None = None,
        *,
        client_id: str | None = None,
        source: str | None = None,
        client: Client | None = None,
    ) -> CodeDelivery:
        """Make, store and send a code; where it went (the CodeDeliveryDetails to answer with).

        ``to`` is the address the code goes to and is bound to (by default the user's
        current value of the delivery attribute). Sends are limited per user and per
        source address (send_limits.py; ``ctx`` names the source, and the admin door
        is not limited): LimitExceededException, and nothing is sent. A sign-up code of a
        pool that confirms by link (and of a known app client) goes as a link to
        ``/confirmUser?client_id=..&user_name=..&confirmation_code=..``, as Cognito's.
        With ``source`` (``CustomMessage_SignUp``, ...), the pool's CustomMessage function
        writes the text first; nothing is stored until it has answered.
        """
        destination = user.attributes[delivery.attribute] if to is None else to
        await self.limits.admit(ctx, pool.id, purpose, user.sub)
        code = f"{secrets.randbelow(10**6):06d}"
        ttl = LIFETIME_S[purpose]
        client_id = client_id or (client.id if client else None)
        subject, body = self._texts(pool, purpose, delivery.medium)
        template = pool.doc.get("VerificationMessageTemplate") or {}
        by_link = bool(
            purpose == "signup"
            and client_id
            and delivery.medium == "EMAIL"
            and template.get("DefaultEmailOption") == "CONFIRM_WITH_LINK"
        )
        if by_link:
            subject = template.get("EmailSubjectByLink") or LINK_SUBJECT
            body = template.get("EmailMessageByLink") or LINK_MESSAGE
        if self.triggers is not None and source is not None:
            custom = await CustomMessages(self.triggers).text(
                ctx or admin_context(), pool, client, source, user
            )
            subject, body = custom_texts(custom, delivery.medium, subject, body, link=by_link)
        await self.store.put(
            KIND,
            f"{pool.id}:{user.sub}:{purpose}",
            {
                "hash": self.sealer.digest(self._code_message(user, purpose, code), DIGEST_PURPOSE),
                "attribute": delivery.attribute,
                "to": self.sealer.digest(
                    self._destination_message(user, delivery.attribute, destination), DIGEST_PURPOSE
                ),
                "expires_at": self.clock.now() + ttl,
            },
            ttl,
        )
        body = render(body, user.username, code)
        if by_link:
            query = urlencode({"client_id": client_id, "user_name": user.username, "confirmation_code": code})
            url = f"{self.public_url}/confirmUser?{query}"
            body = _LINK_TEXT.sub(lambda m: f'<a href="{url}">{m.group(1)}</a>', body)
        await self.messenger.send(
            channel="email" if delivery.medium == "EMAIL" else "sms",
            to=destination,
            subject=subject if delivery.medium == "EMAIL" else "",
            body=body,
            kind={"reset": "reset", "mfa": "mfa"}.get(purpose, "verification"),
            pool_id=pool.id,
            username=user.username,
            code=code,
            sender=(pool.doc.get("EmailConfiguration") or {}).get("From")
            if delivery.medium == "EMAIL"
            else None,
        )
        return delivery.sent_to(
            replace(user, attributes={**user.attributes, delivery.attribute: destination})
        )

    async def simulate(
        self, ctx: RequestContext | None, pool: Pool, purpose: str, name: str, attribute: str
    ) -> CodeDelivery:
        """A code "sent" to a user who does not exist (or may not be told one): counted
        exactly as a real one, the same store write, and CodeDeliveryDetails shaped as a
        real user's of this pool would be, with a made-up destination that is stable for
        the name; nothing is sent. So neither the answer, nor the limits, nor the time
        tells whether the user exists (PreventUserExistenceErrors ENABLED)."""
        await self.limits.admit(ctx, pool.id, purpose, "unknown:" + name)
        await self.store.put(
            KIND,
            f"{pool.id}:unknown:{purpose}",
            {"hash": self.sealer.digest(f"{pool.id}:{name}", DIGEST_PURPOSE), "attribute": attribute},
            LIFETIME_S[purpose],
        )
        await self.messenger.rehearse("sms" if attribute == "phone_number" else "email")
        seed = self.sealer.digest(f"{pool.id}:{name}", "simulated-destination")
        if attribute == "phone_number":
            fake = "+1" + "".join(str(int(c, 16) % 10) for c in seed[:10])
        else:
            letters = "abcdefghijklmnopqrstuvwxyz"
            fake = f"{letters[int(seed[:2], 16) % 26]}x@{letters[int(seed[2:4], 16) % 26]}x"
        return delivery_for(attribute).sent_to(
            User(
                sub="",
                pool_id=pool.id,
                username=name,
                status=UserStatus.UNKNOWN,
                enabled=True,
                attributes={attribute: fake},
                created=0.0,
                modified=0.0,
            )
        )

    @staticmethod
    def _texts(pool: Pool, purpose: str, medium: str) -> tuple[str, str]:
        if purpose == "mfa":
            return DEFAULT_SUBJECT["mfa"], pool.doc.get("SmsAuthenticationMessage") or DEFAULT_MESSAGE["mfa"]
        if purpose in DEFAULT_MESSAGE:
            return DEFAULT_SUBJECT[purpose], DEFAULT_MESSAGE[purpose]
        tpl = pool.doc.get("VerificationMessageTemplate") or {}
        if medium == "EMAIL":
            subject = tpl.get("EmailSubject") or pool.doc.get("EmailVerificationSubject") or VERIFY_SUBJECT
            return subject, tpl.get("EmailMessage") or pool.doc.get(
                "EmailVerificationMessage"
            ) or VERIFY_MESSAGE
        return "", tpl.get("SmsMessage") or pool.doc.get("SmsVerificationMessage") or VERIFY_MESSAGE

    async def redeem(
        self, pool: Pool, user: User, purpose: str, given: str, to: str | None = None
    ) -> dict[str, Any]:
        """Check ``given`` (attempts limited) and consume the code; its stored doc on success.

        The code must still match where it was sent: ``to`` (by default the user's current
        value of the attribute the code went to). A code sent to an address the user no
        longer has is expired, whatever its digits.
        """
        key = f"{pool.id}:{user.sub}:{purpose}"
        try:
            async with self.lockout.attempt(pool.id, f"code:{purpose}:{user.sub}") as attempt:
                doc = await self.store.get(KIND, key)
                if doc is None or float(doc.get("expires_at", 0)) <= self.clock.now():
                    raise ExpiredCodeException(EXPIRED)
                attribute = str(doc.get("attribute", ""))
                current = user.attributes.get(attribute, "") if to is None else to
                # Under any key of the ring: a code sent before a master-key rotation still works.
                if not self.sealer.digest_matches(
                    self._destination_message(user, attribute, current),
                    DIGEST_PURPOSE,
                    str(doc.get("to", "")),
                ):
                    raise ExpiredCodeException(EXPIRED)
                if not self.sealer.digest_matches(
                    self._code_message(user, purpose, str(given)), DIGEST_PURPOSE, str(doc["hash"])
                ):
                    raise CodeMismatchException(MISMATCH)
                attempt.success = True
        except NotAuthorizedException:  # the lockout's "Password attempts exceeded"
            raise LimitExceededException(LIMIT) from None
        if await self.store.consume(KIND, key) is None:  # redeemed meanwhile elsewhere
            raise ExpiredCodeException(EXPIRED)
        return doc

    @asynccontextmanager
    async def redeeming(
        self, pool: Pool, user: User, purpose: str, given: str, to: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """``redeem``, for a step that goes on after the code: if the step then fails (an
        alias taken, say), the code is given back, so that a failed step never uses it up
        (ConfirmSignUp's retry with ForceAliasCreation works with the same code). A code
        sent meanwhile is not overwritten."""
        doc = await self.redeem(pool, user, purpose, given, to)
        try:
            yield doc
        except BaseException:
            remaining = float(doc.get("expires_at", 0)) - self.clock.now()
            if remaining > 0:
                await self.store.put_new(KIND, f"{pool.id}:{user.sub}:{purpose}", doc, remaining)
            raise

    async def redeem_unknown(self, pool: Pool, purpose: str, name: str) -> None:
        """A code "checked" for a user who does not exist: the same store work and attempt
        counting as a real wrong code, ending in CodeMismatchException, or
        LimitExceededException after as many tries (PreventUserExistenceErrors)."""
        try:
            async with self.lockout.attempt(pool.id, f"code:{purpose}:unknown:{name}"):
                await self.store.get(KIND, f"{pool.id}:unknown:{purpose}")
                self.sealer.digest(f"{pool.id}:unknown:{purpose}:{name}", DIGEST_PURPOSE)
                raise CodeMismatchException(MISMATCH)
        except NotAuthorizedException:
            raise LimitExceededException(LIMIT) from None
