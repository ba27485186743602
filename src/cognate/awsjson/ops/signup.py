"""Self-service sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core


async def prove_client(core: Core, p: Params) -> str:
    """The client's SecretHash over the Username (or the user it designates); its id."""
    pool, client = await core.client_auth.client(p.ctx, p.str("ClientId"))
    await core.client_auth.secret_hash_for_username(
        p.ctx, pool, client, p.opt_str("SecretHash"), p.str("Username")
    )
    return client.id


@operation("SignUp", auth=Auth.PUBLIC)
async def sign_up(core: Core, p: Params) -> dict[str, Any]:
    pool, client = await core.client_auth.client(p.ctx, p.str("ClientId"))
    await core.client_auth.secret_hash_for_sign_up(
        p.ctx, pool, client, p.opt_str("SecretHash"), p.str("Username")
    )
    done = await core.signups.sign_up(
        p.ctx,
        client.id,
        p.str("Username"),
        p.str("Password"),
        wire.attribute_map(p.list("UserAttributes")),
        wire.attribute_map(p.list("ValidationData")),
    )
    out: dict[str, Any] = {"UserConfirmed": done.confirmed, "UserSub": done.user.sub}
    if done.delivery is not None:
        out["CodeDeliveryDetails"] = wire.code_delivery(done.delivery)
    return out


@operation("ConfirmSignUp", auth=Auth.PUBLIC)
async def confirm_sign_up(core: Core, p: Params) -> dict[str, Any]:
    await core.signups.confirm(
        p.ctx,
        await prove_client(core, p),
        p.str("Username"),
        p.str("ConfirmationCode"),
        force_alias=p.bool("ForceAliasCreation"),
    )
    return {}


@operation("ResendConfirmationCode", auth=Auth.PUBLIC)
async def resend_confirmation_code(core: Core, p: Params) -> dict[str, Any]:
    sent = await core.signups.resend(p.ctx, await prove_client(core, p), p.str("Username"))
    return {"CodeDeliveryDetails": wire.code_delivery(sent)}
