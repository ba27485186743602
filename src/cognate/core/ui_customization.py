"""Branding of the hosted pages: SetUICustomization and GetUICustomization.

Sources: Amazon Cognito API reference (SetUICustomization, GetUICustomization,
UICustomizationType); developer guide, "Customizing hosted UI (classic) branding":
settings per app client, or for ``ALL`` clients (the default of every client without its
own: a client with its own no longer falls back to ``ALL``); the pool must have a domain;
a PNG or JPEG logo of at most 100 KB; CSS limited to the ``*-customizable`` classes and the
properties the template lists, with no ``@import``, ``@supports``, ``@page``, ``@media`` or
script. Cognate checks the CSS by a whitelist (classes, properties, and a character set for
values that leaves no room for ``url()``, ``expression()`` or an escape), so what it serves
to the pages can carry nothing but colours, sizes and the like.

The settings live in the pool's document (``UICustomization``, not part of UserPoolType).
"""

from __future__ import annotations

import base64
import copy
import re
from dataclasses import dataclass
from typing import Any

from cognate.core.clock import Clock
from cognate.core.entities import Pool
from cognate.core.pools import Pools
from cognate.errors import InvalidParameterException, ResourceNotFoundException
from cognate.store.base import Store

DOC_KEY = "UICustomization"
ALL = "ALL"
MAX_IMAGE = 100 * 1024
MAX_CSS = 131072

_COLOR = ("color", "background-color")
ALLOWED: dict[str, frozenset[str]] = {
    "background-customizable": frozenset({"background-color"}),
    "banner-customizable": frozenset({"padding", "background-color"}),
    "errorMessage-customizable": frozenset(
        {"margin", "padding", "font-size", "width", "background", "border", "color", "box-sizing"}
    ),
    "idpButton-customizable": frozenset(
        {"height", "width", "text-align", "margin-bottom", "color", "background-color", "border-color"}
    ),
    "idpButton-customizable:hover": frozenset(_COLOR),
    "idpDescription-customizable": frozenset({"padding-top", "padding-bottom", "display", "font-size"}),
    "inputField-customizable": frozenset({"width", "height", "color", "background-color", "border"}),
    "inputField-customizable:focus": frozenset({"border-color", "outline"}),
    "label-customizable": frozenset({"font-weight"}),
    "legalText-customizable": frozenset({"color", "font-size"}),
    "logo-customizable": frozenset({"max-width", "max-height"}),
    "passwordCheck-notValid-customizable": frozenset({"color"}),
    "passwordCheck-valid-customizable": frozenset({"color"}),
    "redirect-customizable": frozenset({"color"}),
    "socialButton-customizable": frozenset({"height", "text-align", "width", "margin-bottom"}),
    "submitButton-customizable": frozenset(
        {"font-size", "font-weight", "margin", "width", "height", "color", "background-color"}
    ),
    "submitButton-customizable:hover": frozenset(_COLOR),
    "textDescription-customizable": frozenset({"padding-top", "padding-bottom", "display", "font-size"}),
}
_RULE = re.compile(r"\s*\.([A-Za-z-]+(?::hover|:focus)?)\s*\{([^{}]*)\}\s*")
_VALUE = re.compile(r"^[A-Za-z0-9#%.,()\s+-]{1,200}$")
_FORBIDDEN = ("url", "expression", "javascript", "import", "behavior", "binding", "attr", "var")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _invalid(why: str) -> InvalidParameterException:
    return InvalidParameterException(f"CSS is invalid: {why}")


