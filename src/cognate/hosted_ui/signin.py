"""Sign-in pages: ``/login`` and the steps it can lead to (new password, MFA code, MFA set-up).

Cognito's login endpoint (developer guide, "Login endpoint"): the form posts the username
and password; a live browser session of the pool skips the form (unless ``prompt=login``);
a wrong password stays on the page with Cognito's message. The password is checked by the
core's sign-in (the lockout and PreventUserExistenceErrors as for InitiateAuth); its
challenges are answered through RespondToAuthChallenge's flow: NEW_PASSWORD_REQUIRED,
SOFTWARE_TOKEN_MFA, SMS_MFA, and MFA_SETUP with a QR code of the ``otpauth://`` URI (Google
Authenticator's Key Uri Format) made by segno.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from cognate.core import browser_sessions
from cognate.core.password_policy import policy_of
from cognate.errors import (
    CognateError,
    InvalidPasswordException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    UserNotConfirmedException,
)
from cognate.hosted_ui import calls
from cognate.hosted_ui.detour import PageError
from cognate.hosted_ui.visit import Visit

STEP_TTL_S = 15 * 60
STEP_PAGE = {
    "NEW_PASSWORD_REQUIRED": "/forceChangePassword",
    "SOFTWARE_TOKEN_MFA": "/mfa",
    "SMS_MFA": "/mfa",
    "MFA_SETUP": "/mfaSetup",
}
TOTP_PURPOSE = "hosted-totp-setup"
EXPIRED = "Invalid session for the user, session is expired."


def password_hint(visit: Visit) -> str:
    policy = policy_of(visit.pool.doc)
    parts = [f"at least {policy.get('MinimumLength', 8)} characters"]
    for key, what in (
        ("RequireLowercase", "a lowercase letter"),
        ("RequireUppercase", "an uppercase letter"),
        ("RequireNumbers", "a number"),
        ("RequireSymbols", "a symbol"),
    ):
        if policy.get(key):
            parts.append(what)
    return "Use " + ", ".join(parts) + "."


# --- /login ---------------------------------------------------------------------------------


def _login_page(visit: Visit, *, username: str = "", error: str | None = None, status: int = 200) -> Response:
    signup_allowed = not (visit.pool.doc.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly")
    return visit.render(
        "login.html",
        "Sign in",
        status=status,
        username=username,
        error=error,
        can_sign_up=signup_allowed,
    )


async def login_form(visit: Visit) -> Response:
    if "prompt" not in visit.params and "max_age" not in visit.params:
        cookie = visit.request.cookies.get(browser_sessions.cookie_name(visit.pool.id))
        session = await visit.core.browser_sessions.current(visit.pool.id, cookie)
        if session is not None:
            user = await visit.core.users.by_sub(visit.pool, session.sub)
            if user is not None:
                done = calls.Authenticated(visit.pool, visit.client, user, session.auth_time, session.amr)
                return await visit.finish(done, from_session=True)
    return _login_page(visit, username=visit.params.get("login_hint", ""))


async def login_post(visit: Visit) -> Response:
    username = (visit.form.get("username") or "").strip()
    password = visit.form.get("password") or ""
    if not username or not password:
        return _login_page(visit, username=username, error="Enter your username and password.", status=400)
    try:
        step = await calls.password_sign_in(
            visit.core, visit.context(), visit.pool, visit.client, username, password
        )
    except UserNotConfirmedException:
        return visit.redirect("/confirm", username=username, notice="not_confirmed")
    except PasswordResetRequiredException:
        return visit.redirect("/confirmforgotPassword", username=username, notice="reset_required")
    except CognateError as exc:
        return _login_page(visit, username=username, error=exc.message, status=400)
    return await advance(visit, step, username)


async def advance(visit: Visit, step: calls.SignInStep, username: str) -> Response:
    """Signed in (a session and the app), or the page of the next challenge."""
    if isinstance(step, calls.Authenticated):
        return await visit.finish(step)
    page = STEP_PAGE.get(step.name)
    if page is None:
        return _login_page(
            visit, username=username, error=f"The challenge {step.name} cannot be answered here.", status=400
        )
    record = {
        "pool_id": visit.pool.id,
        "client_id": visit.client.id,
        "params": visit.params,
        "challenge": step.name,
        "session": step.session,
        "parameters": step.parameters,
        "username": username,
    }
    step_id = await visit.core.detours.put(visit.browser, record, STEP_TTL_S)
    return visit.redirect(page, step=step_id)


# --- the challenge steps -------------------------------------------------------------------


async def _step(visit: Visit, *names: str) -> tuple[str, dict[str, Any]]:
    """The detour record of this browser's pending challenge; its parameters must be the page's."""
    step_id = visit.form.get("step") if visit.form else visit.request.query_params.get("step")
    record = await visit.core.detours.get(visit.browser, step_id)
    if record is None or record.get("challenge") not in names:
        raise _Expired
    if record.get("params") != visit.params or record.get("client_id") != visit.client.id:
        raise PageError("The sign-in parameters changed during sign-in: start again from the app.")
    return str(step_id), dict(record)


class _Expired(Exception):
    pass


def _challenge(record: dict[str, Any]) -> calls.Challenge:
    return calls.Challenge(
        str(record["challenge"]), record.get("session"), dict(record.get("parameters") or {})
    )


async def _answer(visit: Visit, step_id: str, record: dict[str, Any], responses: dict[str, str]) -> Response:
    """Answer the challenge; a new step or the app. Errors go back to the caller."""
    step = await calls.respond(visit.core, visit.context(), visit.client, _challenge(record), responses)
    await visit.core.detours.consume(visit.browser, step_id)
    return await advance(visit, step, str(record.get("username") or ""))


def _expired(visit: Visit) -> Response:
    return visit.redirect("/login", notice="session_expired")


def _required_attributes(record: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        names = json.loads((record.get("parameters") or {}).get("requiredAttributes") or "[]")
    except ValueError:
        names = []
    return [
        {
            "name": n.removeprefix("userAttributes."),
            "label": n.removeprefix("userAttributes.").replace("_", " ").capitalize(),
            "type": "text",
            "autocomplete": None,
            "required": True,
        }
        for n in names
        if isinstance(n, str)
    ]


async def new_password_form(visit: Visit) -> Response:
    try:
        step_id, record = await _step(visit, "NEW_PASSWORD_REQUIRED")
    except _Expired:
        return _expired(visit)
    return visit.render(
        "new_password.html",
        "Change your password",
        step=step_id,
        attributes=_required_attributes(record),
        password_hint=password_hint(visit),
    )


async def new_password_post(visit: Visit) -> Response:
    try:
        step_id, record = await _step(visit, "NEW_PASSWORD_REQUIRED")
    except _Expired:
        return _expired(visit)
    password = visit.form.get("password") or ""
    attributes = _required_attributes(record)

    def again(error: str, name: str = "password") -> Response:
        return visit.render(
            "new_password.html",
            "Change your password",
            status=400,
            step=step_id,
            attributes=attributes,
            password_hint=password_hint(visit),
            error=error,
            errors={name: error},
        )

    if not password:
        return again("Enter a new password.")
    if password != visit.form.get("password_confirm"):
        return again("The passwords do not match.", "password_confirm")
    responses = {"NEW_PASSWORD": password, "USERNAME": str(record.get("username") or "")}
    for attr in attributes:
        responses[f"userAttributes.{attr['name']}"] = visit.form.get(attr["name"]) or ""
    try:
        return await _answer(visit, step_id, record, responses)
    except InvalidPasswordException as exc:
        return again(exc.message)
    except NotAuthorizedException as exc:
        if exc.message == EXPIRED:
            return _expired(visit)
        return again(exc.message)
    except CognateError as exc:
        return again(exc.message)


def _mfa_page(visit: Visit, step_id: str, record: dict[str, Any], *, error: str | None = None) -> Response:
    parameters = record.get("parameters") or {}
    if record["challenge"] == "SMS_MFA":
        where = parameters.get("CODE_DELIVERY_DESTINATION", "your phone")
        instructions, label = (
            f"We have sent a code by SMS to {where}. Enter it to sign in.",
            "Code from the SMS",
        )
    else:
        instructions, label = (
            "Enter the code your authenticator app shows.",
            "Code from your authenticator app",
        )
    return visit.render(
        "mfa.html",
        "Verify it is you",
        status=400 if error else 200,
        step=step_id,
        instructions=instructions,
        code_label=label,
        error=error,
        errors={"code": error} if error else {},
    )


async def mfa_form(visit: Visit) -> Response:
    try:
        step_id, record = await _step(visit, "SOFTWARE_TOKEN_MFA", "SMS_MFA")
    except _Expired:
        return _expired(visit)
    return _mfa_page(visit, step_id, record)


async def mfa_post(visit: Visit) -> Response:
    try:
        step_id, record = await _step(visit, "SOFTWARE_TOKEN_MFA", "SMS_MFA")
    except _Expired:
        return _expired(visit)
    code = (visit.form.get("code") or "").strip()
    field = "SMS_MFA_CODE" if record["challenge"] == "SMS_MFA" else "SOFTWARE_TOKEN_MFA_CODE"
    if not code:
        return _mfa_page(visit, step_id, record, error="Enter the code.")
    try:
        return await _answer(
            visit, step_id, record, {field: code, "USERNAME": str(record.get("username") or "")}
        )
    except NotAuthorizedException as exc:
        if exc.message == EXPIRED:
            return _expired(visit)
        return _mfa_page(visit, step_id, record, error=exc.message)
    except CognateError as exc:
        return _mfa_page(visit, step_id, record, error=exc.message)


def otpauth_uri(issuer: str, account: str, secret: str) -> str:
    """Key Uri Format: ``otpauth://totp/Issuer:account?secret=...&issuer=Issuer``."""
    label = quote(f"{issuer}:{account}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer, safe='')}"


async def _mfa_setup_page(
    visit: Visit, step_id: str, record: dict[str, Any], *, error: str | None = None
) -> Response:
    sealed = record.get("totp")
    if isinstance(sealed, str):
        secret = visit.core.sealer.unseal(sealed, TOTP_PURPOSE)
    else:  # a new key for this set-up, kept (sealed) with the step so a wrong code shows the same QR
        secret = await calls.associate_software_token(visit.core, str(record.get("session") or ""))
        record["totp"] = visit.core.sealer.seal(secret, TOTP_PURPOSE)
        await visit.core.detours.update(visit.browser, step_id, record)
    uri = otpauth_uri(visit.client.name or visit.pool.name, str(record.get("username") or ""), secret)
    import segno  # only for this page: start-up does not pay for it

    qr = segno.make(uri, error="m").svg_inline(
        scale=4, title="QR code of the authenticator key", omitsize=True
    )
    return visit.render(
        "mfa_setup.html",
        "Set up an authenticator app",
        status=400 if error else 200,
        step=step_id,
        secret=secret,
        qr_svg=qr,
        otpauth=uri,
        error=error,
        errors={"code": error} if error else {},
    )


async def mfa_setup_form(visit: Visit) -> Response:
    try:
        step_id, record = await _step(visit, "MFA_SETUP")
        return await _mfa_setup_page(visit, step_id, record)
    except (_Expired, NotAuthorizedException):
        return _expired(visit)


async def mfa_setup_post(visit: Visit) -> Response:
    try:
        step_id, record = await _step(visit, "MFA_SETUP")
    except _Expired:
        return _expired(visit)
    code = (visit.form.get("code") or "").strip()
    session = str(record.get("session") or "")
    try:
        if not code:
            return await _mfa_setup_page(visit, step_id, record, error="Enter the code.")
        try:
            await calls.verify_software_token(
                visit.core, session, code, visit.form.get("device_name") or None
            )
        except NotAuthorizedException:
            raise
        except CognateError as exc:
            return await _mfa_setup_page(visit, step_id, record, error=exc.message)
        return await _answer(visit, step_id, record, {"USERNAME": str(record.get("username") or "")})
    except NotAuthorizedException as exc:
        if exc.message == EXPIRED:
            return _expired(visit)
        return await _mfa_setup_page(visit, step_id, record, error=exc.message)
