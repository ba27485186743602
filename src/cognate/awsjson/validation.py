"""Request validation against botocore's ``cognito-idp`` service model.

Cognito checks each request against its Smithy model and answers
``InvalidParameterException`` with messages such as ``1 validation error detected:
Value null at 'userPoolId' failed to satisfy constraint: Member must not be null``.
We walk the same model (required members, types, lengths, ranges, enums, patterns)
and speak the same way. Unknown members are ignored, as AWS does.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

import regex

from cognate.errors import InvalidParameterException

if TYPE_CHECKING:
    from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    """The model read as botocore's session would read it, without importing the session.

    botocore is imported here, not with this module: it is an eighth of a start-up, and
    the server reads the model once it answers (``warm_up``), before any request needs it.
    """
    import botocore.loaders
    from botocore.model import ServiceModel

    loader = botocore.loaders.create_loader()
    return ServiceModel(loader.load_service_model("cognito-idp", "service-2"), service_name="cognito-idp")


def warm_up() -> None:
    """Read the model now (the server calls it in a thread once it has started)."""
    service_model()


@lru_cache(maxsize=512)
def _pattern(text: str) -> Any:
    """The model's pattern: with ``re`` when it can (faster), else ``regex`` (``\\p{...}`` classes)."""
    try:
        return re.compile(text)
    except re.error:
        pass
    try:
        return regex.compile(text, regex.V1)
    except regex.error:
        return None


def operation_model(name: str) -> OperationModel | None:
    try:
        return service_model().operation_model(name)
    except Exception:  # botocore raises OperationNotFoundError
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 64 else "'***'"
    if isinstance(value, list | dict):  # never repr a whole (perhaps deeply nested) container
        return "'[...]'" if isinstance(value, list) else "'{...}'"
    return "'" + str(value)[:64] + "'"


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a structure"
            )
            return
        shape = cast("StructureShape", shape)
        for req in shape.required_members:
            if value.get(req) is None:
                errors.append(
                    f"Value null at '{_join(path, req)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for key, member in shape.members.items():
            if key in value and value[key] is not None:
                _check(member, value[key], _join(path, key), errors)
        return
    if t == "list":
        if not isinstance(value, list):
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a list"
            )
            return
        shape = cast("ListShape", shape)
        _length(meta, len(value), value, path, errors, "length")
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}.{i + 1}.member", errors)
        return
    if t == "map":
        if not isinstance(value, dict):
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a map"
            )
            return
        shape = cast("MapShape", shape)
        _length(meta, len(value), value, path, errors, "length")
        for k, v in value.items():
            _check(shape.key, k, f"{path}.key", errors)
            _check(shape.value, v, f"{path}.value", errors)
        return
    if t == "string":
        if meta.get("sensitive"):
            path_value: Any = "***"
        else:
            path_value = value
        if not isinstance(value, str):
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a string"
            )
            return
        _length(meta, len(value), path_value, path, errors, "length")
        if shape.enum and value not in shape.enum:
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
            )
        pattern = meta.get("pattern")
        if pattern:
            compiled = _pattern(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                errors.append(
                    f"Value {_show(path_value)} at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern}"
                )
        return
    if t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a number"
            )
            return
        if "min" in meta and value < meta["min"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value less than "
                f"or equal to {meta['max']}"
            )
        return
    if t == "boolean":
        if not isinstance(value, bool):
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a boolean"
            )
        return
    if t in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a number"
            )
        return
    if t == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            errors.append(
                f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a timestamp"
            )
        return
    if t == "blob" and not isinstance(value, str):
        errors.append(f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must be a blob")


def _join(path: str, member: str) -> str:
    return f"{path}.{_camel(member)}" if path else _camel(member)


def _length(meta: dict[str, Any], n: int, value: Any, path: str, errors: list[str], what: str) -> None:
    if "min" in meta and n < meta["min"]:
        errors.append(
            f"Value {_show(value)} at '{path}' failed to satisfy constraint: "
            f"Member must have {what} greater than or equal to {meta['min']}"
        )
    if "max" in meta and n > meta["max"]:
        errors.append(
            f"Value {_show(value)} at '{path}' failed to satisfy constraint: "
            f"Member must have {what} less than or equal to {meta['max']}"
        )


def validate(operation: str, body: dict[str, Any]) -> None:
    """Raise InvalidParameterException listing what breaks the operation's input shape."""
    model = operation_model(operation)
    if model is None or model.input_shape is None:
        return
    errors: list[str] = []
    _check(model.input_shape, body, "", errors)
    if errors:
        n = len(errors)
        raise InvalidParameterException(
            f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(errors)
        )
