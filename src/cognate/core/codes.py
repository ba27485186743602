"""One-time codes sent to a user: sign-up confirmation, attribute verification, password reset.

Six random digits, sent by email (SMTP or the outbox) or SMS (the outbox), stored only
as a hash under the user and purpose, expiring as Cognito's do (developer guide,
"Quotas": sign-up and attribute codes 24 hours, reset codes 1 hour). A new code
replaces the previous one. Guessing is limited per user and purpose with the sign-in
lockout's counter: after five wrong codes, LimitExceededException with a growing wait.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cognate.core.clock import Clock
from cognate.core.entities import Pool, User
from cognate.core.lockout import Lockout
from cognate.core.messages import Messenger
from cognate.core.users import render
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


def mask(medium: str, destination: str) -> str:
    """Cognito-style masked destination: ``a***@e***`` or ``+*******1234``."""
    if medium == "EMAIL" and "@" in destination:
        local, domain = destination.split("@", 1)
        return f"{local[:1]}***@{domain[:1]}***"
    return "+" + "*" * max(0, len(destination) - 5) + destination[-4:]


def _hash(sub: str, purpose: str, code: str) -> str:
    return hashlib.sha256(f"{sub}:{purpose}:{code}".encode()).hexdigest()


@dataclass(frozen=True)
class Delivery:
    medium: str  # "EMAIL" or "SMS"
    attribute: str  # "email" or "phone_number"

    def details(self, user: User) -> dict[str, str]:
        """CodeDeliveryDetailsType."""
        return {
            "Destination": mask(self.medium, user.attributes.get(self.attribute, "")),
            "DeliveryMedium": self.medium,
            "AttributeName": self.attribute,
        }


def delivery_for(attribute: str) -> Delivery:
    return Delivery("SMS" if attribute == "phone_number" else "EMAIL", attribute)


class Codes:
    def __init__(
        self, store: TtlStore, clock: Clock, lockout: Lockout, messenger: Messenger, public_url: str = ""
    ) -> None:
        self.store = store
        self.clock = clock
        self.lockout = lockout
        self.messenger = messenger
        self.public_url = public_url

    async def send(
        self, pool: Pool, user: User, purpose: str, delivery: Delivery, *, client_id: str | None = None
    ) -> dict[str, str]:
        """Make, store and send a code; the CodeDeliveryDetails to answer with.

        A sign-up code of a pool that confirms by link (and of a known app client) goes as a
        link to ``/confirmUser?client_id=..&user_name=..&confirmation_code=..``, as Cognito's.
        """
        code = f"{secrets.randbelow(10**6):06d}"
        ttl = LIFETIME_S[purpose]
        await self.store.put(
            KIND,
            f"{pool.id}:{user.sub}:{purpose}",
            {
                "hash": _hash(user.sub, purpose, code),
                "attribute": delivery.attribute,
                "expires_at": self.clock.now() + ttl,
            },
            ttl,
        )
        subject, body = self._texts(pool, purpose, delivery.medium)
        body = render(body, user.username, code)
        template = pool.doc.get("VerificationMessageTemplate") or {}
        if (
            purpose == "signup"
            and client_id
            and delivery.medium == "EMAIL"
            and template.get("DefaultEmailOption") == "CONFIRM_WITH_LINK"
        ):
            query = urlencode({"client_id": client_id, "user_name": user.username, "confirmation_code": code})
            url = f"{self.public_url}/confirmUser?{query}"
            subject = template.get("EmailSubjectByLink") or LINK_SUBJECT
            message = render(template.get("EmailMessageByLink") or LINK_MESSAGE, user.username, code)
            body = _LINK_TEXT.sub(lambda m: f'<a href="{url}">{m.group(1)}</a>', message)
        await self.messenger.send(
            channel="email" if delivery.medium == "EMAIL" else "sms",
            to=user.attributes[delivery.attribute],
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
        return delivery.details(user)

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

    async def redeem(self, pool: Pool, user: User, purpose: str, given: str) -> dict[str, Any]:
        """Check ``given`` (attempts limited) and consume the code; its stored doc on success."""
        key = f"{pool.id}:{user.sub}:{purpose}"
        try:
            async with self.lockout.attempt(pool.id, f"code:{purpose}:{user.sub}") as attempt:
                doc = await self.store.get(KIND, key)
                if doc is None or float(doc.get("expires_at", 0)) <= self.clock.now():
                    raise ExpiredCodeException(EXPIRED)
                if not hmac.compare_digest(_hash(user.sub, purpose, str(given)), str(doc["hash"])):
                    raise CodeMismatchException(MISMATCH)
                attempt.success = True
        except NotAuthorizedException:  # the lockout's "Password attempts exceeded"
            raise LimitExceededException(LIMIT) from None
        if await self.store.consume(KIND, key) is None:  # redeemed meanwhile elsewhere
            raise ExpiredCodeException(EXPIRED)
        return doc