def parse_css(css: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The rules of a customization stylesheet, or InvalidParameterException."""
    if len(css) > MAX_CSS:
        raise _invalid("too large")
    text = _COMMENT.sub(" ", css)
    if "@" in text or "<" in text or "\\" in text:
        raise _invalid("at-rules, markup and escapes are not allowed")
    rules: list[tuple[str, list[tuple[str, str]]]] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _RULE.match(text, pos)
        if m is None:
            raise _invalid("expected '.<class>-customizable { property: value; }'")
        selector, body = m.group(1), m.group(2)
        allowed = ALLOWED.get(selector)
        if allowed is None:
            raise _invalid(f"the class {selector} cannot be customized")
        declarations = []
        for part in body.split(";"):
            if not part.strip():
                continue
            name, sep, value = part.partition(":")
            name, value = name.strip().lower(), value.strip()
            if not sep or name not in allowed:
                raise _invalid(f"the property {name or part.strip()} cannot be set on {selector}")
            if not _VALUE.match(value) or any(word in value.lower() for word in _FORBIDDEN):
                raise _invalid(f"the value of {name} on {selector} is not allowed")
            declarations.append((name, value))
        rules.append((selector, declarations))
        pos = m.end()
    return rules


def render_css(css: str) -> str:
    """The stylesheet the pages load: the checked rules, written back out by us."""
    return "\n".join(
        f".{selector} {{ " + " ".join(f"{n}: {v};" for n, v in decls) + " }"
        for selector, decls in parse_css(css)
    )


def image_type(image: bytes) -> str:
    """``image/png`` or ``image/jpeg`` by the file's signature, else InvalidParameterException."""
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if image.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    raise InvalidParameterException("The image must be a PNG or JPEG file.")


@dataclass(frozen=True)
class Customization:
    pool_id: str
    client_id: str  # a client id, or ALL
    css: str | None
    css_version: str | None
    image: bytes | None
    image_type: str | None
    created: float | None
    modified: float | None


class UiCustomizations:
    def __init__(self, pools: Pools, store: Store, clock: Clock) -> None:
        self.pools = pools
        self.store = store
        self.clock = clock

    async def _check_client(self, pool: Pool, client_id: str) -> None:
        if client_id == ALL:
            return
        found = await self.store.get_client(client_id)
        if found is None or found[0].pool_id != pool.id:
            raise ResourceNotFoundException(f"User pool client {client_id} does not exist.")

    async def set(
        self, pool_id: str, client_id: str | None, css: str | None, image: bytes | None
    ) -> Customization:
        pool = await self.pools.get(pool_id)
        client_id = client_id or ALL
        await self._check_client(pool, client_id)
        if not await self.store.domains_of_pool(pool.id):
            raise InvalidParameterException(
                "There has to be an existing domain associated with this user pool"
            )
        if css:
            parse_css(css)
        kind = None
        if image:
            if len(image) > MAX_IMAGE:
                raise InvalidParameterException("The image file must not be larger than 100 KB.")
            kind = image_type(image)
        doc = copy.deepcopy(pool.doc)
        settings = dict(doc.get(DOC_KEY) or {})
        now = self.clock.now()
        previous = settings.get(client_id) or {}
        if not css and not image:
            settings.pop(client_id, None)  # back to the ALL settings (or none)
        else:
            settings[client_id] = {
                "CSS": css or None,
                "CSSVersion": f"{int(now * 1000)}" if css else None,
                "Image": base64.b64encode(image).decode() if image else None,
                "ImageType": kind,
                "CreationDate": previous.get("CreationDate", now),
                "LastModifiedDate": now,
            }
        doc[DOC_KEY] = settings
        pool = await self.pools.save_doc(pool, doc)
        return self._of(pool, client_id, settings.get(client_id))

    async def get(self, pool_id: str, client_id: str | None) -> Customization:
        """The client's own settings, else the pool's ALL settings (with ClientId ALL)."""
        pool = await self.pools.get(pool_id)
        await self._check_client(pool, client_id or ALL)
        return self.effective(pool, client_id)

    def effective(self, pool: Pool, client_id: str | None) -> Customization:
        settings: dict[str, Any] = pool.doc.get(DOC_KEY) or {}
        if client_id and client_id in settings:
            return self._of(pool, client_id, settings[client_id])
        if ALL in settings:
            return self._of(pool, ALL, settings[ALL])
        return self._of(pool, client_id or ALL, None)

    @staticmethod
    def _of(pool: Pool, client_id: str, s: dict[str, Any] | None) -> Customization:
        s = s or {}
        image = base64.b64decode(s["Image"]) if s.get("Image") else None
        return Customization(
            pool_id=pool.id,
            client_id=client_id,
            css=s.get("CSS"),
            css_version=s.get("CSSVersion"),
            image=image,
            image_type=s.get("ImageType"),
            created=s.get("CreationDate"),
            modified=s.get("LastModifiedDate"),
        )
