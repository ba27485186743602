"""Self-service sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode."""

from __future__ import annotations

from typing import Any

from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core


@operation("SignUp", auth=Auth.PUBLIC)
async def sign_up(core: Core, p: Params) -> dict[str, Any]:
    return await core.signups.sign_up(p.str("ClientId"), p.body)


@operation("ConfirmSignUp", auth=Auth.PUBLIC)
async def confirm_sign_up(core: Core, p: Params) -> dict[str, Any]:
    await core.signups.confirm(p.str("ClientId"), p.body)
    return {}


@operation("ResendConfirmationCode", auth=Auth.PUBLIC)
async def resend_confirmation_code(core: Core, p: Params) -> dict[str, Any]:
    return await core.signups.resend(p.str("ClientId"), p.body)
