"""What a sign-in through the hosted /login page costs, as a ratio to the same sign-in by the API.

One real ``cognate serve`` (real password hashing cost), one user, sequential requests from one
client, interleaved in rounds so that both are measured under the same load:

- ``api``: ``InitiateAuth`` USER_PASSWORD_AUTH (one POST /, tokens in the answer);
- ``page``: what a browser does once it is on the login page: POST /login with the form's
  fields (CSRF token included), answered by the redirect to the app (or the signed-in page when
  the OAuth door is absent); the GET that shows the form is timed on its own (``form``).

Prints one JSON line: medians in milliseconds and ``page_over_api`` / ``form_over_api``.

    python -m bench.hosted_login --rounds 40
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.servers import start_cognate

PASSWORD = "Bench-Passw0rd!"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--server-cores", default="1")
    args = parser.parse_args()
    cores = [int(c) for c in args.server_cores.split(",")]
    with tempfile.TemporaryDirectory(prefix="cognate-bench-") as tmp:
        server = start_cognate(Path(tmp) / "data", cores, 1, Path(tmp) / "server.log")
        try:
            print(json.dumps(measure(server.url, Path(tmp) / "data", args.rounds)))
        finally:
            server.stop()


def measure(url: str, data_dir: Path, rounds: int) -> dict[str, object]:
    import boto3

    creds = json.loads((data_dir / "credentials.json").read_text())
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
    )
    pool = idp.create_user_pool(PoolName="bench")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="bench",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        CallbackURLs=["https://app.example/cb"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(
        UserPoolId=pool, Username="bench", MessageAction="SUPPRESS", TemporaryPassword=PASSWORD
    )
    idp.admin_set_user_password(UserPoolId=pool, Username="bench", Password=PASSWORD, Permanent=True)
    api_body = json.dumps(
        {
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client,
            "AuthParameters": {"USERNAME": "bench", "PASSWORD": PASSWORD},
        }
    )
    api_headers = {
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        "Content-Type": "application/x-amz-json-1.1",
    }
    params = {
        "client_id": client,
        "redirect_uri": "https://app.example/cb",
        "response_type": "code",
        "prompt": "login",
    }
    times: dict[str, list[float]] = {"api": [], "form": [], "page": []}
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(rounds + 2):  # two warm-up rounds
            t0 = time.perf_counter()
            r = http.post("/", content=api_body, headers=api_headers)
            t1 = time.perf_counter()
            assert r.status_code == 200, r.text
            form = http.get("/login", params=params)
            t2 = time.perf_counter()
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.text))
            t3 = time.perf_counter()
            done = http.post("/login", data={**fields, "username": "bench", "password": PASSWORD})
            t4 = time.perf_counter()
            assert done.status_code in (200, 302), done.text[:500]
            if i >= 2:
                times["api"].append(t1 - t0)
                times["form"].append(t2 - t1)
                times["page"].append(t4 - t3)
    medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
    return {
        "workload": "hosted_login",
        "rounds": rounds,
        "api_ms": round(medians["api"], 2),
        "form_ms": round(medians["form"], 2),
        "page_ms": round(medians["page"], 2),
        "page_over_api": round(medians["page"] / medians["api"], 2),
        "form_over_api": round(medians["form"] / medians["api"], 2),
    }


if __name__ == "__main__":
    sys.exit(main())
