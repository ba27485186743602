"""Multi-factor sign-in: authenticator apps (TOTP, RFC 6238 with pyotp) and SMS codes.

Sources: Amazon Cognito API reference (AssociateSoftwareToken, VerifySoftwareToken,
SetUserMFAPreference, AdminSetUserMFAPreference, SetUserPoolMfaConfig,
GetUserPoolMfaConfig); developer guide, "Adding MFA to a user pool": with
MfaConfiguration OFF nobody is asked; OPTIONAL asks the users who enabled a factor;
ON asks everyone, and a user with no factor yet is sent through MFA_SETUP. The
preferred factor is asked first; TOTP codes are checked with one step of clock drift.
The user's TOTP secret is sealed with the master key; SMS codes go through codes.py.
"""

from __future__ import annotations

import copy
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pyotp

from cognate.core.clock import Clock
from cognate.core.codes import CodeDelivery, Codes, delivery_for
from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User
from cognate.core.pools import Pools
from cognate.core.users import Users, username_key
from cognate.crypto.sealing import Sealer
from cognate.errors import (
    CodeMismatchException,
    EnableSoftwareTokenMFAException,
    InvalidParameterException,
    SoftwareTokenMFANotFoundException,
)

TOTP = "SOFTWARE_TOKEN_MFA"
SMS = "SMS_MFA"
PURPOSE = "totp-secret"
STEP_KIND = "totp-step"
STEP_MEMORY_S = 150.0  # longer than the three steps (90 s) a code can be accepted in


@dataclass(frozen=True)
class Preference:
    """One factor's setting in an MFA preference: None leaves that part as it is."""

    enabled: bool | None = None
    preferred: bool | None = None


def pool_methods(pool: Pool) -> list[str]:
    """The factors the pool offers (none while MfaConfiguration is OFF)."""
    if pool.doc.get("MfaConfiguration", "OFF") == "OFF":
        return []
    config = pool.doc.get("MfaConfig")
    if not config:  # never set with SetUserPoolMfaConfig: both factors, as CreateUserPool implies
        return [TOTP, SMS]
    methods = []
    if (config.get("SoftwareTokenMfaConfiguration") or {}).get("Enabled"):
        methods.append(TOTP)
    if config.get("SmsMfaConfiguration"):
        methods.append(SMS)
    return methods


