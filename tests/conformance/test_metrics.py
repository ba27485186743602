"""``/metrics`` scraped from a real ``cognate serve --workers 2`` (issue 13, "Operating it"):
behind its bearer token, summed over the workers, counting requests by operation, sign-ins
by flow and result, lockouts, password hashing, store calls and trigger calls; absent when
no token is configured; on a port of its own with ``--metrics-port``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from cognate.store.cached import CachingStore
from tests.conformance.test_signin import make_client, make_user, sign_in
from tests.conformance.trigger_server import arn, trigger_server
from tests.support.server import Server, free_port, running_server

TOKEN = "scrape-me-0123456789abcdef"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server("--workers", "2", env={"COGNATE_METRICS_TOKEN": TOKEN}) as srv:
        yield srv


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: Server, url: str | None = None) -> Samples:
    reply = httpx.get(url or f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=")
    out: Samples = {}
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


def grown(before: Samples, after: Samples, metric: str, **labels: str) -> float:
    return value(after, metric, **labels) - value(before, metric, **labels)


def test_password_hashing_and_store_calls_are_timed(server: Server) -> None:
    idp = server.boto()
    public = server.boto(signed=False)
    pool = idp.create_user_pool(PoolName="metrics-timing")["UserPool"]
    client = make_client(idp, pool["Id"])
    before = scrape(server)
    name = make_user(idp, pool["Id"])  # AdminSetUserPassword hashes
    sign_in(public, client["ClientId"], name)  # one verification
    after = scrape(server)
    assert grown(before, after, "cognate_password_hash_duration_seconds_count", operation="hash") >= 1
    assert grown(before, after, "cognate_password_hash_duration_seconds_count", operation="verify") == 1
    assert value(after, "cognate_password_hash_duration_seconds_sum", operation="verify") > 0
    # One sign-in stores one refresh token and one sign-in event: one call each.
    stored = grown(
        before, after, "cognate_store_call_duration_seconds_count", operation="insert_refresh_token"
    )
    assert stored == 1
    # The labels are store methods: a bounded set.
    operations = {
        dict(labels)["operation"] for (metric, labels) in after if metric.startswith("cognate_store_call")
    }
    assert operations and all(callable(getattr(CachingStore, op, None)) for op in operations)


def test_trigger_calls_and_a_port_of_its_own(tmp_path: Path) -> None:
    port = free_port()
    with trigger_server(tmp_path, None, "--metrics-port", str(port), "--metrics-token", TOKEN) as srv:
        url = f"http://127.0.0.1:{port}/metrics"
        # Not on the main port any more, token or not; on its own port, behind the token.
        assert (
            httpx.get(f"{srv.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
        )
        assert httpx.get(url).status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/other").status_code == 404
        idp = srv.boto()
        public = srv.boto(signed=False)
        pool = idp.create_user_pool(
            PoolName="metrics-triggers",
            LambdaConfig={"PreSignUp": arn("pre_signup_auto_confirm"), "PreAuthentication": arn("raises")},
        )["UserPool"]
        client = make_client(idp, pool["Id"])
        before = scrape(srv, url)
        public.sign_up(ClientId=client["ClientId"], Username="tina", Password="Passw0rd!")
        with pytest.raises(ClientError):
            sign_in(public, client["ClientId"], "tina", "Passw0rd!")
        after = scrape(srv, url)
        assert (
            grown(before, after, "cognate_trigger_calls_total", trigger="PreSignUp_SignUp", result="ok") == 1
        )
        failed = grown(
            before,
            after,
            "cognate_trigger_calls_total",
            trigger="PreAuthentication_Authentication",
            result="UserLambdaValidationException",
        )
        assert failed == 1
        timed = grown(before, after, "cognate_trigger_duration_seconds_count", trigger="PreSignUp_SignUp")
        assert timed == 1
        assert grown(before, after, "cognate_requests_total", endpoint="SignUp", status="2xx") == 1


def test_a_port_of_its_own_without_a_token_sums_the_workers() -> None:
    port = free_port()
    with running_server("--metrics-port", str(port), "--workers", "2") as srv:
        idp = srv.boto()
        for _ in range(30):  # spread over both workers; the serve process answers for them all
            idp.list_user_pools(MaxResults=1)
        reply = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert reply.status_code == 200
        assert 'cognate_requests_total{endpoint="ListUserPools",status="2xx"} 30.0' in reply.text
        assert httpx.get(f"{srv.url}/metrics").status_code == 404
        assert httpx.head(f"http://127.0.0.1:{port}/metrics").text == ""
        assert httpx.post(f"http://127.0.0.1:{port}/metrics").status_code == 405
