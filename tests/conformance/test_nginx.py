"""Two nodes behind Debian's nginx, with the configuration of docs/deployment.md word for word
(only its addresses, ports and certificate paths changed): TLS ends at nginx, boto3 signs in
through it (SigV4 over the Host header nginx passes on), the OAuth code flow works, the hosted
pages' cookies are Secure, and an X-Forwarded-For written by the client is not believed.

The client speaks from 127.0.0.2, nginx reaches the nodes from 127.0.0.1 (the nodes'
``--trusted-proxies``): so the request log's ``client`` shows whose address a node believed.
"""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config

from cognate.crypto.sealing import new_master_key
from tests.conformance.oauth_browser import Browser
from tests.support.postgres import NO_POSTGRES, POSTGRES_URL, fresh_database
from tests.support.server import Server, free_port, running_server, self_signed_cert

pytestmark = pytest.mark.postgres

DOC = Path(__file__).parents[2] / "docs" / "deployment.md"
PASSWORD = "Passw0rd!long"
CALLBACK = "https://app.example/callback"
CLIENT_ADDRESS = "127.0.0.2"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None
    )


def documented_config() -> str:
    """The ```nginx block of docs/deployment.md."""
    blocks = re.findall(r"```nginx\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1, "docs/deployment.md has one nginx configuration"
    return blocks[0]


def localized(config: str, nodes: list[Server], https_port: int, http_port: int, cert: str, key: str) -> str:
    """The documented file with this machine's addresses, ports and certificate: nothing else."""
    swaps = {
        "10.0.0.11:9229": f"127.0.0.1:{nodes[0].port}",
        "10.0.0.12:9229": f"127.0.0.1:{nodes[1].port}",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "/etc/ssl/cognate/fullchain.pem": cert,
        "/etc/ssl/cognate/privkey.pem": key,
    }
    for old, new in swaps.items():
        assert config.count(old) == 1, old
        config = config.replace(old, new)
    return config


@dataclass
class Front:
    url: str
    ca_file: str
    nodes: list[Server]
    env: dict[str, str]

    @property
    def ca(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def boto(self, *, signed: bool = True) -> Any:
        from botocore import UNSIGNED

        return boto3.client(
            "cognito-idp",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.env["COGNATE_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["COGNATE_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 1}, signature_version=None if signed else UNSIGNED),
            verify=self.ca_file,
        )


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited ({proc.returncode}): {log.read_text(errors='replace')}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen: {log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def front() -> Iterator[Front]:
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cognate-nginx-")))
        https_port, http_port = free_port(), free_port()
        url = f"https://127.0.0.1:{https_port}"
        env = {
            "COGNATE_DATABASE_URL": stack.enter_context(fresh_database("cognate_nginx")),
            "COGNATE_PUBLIC_URL": url,
            "COGNATE_TRUSTED_PROXIES": "127.0.0.1",
            "COGNATE_MASTER_KEY": new_master_key(),
            "COGNATE_ACCESS_KEY_ID": "AKIA" + secrets.token_hex(8).upper(),
            "COGNATE_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
        }
        nodes = [stack.enter_context(running_server(env=env)) for _ in range(2)]
        cert, key = self_signed_cert(tmp)
        conf = tmp / "nginx.conf"
        conf.write_text(
            f"daemon off;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
            "events { worker_connections 128; }\n"
            f"http {{\naccess_log off;\nclient_body_temp_path {tmp}/body;\nproxy_temp_path {tmp}/proxy;\n"
            f"fastcgi_temp_path {tmp}/fastcgi;\nuwsgi_temp_path {tmp}/uwsgi;\nscgi_temp_path {tmp}/scgi;\n"
            + localized(documented_config(), nodes, https_port, http_port, cert, key)
            + "}\n"
        )
        log = tmp / "nginx.out"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [nginx, "-p", str(tmp), "-e", f"{tmp}/error.log", "-c", str(conf)], stdout=out, stderr=out
            )
        try:
            wait_listening(https_port, proc, log)
            yield Front(url, cert, nodes, env)
        finally:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def pool(front: Front) -> dict[str, str]:
    idp = front.boto()  # signed: the Host header reached the node as boto3 signed it
    pool_id = idp.create_user_pool(PoolName="behind-nginx")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    name = f"u{uuid.uuid4().hex[:8]}"
    idp.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=name, Password=PASSWORD, Permanent=True)
    return {"pool": pool_id, "client": client["ClientId"], "secret": client["ClientSecret"], "user": name}


