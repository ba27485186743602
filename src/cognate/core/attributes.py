"""User attributes: the standard schema, custom attributes, and checks of attribute writes.

Sources: Cognito developer guide, "User pool attributes" (standard attributes are
the OIDC standard claims; custom attributes are ``custom:``-prefixed, at most 50,
names up to 20 characters, values up to 2,048 bytes; ``custom:*`` values are strings).
"""

from __future__ import annotations

import math
import re
from typing import Any

from cognate.errors import InvalidParameterException

_STRING = {"MinLength": "0", "MaxLength": "2048"}

STANDARD_NAMES = [
    "sub",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    "identities",
]


def _standard(name: str) -> dict[str, Any]:
    attr: dict[str, Any] = {
        "Name": name,
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": True,
        "Required": False,
    }
    if name == "sub":
        attr.update(
            Mutable=False, Required=True, StringAttributeConstraints={"MinLength": "1", "MaxLength": "2048"}
        )
    elif name in ("email_verified", "phone_number_verified"):
        attr["AttributeDataType"] = "Boolean"
    elif name == "updated_at":
        attr.update(AttributeDataType="Number", NumberAttributeConstraints={"MinValue": "0"})
    elif name == "birthdate":
        attr["StringAttributeConstraints"] = {"MinLength": "10", "MaxLength": "10"}
    elif name == "identities":
        attr["StringAttributeConstraints"] = {}
    else:
        attr["StringAttributeConstraints"] = dict(_STRING)
    return attr


def default_schema() -> list[dict[str, Any]]:
    return [_standard(n) for n in STANDARD_NAMES]


MAX_CUSTOM = 50


