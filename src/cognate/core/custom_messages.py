"""The one place the pool's CustomMessage function is called, for every triggerSource.

Developer guide, "Custom message Lambda trigger": CustomMessage_SignUp,
_AdminCreateUser, _ResendCode, _ForgotPassword, _UpdateUserAttribute,
_VerifyUserAttribute and _Authentication. Codes (codes.py) and invitations (users.py)
ask here for the text; the function answers with the message around the code's
``{####}`` placeholder (and ``{username}`` for an invitation).
"""

from __future__ import annotations

from cognate.core.context import RequestContext
from cognate.core.entities import Client, Pool, User
from cognate.core.triggers import Message, Triggers

CODE_PARAMETER = "{####}"


class CustomMessages:
    def __init__(self, triggers: Triggers) -> None:
        self.triggers = triggers

    async def text(
        self,
        ctx: RequestContext,
        pool: Pool,
        client: Client | None,
        source: str,
        user: User,
        username_parameter: str | None = None,
    ) -> Message | None:
        """The function's message for ``source``; None when the pool names no function."""
        return await self.triggers.custom_message(
            ctx, pool, client, source, user, CODE_PARAMETER, username_parameter
        )
