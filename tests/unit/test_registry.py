"""The registry and the error tree against botocore's model of ``cognito-idp``.

Every registered operation exists in the model with the authorisation class the model
gives it (``auth: none`` -> PUBLIC, otherwise IAM); every Cognito-named error class is
an error shape of the model, and every error shape has its class.
"""

from __future__ import annotations

import inspect
from typing import Any

import botocore.session
import pytest

from cognate import errors
from cognate.awsjson.registry import Auth, load_all


@pytest.fixture(scope="module")
def model() -> Any:
    return botocore.session.get_session().get_service_model("cognito-idp")


def expected_auth(model: Any, name: str) -> Auth:
    return Auth.PUBLIC if model.operation_model(name).auth_type == "none" else Auth.IAM


def test_registry_is_not_empty() -> None:
    assert len(load_all()) > 0


def test_every_registered_operation_is_in_botocores_model(model: Any) -> None:
    unknown = sorted(set(load_all()) - set(model.operation_names))
    assert unknown == []


def test_every_registered_operation_has_botocores_auth_class(model: Any) -> None:
    wrong = {
        name: (op.auth.value, expected_auth(model, name).value)
        for name, op in load_all().items()
        if name in model.operation_names and op.auth is not expected_auth(model, name)
    }
    assert wrong == {}


def test_registry_entries_are_consistent() -> None:
    for name, op in load_all().items():
        assert op.name == name
        assert isinstance(op.auth, Auth)
        assert inspect.iscoroutinefunction(op.handler), name


def test_the_model_marks_public_operations_as_cognito_does(model: Any) -> None:
    """A guard on the reading of the model itself: a few operations whose class is known."""
    for public in ("SignUp", "InitiateAuth", "RespondToAuthChallenge", "GetUser", "ForgotPassword"):
        assert expected_auth(model, public) is Auth.PUBLIC
    for iam in ("AdminCreateUser", "CreateUserPool", "ListUsers", "AdminInitiateAuth"):
        assert expected_auth(model, iam) is Auth.IAM


def cognito_error_classes() -> dict[str, type[errors.CognateError]]:
    return {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, errors.CognateError) and cls is not errors.CognateError
    }


def test_every_cognito_named_error_is_in_the_model(model: Any) -> None:
    shapes = {shape.name for shape in model.error_shapes}
    extra = sorted(
        set(cognito_error_classes())
        - errors.PROTOCOL_ERRORS
        - errors.OAUTH_ERRORS
        - shapes
        - set(wire_named())
    )
    assert extra == []


def wire_named() -> dict[str, str]:
    """Classes that travel under another ``__type`` (InvalidClientException -> NotAuthorizedException)."""
    return {n: c.wire_type for n, c in cognito_error_classes().items() if c.wire_type is not None}


def test_errors_named_otherwise_on_the_wire_use_a_model_name(model: Any) -> None:
    shapes = {shape.name for shape in model.error_shapes}
    named = wire_named()
    assert named == {"InvalidClientException": "NotAuthorizedException"}
    assert set(named.values()) <= shapes
    assert not issubclass(errors.InvalidClientException, errors.NotAuthorizedException)
    assert errors.InvalidClientException.oauth_error == "invalid_client"


def test_every_error_shape_has_a_class(model: Any) -> None:
    shapes = {shape.name for shape in model.error_shapes}
    assert sorted(shapes - set(cognito_error_classes())) == []


def test_protocol_errors_are_not_cognitos_and_exist(model: Any) -> None:
    shapes = {shape.name for shape in model.error_shapes}
    assert not (errors.PROTOCOL_ERRORS & shapes)
    assert errors.PROTOCOL_ERRORS <= set(cognito_error_classes())


def test_error_classes_carry_a_status_and_an_oauth_code() -> None:
    for name, cls in cognito_error_classes().items():
        assert cls.__name__ == name
        assert 400 <= cls.status < 600, name
        assert cls.oauth_error, name
        assert cls().type_name == (cls.wire_type or name)
    assert errors.InternalErrorException.status == 500
    assert errors.NotAuthorizedException("m").message == "m"
