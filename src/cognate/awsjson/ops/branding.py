"""Hosted-page branding: SetUICustomization and GetUICustomization (rules in core/ui_customization.py)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cognate.awsjson.params import Params
from cognate.awsjson.registry import Auth, operation
from cognate.core.service import Core
from cognate.core.ui_customization import Customization
from cognate.errors import InvalidParameterException


def _shape(core: Core, c: Customization) -> dict[str, Any]:
    """UICustomizationType; ImageUrl points at the logo the pages show."""
    out: dict[str, Any] = {"UserPoolId": c.pool_id, "ClientId": c.client_id}
    if c.image is not None:
        version = int((c.modified or 0) * 1000)
        out["ImageUrl"] = f"{core.config.public_url}/hosted-ui/logo/{c.pool_id}/{c.client_id}?v={version}"
    if c.css is not None:
        out["CSS"] = c.css
        out["CSSVersion"] = c.css_version
    if c.created is not None:
        out["CreationDate"] = c.created
        out["LastModifiedDate"] = c.modified
    return out


@operation("SetUICustomization", auth=Auth.IAM)
async def set_ui_customization(core: Core, p: Params) -> dict[str, Any]:
    image = None
    encoded = p.opt_str("ImageFile")
    if encoded:
        try:
            image = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameterException("ImageFile must be base64-encoded.") from None
    found = await core.ui_customizations.set(
        p.str("UserPoolId"), p.opt_str("ClientId"), p.opt_str("CSS"), image
    )
    return {"UICustomization": _shape(core, found)}


@operation("GetUICustomization", auth=Auth.IAM)
async def get_ui_customization(core: Core, p: Params) -> dict[str, Any]:
    found = await core.ui_customizations.get(p.str("UserPoolId"), p.opt_str("ClientId"))
    return {"UICustomization": _shape(core, found)}
