"""USER_SRP_AUTH: the password proven by SRP-6a without being sent (as amazon-cognito-identity-js
computes it).

InitiateAuth (or AdminInitiateAuth) with ``SRP_A`` answers ``PASSWORD_VERIFIER`` with
``SALT``, ``SRP_B``, ``SECRET_BLOCK`` and ``USER_ID_FOR_SRP``; RespondToAuthChallenge
brings ``PASSWORD_CLAIM_SIGNATURE`` over that secret block and a ``TIMESTAMP``. The
server's half of the exchange (its ephemeral ``b``, sealed) is kept in the store under
the secret block's hash and redeemed once, atomically, so a claim cannot be replayed
and any worker or node can check it. The proof then goes through the same lockout and
state checks as a password (``AuthFlows.sign_in_first_factor``, PreAuthentication first).

With PreventUserExistenceErrors ENABLED an unknown user gets a simulated challenge with a
stable salt and internal id, as Cognito documents ("Managing error responses"), and the
proof simply fails; with LEGACY, UserNotFoundException comes at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User
from cognate.core.outcome import Challenge, SignInStep
from cognate.core.users import username_key
from cognate.crypto import srp
from cognate.errors import InvalidParameterException, NotAuthorizedException, UserNotFoundException

if TYPE_CHECKING:
    from cognate.core.auth_flows import AuthFlows

KIND = "srp"
EPHEMERAL_PURPOSE = "srp-ephemeral"
INCORRECT = "Incorrect username or password."


def _key(secret_block: str) -> str:
    return hashlib.sha256(secret_block.encode()).hexdigest()


class SrpSignIn:
    def __init__(self, flows: AuthFlows, secret_seed: bytes) -> None:
        self.flows = flows
        self.store = flows.tokens.store
        self.sealer = flows.clients.sealer
        self.seed = secret_seed

    def _fake_user_id(self, pool: Pool, typed: str) -> str:
        digest = hmac.new(
            self.seed, f"{pool.id}\0{username_key(pool, typed)}".encode(), hashlib.sha256
        ).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def _material(self, pool: Pool, typed: str, user: User | None) -> tuple[str, str, str]:
        """(user id for SRP, salt, verifier): the user's own, or a stable simulation."""
        if user is not None:
            found = self.flows.users.srp_material(user)
            if found is not None:
                return user.username, found[0], found[1]
        salt, verifier = srp.fake_salt_and_verifier(self.seed, pool.id, username_key(pool, typed))
        return self._fake_user_id(pool, typed), salt, verifier

    async def _cpu(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.flows.users.cpu, fn, *args)

    async def start(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client,
        typed: str,
        srp_a: str,
        *,
        custom: dict[str, Any] | None = None,
    ) -> Challenge:
        """PASSWORD_VERIFIER; ``custom`` is the state of a CUSTOM_AUTH sign-in this step is part of."""
        if not typed:
            raise InvalidParameterException("Missing required parameter USERNAME")
        if not srp_a:
            raise InvalidParameterException("Missing required parameter SRP_A")
        user = await self.flows.users.find(pool, typed)
        if user is None and client.doc.get("PreventUserExistenceErrors") != "ENABLED":
            raise UserNotFoundException("User does not exist.")
        user_id, salt, verifier = self._material(pool, typed, user)
        try:
            # In this thread: g^b comes from srp's fixed-base table (multiplications that hold
            # the GIL in any thread), so a hand-off to the executor would only add its cost.
            challenge = srp.start(verifier, srp_a)
        except ValueError:
            raise InvalidParameterException("SRP_A is not a valid SRP-6a public value.") from None
        secret_block = base64.b64encode(os.urandom(64)).decode()
        minutes = int(client.doc.get("AuthSessionValidity") or 3)
        await self.store.put(
            KIND,
            _key(secret_block),
            {
                "pool_id": pool.id,
                "client_id": client.id,
                "sub": user.sub if user else None,
                "typed": typed,
                "user_id": user_id,
                "b": self.sealer.seal(challenge.b_hex, EPHEMERAL_PURPOSE),
                "B": challenge.B_hex,
                "A": challenge.A_hex,
                "expires_at": self.flows.clock.now() + minutes * 60,
                "custom": custom,
            },
            minutes * 60,
        )
        session = None  # the state travels in SECRET_BLOCK
        if custom is not None:  # as Cognito, a custom sign-in's every step carries a Session
            session = await self.flows.sessions.start(
                {"challenge": "PASSWORD_VERIFIER", "pool_id": pool.id, "client_id": client.id, "sub": None},
                minutes,
            )
        return Challenge(
            "PASSWORD_VERIFIER",
            session,
            {
                "SALT": salt,
                "SRP_B": challenge.B_hex,
                "SECRET_BLOCK": secret_block,
                "USERNAME": user_id,
                "USER_ID_FOR_SRP": user_id,
            },
        )

    @staticmethod
    def _claim(responses: Mapping[str, str]) -> tuple[str, str, str]:
        secret_block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or ""
        signature = responses.get("PASSWORD_CLAIM_SIGNATURE") or ""
        timestamp = responses.get("TIMESTAMP") or ""
        if not secret_block or not signature or not timestamp:
            raise InvalidParameterException(
                "PASSWORD_VERIFIER needs PASSWORD_CLAIM_SECRET_BLOCK, PASSWORD_CLAIM_SIGNATURE and TIMESTAMP"
            )
        return secret_block, signature, timestamp

    def _check_state(self, pool: Pool, client: Client, state: dict[str, Any] | None) -> dict[str, Any]:
        if (
            state is None
            or float(state.get("expires_at", 0)) <= self.flows.clock.now()
            or state.get("client_id") != client.id
            or state.get("pool_id") != pool.id
        ):
            raise NotAuthorizedException(INCORRECT)
        return state

    async def _user(self, pool: Pool, state: dict[str, Any]) -> User | None:
        return await self.flows.user_by_sub(pool, state["sub"]) if state.get("sub") else None

    async def pending_user(
        self, pool: Pool, client: Client, responses: Mapping[str, str]
    ) -> tuple[str, User | None]:
        """(internal user id, user) of a pending exchange, without redeeming it (for client_auth)."""
        secret_block, _, _ = self._claim(responses)
        state = await self.store.get(KIND, _key(secret_block)) if len(secret_block) <= 8192 else None
        state = self._check_state(pool, client, state)
        return str(state["user_id"]), await self._user(pool, state)

    async def verify(
        self, ctx: RequestContext, pool: Pool, client: Client, responses: Mapping[str, str]
    ) -> SignInStep:
        secret_block, signature, timestamp = self._claim(responses)
        state = await self.store.consume(KIND, _key(secret_block)) if len(secret_block) <= 8192 else None
        now = self.flows.clock.now()
        state = self._check_state(pool, client, state)
        user = await self._user(pool, state)
        _, _, verifier = self._material(pool, state["typed"], user)
        challenge = srp.ServerChallenge(
            b_hex=self.sealer.unseal(state["b"], EPHEMERAL_PURPOSE), B_hex=state["B"], A_hex=state["A"]
        )

        async def proof_holds() -> bool:
            if not srp.timestamp_ok(timestamp, now):
                return False
            ok: bool = await self._cpu(
                srp.verify_claim,
                pool.short_id,
                state["user_id"],
                verifier,
                challenge,
                secret_block,
                timestamp,
                signature,
            )
            return ok

        if state.get("custom") is not None:  # the password step of a CUSTOM_AUTH sign-in
            # (PreAuthentication ran when the custom sign-in began)
            user = await self.flows.verify_first_factor(pool, client, state["typed"], user, proof_holds)
            return await self.flows.custom.after_password(ctx, pool, client, user, state["custom"])
        user = await self.flows.sign_in_first_factor(ctx, pool, client, state["typed"], user, proof_holds)
        return await self.flows.after_first_factor(ctx, pool, client, user, ("pwd",))