def build_schema(requested: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The pool's SchemaAttributes from CreateUserPool's ``Schema``."""
    schema = default_schema()
    by_name = {a["Name"]: a for a in schema}
    for item in requested or []:
        name = _item_name(item)
        if name in STANDARD_NAMES:
            if name == "sub":
                continue
            std = by_name[name]
            if "AttributeDataType" in item and item["AttributeDataType"] != std["AttributeDataType"]:
                raise InvalidParameterException(
                    f"You can not change AttributeDataType or set developerOnlyAttribute for standard schema "
                    f"attribute {name}"
                )
            for k in ("Required", "Mutable"):
                if k in item:
                    std[k] = item[k]
            if "StringAttributeConstraints" in item and std["AttributeDataType"] == "String":
                merged = {**std.get("StringAttributeConstraints", {}), **item["StringAttributeConstraints"]}
                std["StringAttributeConstraints"] = _constraints(
                    name, "String", {"StringAttributeConstraints": merged}
                )
            continue
        schema.append(custom_attribute(item, existing=by_name))
        by_name[schema[-1]["Name"]] = schema[-1]
    if sum(1 for a in schema if is_custom(a["Name"])) > MAX_CUSTOM:
        raise InvalidParameterException(f"A user pool can have at most {MAX_CUSTOM} custom attributes.")
    return schema


def is_custom(name: str) -> bool:
    return name.startswith(("custom:", "dev:custom:"))


def _item_name(item: dict[str, Any]) -> str:
    name = item.get("Name")
    if not isinstance(name, str) or not name:
        raise InvalidParameterException("Each schema attribute needs a Name.")
    return name


def _number(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidParameterException(f"{what} must be a number, not {str(value)[:64]!r}.") from None


def _constraints(name: str, dtype: str, item: dict[str, Any]) -> dict[str, Any]:
    """Check and return the String/Number constraints of a custom attribute."""
    if dtype == "String":
        cons = dict(item.get("StringAttributeConstraints") or {})
        lo = _number(cons.get("MinLength", 0), f"{name}: MinLength")
        hi = _number(cons.get("MaxLength", 2048), f"{name}: MaxLength")
        if not (0 <= lo <= hi <= 2048) or lo != int(lo) or hi != int(hi):
            raise InvalidParameterException(
                f"{name}: StringAttributeConstraints must have 0 <= MinLength <= MaxLength <= 2048."
            )
        return cons
    if dtype == "Number":
        cons = dict(item.get("NumberAttributeConstraints") or {})
        lo_n = _number(cons["MinValue"], f"{name}: MinValue") if "MinValue" in cons else None
        hi_n = _number(cons["MaxValue"], f"{name}: MaxValue") if "MaxValue" in cons else None
        if lo_n is not None and hi_n is not None and lo_n > hi_n:
            raise InvalidParameterException(f"{name}: MinValue must not be greater than MaxValue.")
        return cons
    return {}


def custom_attribute(item: dict[str, Any], existing: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A custom attribute definition, named ``custom:NAME`` (``dev:custom:NAME`` if developer-only)."""
    raw = _item_name(item)
    base = raw.removeprefix("custom:")
    if not base or len(base) > 20:
        raise InvalidParameterException("Custom attribute name must be between 1 and 20 characters.")
    dtype = item.get("AttributeDataType", "String")
    if item.get("Required"):
        raise InvalidParameterException("Required custom attributes are not supported currently.")
    dev = bool(item.get("DeveloperOnlyAttribute", False))
    name = ("dev:custom:" if dev else "custom:") + base
    if name in existing or ("custom:" + base) in existing or ("dev:custom:" + base) in existing:
        raise InvalidParameterException(f"Existing attribute already has name {name}.")
    attr: dict[str, Any] = {
        "Name": name,
        "AttributeDataType": dtype,
        "DeveloperOnlyAttribute": dev,
        "Mutable": bool(item.get("Mutable", True)),
        "Required": False,
    }
    if dtype == "String":
        attr["StringAttributeConstraints"] = _constraints(name, dtype, item)
    elif dtype == "Number":
        attr["NumberAttributeConstraints"] = _constraints(name, dtype, item)
    return attr


# E.164: a plus sign, then up to fifteen digits, the first not zero (ITU-T E.164; Cognito's
# phone_number "must follow the E.164 format", developer guide, "User pool attributes").
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


def _value_ok(defn: dict[str, Any], value: str) -> str | None:
    dtype = defn["AttributeDataType"]
    if defn["Name"] == "phone_number" and value and not E164.match(value):
        return "Invalid phone number format."
    if len(value.encode()) > 2048:
        return "String must be no longer than 2048 characters"
    if dtype == "Boolean" and value not in ("true", "false"):
        return "Attribute value must be true or false"
    if dtype == "Number":
        try:
            number = float(value)
        except ValueError:
            return "Number must be a valid number"
        if not math.isfinite(number):
            return "Number must be a valid number"
        cons = defn.get("NumberAttributeConstraints") or {}
        if "MinValue" in cons and number < float(cons["MinValue"]):
            return f"Number must be no less than {cons['MinValue']}"
        if "MaxValue" in cons and number > float(cons["MaxValue"]):
            return f"Number must be no greater than {cons['MaxValue']}"
    if dtype == "String":
        cons = defn.get("StringAttributeConstraints") or {}
        if "MinLength" in cons and len(value) < int(cons["MinLength"]):
            return f"String must be no shorter than {cons['MinLength']} characters"
        if "MaxLength" in cons and len(value) > int(cons["MaxLength"]):
            return f"String must be no longer than {cons['MaxLength']} characters"
    return None


def schema_error(name: str, why: str) -> InvalidParameterException:
    return InvalidParameterException(f"Attributes did not conform to the schema: {name}: {why}")


def canonical(schema: list[dict[str, Any]], attrs: dict[str, str]) -> dict[str, str]:
    """``custom:NAME`` addresses ``dev:custom:NAME`` when that is the schema's attribute
    (administrators may name a developer-only attribute either way); never a second one."""
    names = {a["Name"] for a in schema}
    out: dict[str, str] = {}
    for name, value in attrs.items():
        if name.startswith("custom:") and name not in names and "dev:" + name in names:
            name = "dev:" + name
        out[name] = value
    return out


def check_writes(
    schema: list[dict[str, Any]],
    attrs: dict[str, str],
    *,
    creating: bool,
    admin: bool = True,
) -> None:
    """Refuse unknown, immutable (after creation), developer-only (for users) or ill-typed values."""
    by_name = {a["Name"]: a for a in schema}
    for name, value in attrs.items():
        defn = by_name.get(name)
        if defn is None and name.startswith("custom:"):
            defn = by_name.get("dev:" + name) if admin else None
        if defn is None:
            raise schema_error(name, "Attribute does not exist in the schema.")
        if name == "sub":
            raise InvalidParameterException("Cannot modify an immutable attribute: sub")
        if name == "identities":
            raise InvalidParameterException("Cannot modify the non-mutable attribute identities")
        if not creating and not defn.get("Mutable", True):
            raise InvalidParameterException(f"Cannot modify an immutable attribute: {name}")
        if defn.get("DeveloperOnlyAttribute") and not admin:
            raise schema_error(name, "Attribute cannot be written by the user.")
        why = _value_ok(defn, value)
        if why:
            raise schema_error(name, why)


def check_required(schema: list[dict[str, Any]], attrs: dict[str, str]) -> None:
    for defn in schema:
        if defn.get("Required") and defn["Name"] != "sub" and not attrs.get(defn["Name"]):
            raise schema_error(defn["Name"], "The attribute is required")
