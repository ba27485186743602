"""The invitation AdminCreateUser sends: the username and temporary password, by email or SMS.

API reference, AdminCreateUser (DesiredDeliveryMediums, MessageAction RESEND and
SUPPRESS) and AdminCreateUserConfigType.InviteMessageTemplate ({username} and {####}
placeholders); without a template, Cognito's default texts.
"""

from __future__ import annotations

from cognate.core.entities import Pool, User
from cognate.core.messages import Messenger
from cognate.core.triggers import Message
from cognate.errors import InvalidParameterException

DEFAULT_INVITE_SUBJECT = "Your temporary password"
DEFAULT_INVITE_EMAIL = "Your username is {username} and temporary password is {####}."
DEFAULT_INVITE_SMS = "Your username is {username} and temporary password is {####}."


def render(template: str, username: str, code: str) -> str:
    return template.replace("{username}", username).replace("{####}", code)


def deliverable(mediums: list[str], attrs: dict[str, str]) -> None:
    """DesiredDeliveryMediums must name a medium the user has an address for."""
    if ("EMAIL" in mediums and attrs.get("email")) or ("SMS" in mediums and attrs.get("phone_number")):
        return
    raise InvalidParameterException("User has no attribute matching desired delivery mediums")


async def send_invitation(
    messenger: Messenger,
    pool: Pool,
    user: User,
    temp: str,
    mediums: list[str],
    custom: Message | None = None,
) -> None:
    """Send the temporary password by each medium asked for that the user has an address for.

    ``custom`` is the pool's CustomMessage_AdminCreateUser answer: its text is used when it
    keeps the password's ``{####}`` placeholder (else the template's or the default).
    """
    tpl = dict((pool.doc.get("AdminCreateUserConfig") or {}).get("InviteMessageTemplate") or {})
    if custom is not None:
        for key, text in (("EmailMessage", custom.email), ("SMSMessage", custom.sms)):
            if text and "{####}" in text:
                tpl[key] = text
        if custom.subject:
            tpl["EmailSubject"] = custom.subject
    sender = (pool.doc.get("EmailConfiguration") or {}).get("From")
    if "EMAIL" in mediums and user.attributes.get("email"):
        await messenger.send(
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
        await messenger.send(
            channel="sms",
            to=user.attributes["phone_number"],
            subject="",
            body=render(tpl.get("SMSMessage") or DEFAULT_INVITE_SMS, user.username, temp),
            kind="temporary-password",
            pool_id=pool.id,
            username=user.username,
            code=temp,
        )
