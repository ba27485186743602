"""Self-service sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode.

Sources: Amazon Cognito API reference (SignUp, ConfirmSignUp, ResendConfirmationCode);
developer guide, "Signing up and confirming user accounts" (the code goes to the
auto-verified attribute, the phone number when both are; confirming verifies that
attribute), "Quotas" (a sign-up code lives 24 hours), "Managing error responses"
(PreventUserExistenceErrors). Codes are six random digits, stored only as hashes, and
guessing is limited per user with the sign-in lockout's counter: after five wrong
codes, LimitExceededException with a growing wait.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cognate.core.entities import Client, Pool, User, UserStatus
from cognate.core.outcome import names_of
from cognate.core.users import render, username_key
from cognate.errors import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    LimitExceededException,
    NotAuthorizedException,
    UserNotFoundException,
)

if TYPE_CHECKING:
    from cognate.core.auth_flows import AuthFlows

KIND = "signup-code"
CODE_LIFETIME_S = 24 * 3600
DEFAULT_SUBJECT = "Your verification code"
DEFAULT_MESSAGE = "Your verification code is {####}."
LIMIT = "Attempt limit exceeded, please try after some time."


def mask(medium: str, destination: str) -> str:
    """Cognito-style masked destination: ``a***@e***`` or ``+*******1234``."""
    if medium == "EMAIL" and "@" in destination:
        local, domain = destination.split("@", 1)
        return f"{local[:1]}***@{domain[:1]}***"
    return "+" + "*" * max(0, len(destination) - 5) + destination[-4:]


def _code_hash(sub: str, code: str) -> str:
    return hashlib.sha256(f"{sub}:{code}".encode()).hexdigest()


class SignUps:
    def __init__(self, flows: AuthFlows) -> None:
        self.flows = flows
        self.users = flows.users
        self.store = flows.tokens.store

    # --- SignUp ------------------------------------------------------------------------

    async def sign_up(self, client_id: str, req: dict[str, Any]) -> dict[str, Any]:
        pool, client = await self.flows.client_of(client_id)
        username, password = req["Username"], req["Password"]
        self.flows.check_secret_hash(client, username, req.get("SecretHash"))
        if (pool.doc.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
            raise NotAuthorizedException("SignUp is not permitted for this user pool")
        attrs = {a["Name"]: a.get("Value", "") for a in req.get("UserAttributes") or []}
        writable = client.doc.get("WriteAttributes")
        if writable:
            for name in attrs:
                if name not in writable:
                    raise NotAuthorizedException("A client attempted to write unauthorized attribute")
        user = await self.users.create(pool, username, password, attrs, UserStatus.UNCONFIRMED, admin=False)
        out: dict[str, Any] = {"UserConfirmed": False, "UserSub": user.sub}
        delivery = await self._send_code(pool, user)
        if delivery:
            out["CodeDeliveryDetails"] = delivery
        return out

    def _destination(self, pool: Pool, user: User) -> tuple[str, str, str] | None:
        """(medium, attribute, address) the code goes to, if any attribute is auto-verified."""
        auto = pool.doc.get("AutoVerifiedAttributes") or []
        if "phone_number" in auto and user.attributes.get("phone_number"):
            return "SMS", "phone_number", user.attributes["phone_number"]
        if "email" in auto and user.attributes.get("email"):
            return "EMAIL", "email", user.attributes["email"]
        return None

    async def _send_code(self, pool: Pool, user: User) -> dict[str, str] | None:
        target = self._destination(pool, user)
        if target is None:
            return None
        medium, attribute, address = target
        code = f"{secrets.randbelow(10**6):06d}"
        now = self.flows.clock.now()
        await self.store.put(
            KIND,
            f"{pool.id}:{user.sub}",
            {"hash": _code_hash(user.sub, code), "attribute": attribute, "expires_at": now + CODE_LIFETIME_S},
            CODE_LIFETIME_S,
        )
        tpl = pool.doc.get("VerificationMessageTemplate") or {}
        if medium == "EMAIL":
            subject = tpl.get("EmailSubject") or pool.doc.get("EmailVerificationSubject") or DEFAULT_SUBJECT
            body = tpl.get("EmailMessage") or pool.doc.get("EmailVerificationMessage") or DEFAULT_MESSAGE
            sender = (pool.doc.get("EmailConfiguration") or {}).get("From")
        else:
            subject = ""
            body = tpl.get("SmsMessage") or pool.doc.get("SmsVerificationMessage") or DEFAULT_MESSAGE
            sender = None
        await self.users.messenger.send(
            channel="email" if medium == "EMAIL" else "sms",
            to=address,
            subject=subject,
            body=render(body, user.username, code),
            kind="verification",
            pool_id=pool.id,
            username=user.username,
            code=code,
            sender=sender,
        )
        return {"Destination": mask(medium, address), "DeliveryMedium": medium, "AttributeName": attribute}

    # --- ConfirmSignUp and ResendConfirmationCode -----------------------------------------

    async def _user(self, pool: Pool, client: Client, typed: str, secret_hash: str | None) -> User | None:
        user = await self.users.find(pool, typed)
        self.flows.check_secret_hash(client, typed, secret_hash, *names_of(user))
        if user is None and client.doc.get("PreventUserExistenceErrors") != "ENABLED":
            raise UserNotFoundException("Username/client id combination not found.")
        return user

    async def confirm(self, client_id: str, req: dict[str, Any]) -> None:
        pool, client = await self.flows.client_of(client_id)
        user = await self._user(pool, client, req["Username"], req.get("SecretHash"))
        if user is None:
            raise CodeMismatchException("Invalid verification code provided, please try again.")
        if user.status != UserStatus.UNCONFIRMED:
            raise NotAuthorizedException(f"User cannot be confirmed. Current status is {user.status}")
        key = f"{pool.id}:{user.sub}"
        try:
            async with self.flows.lockout.attempt(pool.id, f"confirm:{user.sub}") as attempt:
                doc = await self.store.get(KIND, key)
                if doc is None or float(doc.get("expires_at", 0)) <= self.flows.clock.now():
                    raise ExpiredCodeException("Invalid code provided, please request a code again.")
                given = _code_hash(user.sub, str(req["ConfirmationCode"]))
                if not hmac.compare_digest(given, str(doc["hash"])):
                    raise CodeMismatchException("Invalid verification code provided, please try again.")
                attempt.success = True
        except NotAuthorizedException:
            raise LimitExceededException(LIMIT) from None
        if await self.store.consume(KIND, key) is None:
            raise ExpiredCodeException("Invalid code provided, please request a code again.")
        verified = [{"Name": f"{doc['attribute']}_verified", "Value": "true"}]
        user = await self.users.update_attributes(pool, user, verified)
        confirmed = replace(user, status=UserStatus.CONFIRMED, modified=self.flows.clock.now())
        await self.store.update_user(confirmed, username_key(pool, user.username))

    async def resend(self, client_id: str, req: dict[str, Any]) -> dict[str, Any]:
        pool, client = await self.flows.client_of(client_id)
        user = await self._user(pool, client, req["Username"], req.get("SecretHash"))
        if user is None:
            # Simulated delivery (PreventUserExistenceErrors ENABLED): nothing is sent.
            return {
                "CodeDeliveryDetails": {
                    "Destination": "+*******0000",
                    "DeliveryMedium": "SMS",
                    "AttributeName": "phone_number",
                }
            }
        if user.status != UserStatus.UNCONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        delivery = await self._send_code(pool, user)
        if delivery is None:
            raise InvalidParameterException("Auto verification not turned on.")
        return {"CodeDeliveryDetails": delivery}