class Mfa:
    def __init__(self, pools: Pools, users: Users, codes: Codes, sealer: Sealer, clock: Clock) -> None:
        self.pools = pools
        self.users = users
        self.codes = codes
        self.sealer = sealer
        self.clock = clock

    async def _save(self, pool: Pool, user: User, mfa: dict[str, Any]) -> User:
        updated = replace(user, mfa=mfa, modified=self.clock.now())
        await self.users.store.update_user(updated, username_key(pool, user.username))
        return updated

    # --- the pool's configuration -------------------------------------------------------

    async def set_pool_config(
        self,
        pool_id: str,
        *,
        mode: str | None = None,
        sms: Mapping[str, Any] | None = None,
        software_token: Mapping[str, Any] | None = None,
        email: Mapping[str, Any] | None = None,
    ) -> Pool:
        """SetUserPoolMfaConfig: the factors given replace the pool's; ``mode`` is OFF, ON or OPTIONAL.

        The factor configurations are kept as Cognito shapes them (SmsMfaConfiguration,
        SoftwareTokenMfaConfiguration, EmailMfaConfiguration), like the rest of the pool.
        """
        pool = await self.pools.get(pool_id)
        doc = copy.deepcopy(pool.doc)
        config = dict(doc.get("MfaConfig") or {})
        for key, value in (
            ("SmsMfaConfiguration", sms),
            ("SoftwareTokenMfaConfiguration", software_token),
            ("EmailMfaConfiguration", email),
        ):
            if value is not None:
                config[key] = copy.deepcopy(dict(value))
        if mode is not None:
            doc["MfaConfiguration"] = mode
        doc["MfaConfig"] = config
        if doc.get("MfaConfiguration") == "ON" and not pool_methods(replace(pool, doc=doc)):
            raise InvalidParameterException("MFA cannot be ON without at least one MFA method enabled.")
        return await self.pools.save_doc(pool, doc)

    # --- authenticator apps ---------------------------------------------------------------

    async def associate(self, pool: Pool, user: User) -> str:
        """A new TOTP secret, pending until a code made from it is verified."""
        secret = pyotp.random_base32(length=32)
        mfa = {**user.mfa, "totp_pending": self.sealer.seal(secret, PURPOSE)}
        await self._save(pool, user, mfa)
        return secret

    async def verify_software_token(self, pool: Pool, user: User, code: str, friendly: str | None) -> User:
        pending = user.mfa.get("totp_pending")
        if not pending:
            raise EnableSoftwareTokenMFAException(
                "Associate a software token first (AssociateSoftwareToken)."
            )
        if not await self._use_step(user, self.sealer.unseal(pending, PURPOSE), code):
            raise EnableSoftwareTokenMFAException("Code mismatch")
        mfa = {k: v for k, v in user.mfa.items() if k != "totp_pending"}
        mfa["totp"] = pending
        if friendly:
            mfa["totp_name"] = friendly
        return await self._save(pool, user, mfa)

    def _matching_step(self, secret: str, code: str) -> int | None:
        """The time step (RFC 6238 T) whose code ``code`` is, within one step of drift."""
        totp = pyotp.TOTP(secret)
        now = self.clock.now()
        found = None
        for drift in (-1, 0, 1):
            moment = now + drift * totp.interval
            if hmac.compare_digest(totp.at(moment).encode(), str(code).encode()):
                found = int(moment // totp.interval)
        return found

    async def _use_step(self, user: User, secret: str, code: str) -> bool:
        """Whether ``code`` is right and its time step was not used before by this user.

        RFC 6238 section 5.2: "the verifier MUST NOT accept the second attempt of the OTP
        after the successful validation has been issued for the first OTP". The step is
        claimed in the store atomically, so two sign-ins with one code on two workers or
        nodes cannot both pass. VerifySoftwareToken uses its step up too: the code typed
        while setting an authenticator up does not also sign in.
        """
        step = self._matching_step(secret, code)
        if step is None:
            return False
        # Per authenticator (a new secret starts afresh), named by a keyed digest of it.
        # During a master-key rotation the step is claimed under every key's name, so a code
        # used just before the switch is not used again just after it.
        claimed = True
        for which in self.sealer.digests(secret, STEP_KIND):
            claimed &= await self.users.store.put_new(
                STEP_KIND, f"{user.pool_id}:{user.sub}:{which[:32]}:{step}", {}, STEP_MEMORY_S
            )
        return claimed

    async def totp_ok(self, user: User, code: str) -> bool:
        sealed = user.mfa.get("totp")
        if not isinstance(sealed, str):
            return False
        return await self._use_step(user, self.sealer.unseal(sealed, PURPOSE), code)

    # --- preferences ------------------------------------------------------------------------

    async def set_preference(
        self, pool: Pool, user: User, sms: Preference | None, totp: Preference | None
    ) -> User:
        """SetUserMFAPreference / AdminSetUserMFAPreference: None leaves a factor as it is."""
        enabled = list(user.mfa.get("enabled", []))
        preferred = user.mfa.get("preferred")
        for method, settings in ((SMS, sms), (TOTP, totp)):
            if settings is None:
                continue
            if settings.enabled:
                if method == TOTP and not user.mfa.get("totp"):
                    raise SoftwareTokenMFANotFoundException(
                        "Software Token MFA has not been enabled by the user."
                    )
                if method == SMS and not user.attributes.get("phone_number"):
                    raise InvalidParameterException("User does not have a phone number for SMS MFA.")
                if method not in enabled:
                    enabled.append(method)
            elif method in enabled:
                enabled.remove(method)
            if settings.preferred:
                if method not in enabled:
                    raise InvalidParameterException("A preferred MFA method must be enabled.")
                preferred = method
            elif preferred == method and (settings.enabled is False or settings.preferred is not None):
                preferred = None
        if preferred not in enabled:
            preferred = None
        return await self._save(pool, user, {**user.mfa, "enabled": enabled, "preferred": preferred})

    # --- at sign-in -------------------------------------------------------------------------

    def challenge_for(self, pool: Pool, user: User) -> str | None:
        """SOFTWARE_TOKEN_MFA, SMS_MFA, MFA_SETUP (ON and nothing set up), or None."""
        offered = pool_methods(pool)
        if not offered:
            return None
        enabled = [m for m in user.mfa.get("enabled", []) if m in offered]
        if not enabled:
            if pool.doc.get("MfaConfiguration") != "ON":
                return None
            if SMS in offered and user.attributes.get("phone_number"):
                return SMS
            return "MFA_SETUP" if TOTP in offered else None
        preferred = user.mfa.get("preferred")
        if preferred in enabled:
            return str(preferred)
        return TOTP if TOTP in enabled else SMS

    async def send_sms_code(
        self, pool: Pool, user: User, ctx: RequestContext | None = None, client: Client | None = None
    ) -> CodeDelivery:
        return await self.codes.send(
            pool,
            user,
            "mfa",
            delivery_for("phone_number"),
            ctx=ctx,
            source="CustomMessage_Authentication",
            client=client,
        )

    async def check_sms_code(self, pool: Pool, user: User, code: str) -> None:
        await self.codes.redeem(pool, user, "mfa", code)

    async def check_totp(self, user: User, code: str) -> None:
        if not await self.totp_ok(user, code):
            raise CodeMismatchException("Invalid code received for user")
