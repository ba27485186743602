"""Sign-up pages: ``/signup``, ``/confirm``, ``/resendcode`` and ``/confirmUser``.

Cognito's managed login (developer guide, "Managed login endpoints"; API reference SignUp,
ConfirmSignUp, ResendConfirmationCode): the sign-up form asks for the username (unless the
pool signs in by email or phone), the required attributes and a password; the code goes to
the auto-verified attribute; confirming it in the browser that signed up signs the user
in and ends at the app's redirect_uri with a code (the sign-up step is remembered
server-side, bound to this browser). ``/confirmUser`` is the link of a confirmation
email; it confirms and sends the user on to sign in.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from cognate.core.attributes import STANDARD_NAMES
from cognate.errors import CognateError, InvalidPasswordException, UsernameExistsException
from cognate.hosted_ui import calls
from cognate.hosted_ui.signin import advance, password_hint
from cognate.hosted_ui.visit import Visit

SIGNUP_TTL_S = 3600
KINDS = {
    "email": ("email", "email"),
    "phone_number": ("tel", "tel"),
    "birthdate": ("text", "bday"),
    "given_name": ("text", "given-name"),
    "family_name": ("text", "family-name"),
    "middle_name": ("text", "additional-name"),
    "name": ("text", "name"),
    "nickname": ("text", "nickname"),
    "preferred_username": ("text", "username"),
    "address": ("text", "street-address"),
    "gender": ("text", "sex"),
    "locale": ("text", "language"),
    "website": ("text", "url"),
    "picture": ("text", "photo"),
    "profile": ("text", "url"),
    "zoneinfo": ("text", "off"),
    "updated_at": ("text", "off"),
}
LABELS = {"phone_number": "Phone number", "email": "Email", "birthdate": "Birth date (YYYY-MM-DD)"}


def _attributes(visit: Visit) -> list[dict[str, Any]]:
    """The attributes the form asks for: required ones, the sign-in and auto-verified ones."""
    schema = {a["Name"]: a for a in visit.pool.doc.get("SchemaAttributes") or []}
    wanted = [n for n, a in schema.items() if a.get("Required") and n != "sub"]
    for name in (
        *(visit.pool.doc.get("UsernameAttributes") or []),
        *(visit.pool.doc.get("AutoVerifiedAttributes") or []),
    ):
        if name not in wanted:
            wanted.append(name)
    writable = visit.client.doc.get("WriteAttributes")
    out = []
    for name in wanted:
        if name not in STANDARD_NAMES and not name.startswith("custom:"):
            continue
        if writable and name not in writable:
            continue
        kind, autocomplete = KINDS.get(name, ("text", "off"))
        required = bool(schema.get(name, {}).get("Required")) or name in (
            visit.pool.doc.get("UsernameAttributes") or []
        )
        hint = "Include the country code, for example +14255550100." if name == "phone_number" else None
        out.append(
            {
                "name": name,
                "label": LABELS.get(name, name.removeprefix("custom:").replace("_", " ").capitalize()),
                "type": kind,
                "autocomplete": autocomplete,
                "required": required,
                "hint": hint,
            }
        )
    return out


def _signup_page(
    visit: Visit, *, values: dict[str, str] | None = None, error: str | None = None, field: str = ""
) -> Response:
    return visit.render(
        "signup.html",
        "Sign up",
        status=400 if error else 200,
        ask_username=not visit.pool.doc.get("UsernameAttributes"),
        attributes=_attributes(visit),
        values=values or {},
        password_hint=password_hint(visit),
        error=error,
        errors={field: error} if error and field else {},
    )


def _signup_allowed(visit: Visit) -> bool:
    return not (visit.pool.doc.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly")


async def signup_form(visit: Visit) -> Response:
    if not _signup_allowed(visit):
        return visit.render(
            "message.html", "Sign up", status=403, message="SignUp is not permitted for this user pool"
        )
    return _signup_page(visit)


async def signup_post(visit: Visit) -> Response:
    if not _signup_allowed(visit):
        return visit.render(
            "message.html", "Sign up", status=403, message="SignUp is not permitted for this user pool"
        )
    attributes = _attributes(visit)
    values = {a["name"]: (visit.form.get(a["name"]) or "").strip() for a in attributes}
    username_attrs = visit.pool.doc.get("UsernameAttributes") or []
    if username_attrs:
        username = next((values[n] for n in username_attrs if values.get(n)), "")
    else:
        username = (visit.form.get("username") or "").strip()
        values["username"] = username
    password = visit.form.get("password") or ""
    if not username:
        return _signup_page(
            visit,
            values=values,
            error=f"Enter your {visit.username_label().lower()}.",
            field=username_attrs[0] if username_attrs else "username",
        )
    if not password:
        return _signup_page(visit, values=values, error="Enter a password.", field="password")
    sent = {k: v for k, v in values.items() if v and k != "username"}
    try:
        out = await calls.sign_up(visit.core, visit.context(), visit.client, username, password, sent)
    except InvalidPasswordException as exc:
        return _signup_page(visit, values=values, error=exc.message, field="password")
    except UsernameExistsException as exc:
        return _signup_page(
            visit,
            values=values,
            error=exc.message,
            field="username" if not username_attrs else username_attrs[0],
        )
    except CognateError as exc:
        return _signup_page(visit, values=values, error=exc.message)
    step = await visit.core.detours.put(
        visit.browser,
        {
            "kind": "signup",
            "pool_id": visit.pool.id,
            "client_id": visit.client.id,
            "params": visit.params,
            "username": username,
            "sub": out.user.sub,
            "destination": out.delivery.destination if out.delivery else None,
            "medium": out.delivery.medium if out.delivery else None,
        },
        SIGNUP_TTL_S,
    )
    return visit.redirect("/confirm", username=username, step=step)


# --- confirmation ----------------------------------------------------------------------------


async def _signup_step(visit: Visit, username: str) -> tuple[str | None, dict[str, Any] | None]:
    step = visit.form.get("step") if visit.form else visit.request.query_params.get("step")
    record = await visit.core.detours.get(visit.browser, step)
    if record is None or record.get("kind") != "signup" or record.get("username") != username:
        return None, None
    if record.get("params") != visit.params or record.get("client_id") != visit.client.id:
        return None, None  # the parameters changed: confirm, but sign in again through the form
    return step, dict(record)


def _confirm_page(
    visit: Visit, username: str, step: str | None, record: dict[str, Any] | None, *, error: str | None = None
) -> Response:
    medium = (record or {}).get("medium")
    return visit.render(
        "confirm.html",
        "Confirm your account",
        status=400 if error else 200,
        username=username,
        step=step or "",
        destination=(record or {}).get("destination"),
        medium="SMS" if medium == "SMS" else "email",
        error=error,
        errors={"code": error} if error else {},
    )


async def confirm_form(visit: Visit) -> Response:
    username = visit.request.query_params.get("username") or ""
    step, record = await _signup_step(visit, username)
    return _confirm_page(visit, username, step, record)


async def confirm_post(visit: Visit) -> Response:
    username = (visit.form.get("username") or "").strip()
    code = (visit.form.get("code") or "").strip()
    step, record = await _signup_step(visit, username)
    if not username or not code:
        return _confirm_page(visit, username, step, record, error="Enter your username and the code.")
    try:
        await calls.confirm_sign_up(visit.core, visit.context(), visit.client, username, code)
    except CognateError as exc:
        return _confirm_page(visit, username, step, record, error=exc.message)
    if step is None or await visit.core.detours.consume(visit.browser, step) is None:
        return visit.redirect("/login", notice="confirmed")
    try:
        result = await calls.after_confirmation(
            visit.core, visit.context(), visit.pool, visit.client, username
        )
    except CognateError:
        return visit.redirect("/login", notice="confirmed")
    return await advance(visit, result, username)


async def confirm_user(visit: Visit) -> Response:
    """The link of a confirmation email: ``/confirmUser?client_id=..&user_name=..&confirmation_code=..``.

    It confirms at once (the code is the proof, as in Cognito); with authorize parameters the
    browser goes on to sign in, else the page says the account is confirmed.
    """
    query = visit.request.query_params
    username, code = query.get("user_name") or "", query.get("confirmation_code") or ""
    heading = "Confirm your account"
    if not username or not code:
        return visit.render(
            "message.html", heading, status=400, message="The confirmation link is incomplete."
        )
    try:
        await calls.confirm_sign_up(visit.core, visit.context(), visit.client, username, code)
    except CognateError as exc:
        return visit.render("message.html", heading, status=400, message=exc.message)
    if "redirect_uri" in visit.params:
        return visit.redirect("/login", notice="confirmed")
    return visit.render(
        "message.html", "Account confirmed", message="Your account is confirmed. You can now sign in."
    )


# --- new codes -------------------------------------------------------------------------------


async def resend_form(visit: Visit) -> Response:
    return visit.render(
        "resend.html", "Send a new code", username=visit.request.query_params.get("username") or ""
    )


async def resend_post(visit: Visit) -> Response:
    username = (visit.form.get("username") or "").strip()
    if not username:
        return visit.render(
            "resend.html",
            "Send a new code",
            status=400,
            username="",
            error="Enter your username.",
            errors={"username": "Enter your username."},
        )
    try:
        await calls.resend_code(visit.core, visit.context(), visit.client, username)
    except CognateError as exc:
        return visit.render(
            "resend.html",
            "Send a new code",
            status=400,
            username=username,
            error=exc.message,
            errors={"username": exc.message},
        )
    return visit.redirect(
        "/confirm", username=username, step=visit.form.get("step") or "", notice="code_resent"
    )
