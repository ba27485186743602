"""A user's own account (access token) and password resets."""

from __future__ import annotations

from typing import Any

from cognate.awsjson import wire
from cognate.awsjson.ops.signup import prove_client
from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core


@operation("ChangePassword", auth=Auth.PUBLIC)
async def change_password(core: Core, p: Params) -> dict[str, Any]:
    await core.account.change_password(
        p.str("AccessToken"), p.str("PreviousPassword"), p.str("ProposedPassword"), p.ctx
    )
    return {}


@operation("UpdateUserAttributes", auth=Auth.PUBLIC)
async def update_user_attributes(core: Core, p: Params) -> dict[str, Any]:
    changes = wire.attribute_map(p.list("UserAttributes"))
    sent = await core.account.update_attributes(p.str("AccessToken"), changes, p.ctx)
    return {"CodeDeliveryDetailsList": [wire.code_delivery(s) for s in sent]}


@operation("DeleteUserAttributes", auth=Auth.PUBLIC)
async def delete_user_attributes(core: Core, p: Params) -> dict[str, Any]:
    await core.account.delete_attributes(p.str("AccessToken"), p.list("UserAttributeNames"))
    return {}


@operation("GetUserAttributeVerificationCode", auth=Auth.PUBLIC)
async def get_user_attribute_verification_code(core: Core, p: Params) -> dict[str, Any]:
    sent = await core.account.attribute_code(p.str("AccessToken"), p.str("AttributeName"), p.ctx)
    return {"CodeDeliveryDetails": wire.code_delivery(sent)}


@operation("VerifyUserAttribute", auth=Auth.PUBLIC)
async def verify_user_attribute(core: Core, p: Params) -> dict[str, Any]:
    await core.account.verify_attribute(p.str("AccessToken"), p.str("AttributeName"), p.str("Code"))
    return {}


@operation("DeleteUser", auth=Auth.PUBLIC)
async def delete_user(core: Core, p: Params) -> dict[str, Any]:
    await core.account.delete_user(p.str("AccessToken"))
    return {}


@operation("ForgotPassword", auth=Auth.PUBLIC)
async def forgot_password(core: Core, p: Params) -> dict[str, Any]:
    sent = await core.account.forgot_password(p.ctx, await prove_client(core, p), p.str("Username"))
    return {"CodeDeliveryDetails": wire.code_delivery(sent)}


@operation("ConfirmForgotPassword", auth=Auth.PUBLIC)
async def confirm_forgot_password(core: Core, p: Params) -> dict[str, Any]:
    await core.account.confirm_forgot_password(
        p.ctx, await prove_client(core, p), p.str("Username"), p.str("ConfirmationCode"), p.str("Password")
    )
    return {}


@operation("AdminResetUserPassword", auth=Auth.IAM)
async def admin_reset_user_password(core: Core, p: Params) -> dict[str, Any]:
    pool = await core.pools.get(p.str("UserPoolId"))
    user = await core.users.get(pool, p.str("Username"))
    await core.account.admin_reset_password(pool, user, p.ctx)
    return {}
