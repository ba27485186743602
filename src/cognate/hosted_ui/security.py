"""What every hosted page sends and checks: security headers, and CSRF tokens bound to the browser.

Headers: a Content Security Policy that loads nothing but this origin's stylesheet and images
and refuses framing (``frame-ancestors 'none'``, CSP Level 2), with ``X-Frame-Options: DENY``
for older browsers (RFC 7034); ``Referrer-Policy: no-referrer``, since the pages' URLs carry
``state``, ``nonce`` and PKCE challenges; ``Cache-Control: no-store`` (RFC 9111 5.2.2.5) so no
shared cache or back button keeps a form, a code or an error. No ``form-action``: a signed-in
form is answered by a redirect to the app's registered callback, which ``form-action 'self'``
would make Chromium block.

CSRF (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit Cookie"): each browser gets a
random id in an ``HttpOnly``, ``SameSite=Lax`` cookie; every form carries
``HMAC-SHA256(key, id)``; a POST whose token does not match its own cookie is refused. The id
also binds the server-side state of a multi-step sign-in to the browser that began it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

BROWSER_COOKIE = "cognate_browser"
# Over TLS the cookie takes the __Host- prefix (RFC 6265bis 4.1.3.2): Secure, Path=/ and no Domain,
# so a sibling (sub)domain cannot plant an id of its choosing in the browser.
SECURE_BROWSER_COOKIE = "__Host-cognate_browser"
CSRF_FIELD = "_csrf"
_MAX_ID = 128

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def new_browser_id() -> str:
    return secrets.token_urlsafe(32)


def valid_browser_id(value: str | None) -> bool:
    return bool(value) and len(value or "") <= _MAX_ID and (value or "").isascii()


def over_tls(scheme: str, public_url: str) -> bool:
    """Whether the browser speaks HTTPS: to Cognate itself (``--tls-cert``), or to a proxy that
    ends TLS in front of it, which the ``https`` public URL says (docs/deployment.md). Then the
    cookies are ``Secure`` (and the browser id ``__Host-``), whatever the proxy's own hop."""
    return scheme == "https" or public_url.startswith("https://")


def browser_cookie_name(*, secure: bool) -> str:
    return SECURE_BROWSER_COOKIE if secure else BROWSER_COOKIE


def browser_cookie(value: str, *, secure: bool) -> str:
    """``Set-Cookie`` for the browser id: lives as long as the browser session."""
    name = browser_cookie_name(secure=secure)
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")


def browser_key(browser_id: str) -> str:
    """What server-side records store to bind themselves to a browser (never the id itself)."""
    return hashlib.sha256(b"browser\0" + browser_id.encode()).hexdigest()


class Csrf:
    def __init__(self, key: bytes, *accepted: bytes) -> None:
        """``key`` makes tokens; it and the ``accepted`` keys (a master-key rotation) check them."""
        self._key = key
        self._keys = (key, *accepted)

    def token(self, browser_id: str, key: bytes | None = None) -> str:
        mac = hmac.new(key or self._key, b"csrf\0" + browser_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def check(self, browser_id: str | None, given: str | None) -> bool:
        """Constant-time comparison of the form's token with the one this browser's cookie makes."""
        if not browser_id or not valid_browser_id(browser_id) or not given or len(given) > 128:
            return False
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(self.token(browser_id, key).encode(), given.encode())
        return found
