"""UpdateUserPoolDomain through boto3: settings change, the name never does (issue 8)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conformance.helpers import pool_factory, unique


@pytest.fixture
def make_pool(idp: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    yield from pool_factory(idp)


def test_update_user_pool_domain_changes_the_managed_login_version(idp: Any, make_pool: Any) -> None:
    pool = make_pool()
    name = unique("dom")
    assert idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain=name)["ManagedLoginVersion"] == 1
    out = idp.update_user_pool_domain(UserPoolId=pool["Id"], Domain=name, ManagedLoginVersion=2)
    assert out["ManagedLoginVersion"] == 2
    described = idp.describe_user_pool_domain(Domain=name)["DomainDescription"]
    assert described["Domain"] == name and described["ManagedLoginVersion"] == 2
    assert described["UserPoolId"] == pool["Id"]


def test_a_domain_takes_a_new_certificate(idp: Any, make_pool: Any) -> None:
    pool = make_pool()
    name = unique("auth")
    first = "arn:aws:acm:us-east-1:000000000000:certificate/one"
    second = "arn:aws:acm:us-east-1:000000000000:certificate/two"
    idp.create_user_pool_domain(
        UserPoolId=pool["Id"], Domain=name, CustomDomainConfig={"CertificateArn": first}
    )
    idp.update_user_pool_domain(
        UserPoolId=pool["Id"], Domain=name, CustomDomainConfig={"CertificateArn": second}
    )
    described = idp.describe_user_pool_domain(Domain=name)["DomainDescription"]
    assert described["CustomDomainConfig"]["CertificateArn"] == second and described["Domain"] == name


def test_update_refusals(idp: Any, make_pool: Any) -> None:
    pool, other = make_pool(), make_pool()
    name = unique("dom")
    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain=name)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.update_user_pool_domain(UserPoolId=other["Id"], Domain=name, ManagedLoginVersion=2)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.update_user_pool_domain(UserPoolId=pool["Id"], Domain=unique("none"), ManagedLoginVersion=2)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        bad = {"CertificateArn": "not-an-arn-at-all-0000000"}
        idp.update_user_pool_domain(UserPoolId=pool["Id"], Domain=name, CustomDomainConfig=bad)
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.update_user_pool_domain(UserPoolId=pool["Id"], Domain=name, ManagedLoginVersion=3)
    assert idp.describe_user_pool_domain(Domain=name)["DomainDescription"]["ManagedLoginVersion"] == 1