def secret_hash(pool: dict[str, str]) -> str:
    import base64
    import hashlib
    import hmac

    mac = hmac.new(pool["secret"].encode(), (pool["user"] + pool["client"]).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def log_lines(front: Front, path: str) -> list[str]:
    """The request lines of ``path`` in both nodes' logs, once some are written."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line for node in front.nodes for line in node.log().splitlines() if f"path={path} " in line]
        if lines or time.monotonic() > deadline:
            return lines


def test_boto3_signs_in_through_nginx_on_both_nodes(front: Front, pool: dict[str, str]) -> None:
    public = front.boto(signed=False)
    for _ in range(6):
        result = public.initiate_auth(
            ClientId=pool["client"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": pool["user"], "PASSWORD": PASSWORD, "SECRET_HASH": secret_hash(pool)},
        )["AuthenticationResult"]
        assert public.get_user(AccessToken=result["AccessToken"])["Username"] == pool["user"]
    deadline = time.monotonic() + 10  # a request's line is written once its response is sent
    while True:
        answered = [
            len(re.findall(r"operation=(InitiateAuth|GetUser) status=200", n.log())) for n in front.nodes
        ]
        if sum(answered) >= 12 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sum(answered) == 12 and all(answered), answered  # nginx spread them over both nodes


def test_oauth_code_flow_through_nginx(front: Front, pool: dict[str, str]) -> None:
    query = {
        "client_id": pool["client"],
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid",
    }
    browser = Browser(front.url, verify=front.ca)
    try:
        location = browser.sign_in(
            f"{front.url}/oauth2/authorize?{urlencode(query)}", pool["user"], PASSWORD, CALLBACK
        )
        # TLS ends at nginx, yet the hosted pages' cookies are for HTTPS (the public URL says so)
        cookies = {c.name: c for c in browser.http.cookies.jar}
        assert "__Host-cognate_browser" in cookies and cookies["__Host-cognate_browser"].secure
        assert cookies[f"cognate_session_{pool['pool']}"].secure
    finally:
        browser.close()
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = httpx.post(
        f"{front.url}/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(pool["client"], pool["secret"]),
        verify=front.ca,
    )
    assert tokens.status_code == 200, tokens.text
    claims = httpx.get(
        f"{front.url}/oauth2/userInfo",
        headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
        verify=front.ca,
    ).json()
    assert claims["username"] == pool["user"]
    issuer = httpx.get(f"{front.url}/{pool['pool']}/.well-known/openid-configuration", verify=front.ca)
    assert issuer.json()["issuer"] == f"{front.url}/{pool['pool']}"


def test_a_forwarded_for_written_by_the_client_is_not_believed(front: Front) -> None:
    transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS, verify=front.ca)
    with httpx.Client(transport=transport, timeout=30) as client:
        client.get(f"{front.url}/probe-plain")
        client.get(f"{front.url}/probe-spoofed", headers={"X-Forwarded-For": "203.0.113.9"})
    plain, spoofed = log_lines(front, "/probe-plain"), log_lines(front, "/probe-spoofed")
    # nginx's word about its client is believed (the node's peer is nginx, 127.0.0.1) ...
    assert len(plain) == 1 and plain[0].endswith(f"client={CLIENT_ADDRESS}"), plain
    # ... the client's own claim is not
    assert len(spoofed) == 1 and spoofed[0].endswith(f"client={CLIENT_ADDRESS}"), spoofed
    # Straight to a node, the header comes from no trusted proxy: the peer is the client.
    direct = httpx.HTTPTransport(local_address=CLIENT_ADDRESS)
    with httpx.Client(transport=direct, timeout=30) as client:
        client.get(f"{front.nodes[0].url}/probe-direct", headers={"X-Forwarded-For": "203.0.113.9"})
    direct_lines = log_lines(front, "/probe-direct")
    assert len(direct_lines) == 1 and direct_lines[0].endswith(f"client={CLIENT_ADDRESS}"), direct_lines
