"""Password recovery pages: ``/forgotPassword`` and ``/confirmforgotPassword`` (sic, as Cognito).

Cognito's managed login (API reference ForgotPassword, ConfirmForgotPassword; developer
guide, "Recovering user accounts"): the code goes where AccountRecoverySetting says; with
PreventUserExistenceErrors an unknown user sees the same pages as a known one. Once the
new password is set, the user is signed in with it (the core's password sign-in: MFA and
the lockout still apply) and the detour ends at the app's redirect_uri with a code.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from cognate.errors import CognateError, InvalidPasswordException
from cognate.hosted_ui import calls
from cognate.hosted_ui.signin import advance, password_hint
from cognate.hosted_ui.visit import Visit

RESET_TTL_S = 3600


def _forgot_page(visit: Visit, username: str = "", error: str | None = None) -> Response:
    return visit.render(
        "forgot.html",
        "Forgot your password?",
        status=400 if error else 200,
        username=username,
        error=error,
        errors={"username": error} if error else {},
    )


async def forgot_form(visit: Visit) -> Response:
    return _forgot_page(visit, visit.request.query_params.get("username") or "")


async def forgot_post(visit: Visit) -> Response:
    username = (visit.form.get("username") or "").strip()
    if not username:
        return _forgot_page(visit, error="Enter your username.")
    try:
        sent = await calls.forgot_password(visit.core, visit.context(), visit.client, username)
    except CognateError as exc:
        return _forgot_page(visit, username, exc.message)
    step = await visit.core.detours.put(
        visit.browser,
        {
            "kind": "reset",
            "username": username,
            "destination": sent.destination,
            "medium": sent.medium,
        },
        RESET_TTL_S,
    )
    return visit.redirect("/confirmforgotPassword", username=username, step=step)


async def _delivery(visit: Visit, username: str) -> dict[str, Any]:
    step = visit.form.get("step") if visit.form else visit.request.query_params.get("step")
    record = await visit.core.detours.get(visit.browser, step)
    if record is None or record.get("kind") != "reset" or record.get("username") != username:
        return {}
    return {
        "destination": record.get("destination"),
        "medium": "SMS" if record.get("medium") == "SMS" else "email",
        "step": step,
    }


def _confirm_page(
    visit: Visit, username: str, delivery: dict[str, Any], *, error: str | None = None, field: str = "code"
) -> Response:
    return visit.render(
        "confirm_forgot.html",
        "Reset your password",
        status=400 if error else 200,
        username=username,
        password_hint=password_hint(visit),
        error=error,
        errors={field: error} if error else {},
        destination=delivery.get("destination"),
        medium=delivery.get("medium"),
        step=delivery.get("step") or "",
    )


async def confirm_form(visit: Visit) -> Response:
    username = visit.request.query_params.get("username") or ""
    if not username:
        return visit.redirect("/forgotPassword")
    return _confirm_page(visit, username, await _delivery(visit, username))


async def confirm_post(visit: Visit) -> Response:
    username = (visit.form.get("username") or "").strip()
    code = (visit.form.get("code") or "").strip()
    password = visit.form.get("password") or ""
    delivery = await _delivery(visit, username)
    if not username:
        return visit.redirect("/forgotPassword")
    if not code:
        return _confirm_page(visit, username, delivery, error="Enter the code.")
    if not password:
        return _confirm_page(visit, username, delivery, error="Enter a new password.", field="password")
    if password != visit.form.get("password_confirm"):
        return _confirm_page(
            visit, username, delivery, error="The passwords do not match.", field="password_confirm"
        )
    try:
        await calls.confirm_forgot_password(
            visit.core, visit.context(), visit.client, username, code, password
        )
    except InvalidPasswordException as exc:
        return _confirm_page(visit, username, delivery, error=exc.message, field="password")
    except CognateError as exc:
        return _confirm_page(visit, username, delivery, error=exc.message)
    if delivery.get("step"):
        await visit.core.detours.consume(visit.browser, str(delivery["step"]))
    try:
        step = await calls.password_sign_in(
            visit.core, visit.context(), visit.pool, visit.client, username, password
        )
    except CognateError:
        return visit.redirect("/login", notice="password_changed")
    return await advance(visit, step, username)
