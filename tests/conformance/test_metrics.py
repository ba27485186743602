"""``/metrics`` scraped from a real ``cognate serve --workers 2`` (issue 13, "Operating it"):
behind its bearer token, summed over the workers, counting requests by operation, sign-ins
by flow and result, and lockouts; absent when no token is configured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.conformance.test_signin import make_client, make_user, sign_in
from tests.support.server import Server, running_server

TOKEN = "scrape-me-0123456789abcdef"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server("--workers", "2", env={"COGNATE_METRICS_TOKEN": TOKEN}) as srv:
        yield srv


def scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    reply = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=")
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_bearer_token(server: Server) -> None:
    assert httpx.get(f"{server.url}/metrics").status_code == 401
    wrong = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert "cognate_" not in wrong.text
    basic = httpx.get(f"{server.url}/metrics", auth=("metrics", TOKEN))
    assert basic.status_code == 401
    assert (
        httpx.post(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405
    )


def test_requests_are_counted_across_both_workers(server: Server) -> None:
    idp = server.boto()
    before = scrape(server)
    for _ in range(30):  # spread over both workers; a one-worker count would fall short
        idp.list_user_pools(MaxResults=1)
    httpx.get(f"{server.url}/us-east-1_nothere12/.well-known/jwks.json")
    after = scrape(server)
    done = value(after, "cognate_requests_total", endpoint="ListUserPools", status="2xx")
    assert done - value(before, "cognate_requests_total", endpoint="ListUserPools", status="2xx") == 30
    timed = value(after, "cognate_request_duration_seconds_count", endpoint="ListUserPools")
    assert timed - value(before, "cognate_request_duration_seconds_count", endpoint="ListUserPools") == 30
    # A pool id never becomes a label: the route template does.
    assert (
        value(after, "cognate_requests_total", endpoint="/{pool_id}/.well-known/jwks.json", status="4xx") >= 1
    )
    assert not any("nothere" in str(labels) for _, labels in after)


def test_sign_ins_by_flow_and_result_and_lockouts(server: Server) -> None:
    idp = server.boto()
    public = server.boto(signed=False)
    pool = idp.create_user_pool(PoolName="metrics")["UserPool"]
    client = make_client(idp, pool["Id"])
    name = make_user(idp, pool["Id"])
    before = scrape(server)
    sign_in(public, client["ClientId"], name)
    messages = []
    for _ in range(8):
        try:
            sign_in(public, client["ClientId"], name, "Wrong-passw0rd")
        except ClientError as err:
            messages.append(err.response["Error"]["Message"])
    after = scrape(server)

    def grew(metric: str, **labels: str) -> float:
        return value(after, metric, **labels) - value(before, metric, **labels)

    exceeded = messages.count("Password attempts exceeded")
    assert exceeded >= 1, messages
    assert grew("cognate_sign_ins_total", flow="USER_PASSWORD_AUTH", result="authenticated") == 1
    assert grew("cognate_sign_ins_total", flow="USER_PASSWORD_AUTH", result="NotAuthorizedException") == 8
    assert grew("cognate_lockouts_total") == exceeded


def test_no_token_no_metrics() -> None:
    with running_server() as plain:
        assert httpx.get(f"{plain.url}/metrics").status_code == 404
        assert not (plain.data_dir / "metrics").exists()
