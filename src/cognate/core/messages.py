"""Delivery of what Cognito would send: SMTP for email when configured, else the outbox.

docs/messages.md: SMS, and email when no SMTP is set, are appended as one
JSON line to ``<data-dir>/outbox.jsonl`` (mode 0600). Lines are written with one
``write`` on an ``O_APPEND`` descriptor under an exclusive ``flock``, so several
workers never interleave a line.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cognate.errors import CodeDeliveryFailureException

log = logging.getLogger("cognate.messages")


class Messenger:
    def __init__(self, data_dir: Path, smtp_url: str | None, default_from: str, clock_now: object) -> None:
        self.outbox = data_dir / "outbox.jsonl"
        self.smtp_url = smtp_url
        self.default_from = default_from
        self._now = clock_now

    async def send(
        self,
        *,
        channel: str,
        to: str,
        subject: str,
        body: str,
        kind: str,
        pool_id: str,
        username: str,
        code: str | None,
        sender: str | None = None,
    ) -> None:
        if channel == "email" and self.smtp_url:
            await asyncio.to_thread(self._smtp, to, subject, body, sender or self.default_from)
            log.info("email (%s) sent by SMTP for %s in %s", kind, username, pool_id)
            return
        line = {
            "time": self._now(),  # type: ignore[operator]
            "channel": channel,
            "to": to,
            "subject": subject,
            "body": body,
            "kind": kind,
            "pool_id": pool_id,
            "username": username,
            "code": code,
        }
        await asyncio.to_thread(self._append, json.dumps(line) + "\n")

    async def rehearse(self, channel: str) -> None:
        """Do what ``send`` does but deliver nothing: for a user who does not exist, so that
        the answer takes as long (PreventUserExistenceErrors). The outbox is opened and
        locked as for a message and nothing is written. (With SMTP, a real delivery's
        network time cannot be matched; that difference remains.)"""
        if channel == "email" and self.smtp_url:
            return
        await asyncio.to_thread(self._append, "")

    def _append(self, text: str) -> None:
        self.outbox.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.outbox, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def _smtp(self, to: str, subject: str, body: str, sender: str) -> None:
        url = urlsplit(self.smtp_url or "")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, to, subject
        msg.set_content(body)
        try:
            if url.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    url.hostname or "localhost",
                    url.port or 465,
                    context=ssl.create_default_context(),
                    timeout=10,
                )
            else:
                smtp = smtplib.SMTP(url.hostname or "localhost", url.port or 25, timeout=10)
            with smtp:
                if url.username:
                    smtp.login(unquote(url.username), unquote(url.password or ""))
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP delivery failed: %s", type(exc).__name__)
            raise CodeDeliveryFailureException("Unable to deliver the message.") from exc
