"""SetUICustomization / GetUICustomization through boto3, checked as Cognito does, shown on the pages."""

from __future__ import annotations

import base64
import shutil
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import Server

CSS = ".label-customizable { font-weight: 700; }\n.submitButton-customizable { background-color: #8a2be2; }"


def png(width: int = 2, height: int = 2) -> bytes:
    """A tiny valid PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def branded(idp: Any, pool: dict[str, Any]) -> dict[str, Any]:
    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain=f"d{uuid.uuid4().hex[:12]}")
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="web",
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        CallbackURLs=["https://app.example/cb"],
    )["UserPoolClient"]
    return {"pool": pool, "client": client}


def test_pool_wide_then_client_level_customization(idp: Any, server: Server, branded: dict[str, Any]) -> None:
    pool_id, client_id = branded["pool"]["Id"], branded["client"]["ClientId"]
    empty = idp.get_ui_customization(UserPoolId=pool_id)["UICustomization"]
    assert empty["UserPoolId"] == pool_id and "CSS" not in empty

    out = idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", CSS=CSS, ImageFile=png())[
        "UICustomization"
    ]
    assert out["ClientId"] == "ALL" and out["CSS"] == CSS and out["CSSVersion"]
    assert out["ImageUrl"].startswith(server.url)
    assert httpx.get(out["ImageUrl"]).content == png()

    # A client without its own settings gets the pool's.
    got = idp.get_ui_customization(UserPoolId=pool_id, ClientId=client_id)["UICustomization"]
    assert got["ClientId"] == "ALL" and got["CSS"] == CSS

    own = ".background-customizable { background-color: #ffeeee; }"
    idp.set_ui_customization(UserPoolId=pool_id, ClientId=client_id, CSS=own)
    got = idp.get_ui_customization(UserPoolId=pool_id, ClientId=client_id)["UICustomization"]
    assert got["ClientId"] == client_id and got["CSS"] == own and "ImageUrl" not in got

    page = httpx.get(
        f"{server.url}/login",
        params={"client_id": client_id, "redirect_uri": "https://app.example/cb", "response_type": "code"},
    )
    assert page.status_code == 200
    css_url = page.text.split('href="/hosted-ui/brand.css?')[1].split('"')[0].replace("&amp;", "&")
    css = httpx.get(f"{server.url}/hosted-ui/brand.css?{css_url}")
    assert css.headers["content-type"].startswith("text/css")
    assert "background-color: #ffeeee;" in css.text


@pytest.mark.parametrize(
    "css",
    [
        "@import url(https://evil.example/x.css);",
        ".label-customizable { background: url(https://evil.example/x.png); }",
        ".label-customizable { font-weight: expression(alert(1)); }",
        "body { color: red; }",
        ".label-customizable { position: fixed; }",
        ".label-customizable { color: red; } </style><script>alert(1)</script>",
        "@media screen { .label-customizable { font-weight: 700; } }",
        ".label-customizable { color: \\72 ed; }",
    ],
)
def test_css_outside_cognitos_rules_is_refused(idp: Any, branded: dict[str, Any], css: str) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.set_ui_customization(UserPoolId=branded["pool"]["Id"], ClientId="ALL", CSS=css)


def test_images_must_be_small_png_or_jpeg(idp: Any, branded: dict[str, Any]) -> None:
    pool_id = branded["pool"]["Id"]
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", ImageFile=b"<svg onload=alert(1)>")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", ImageFile=png() + b"\0" * (100 * 1024))


def test_a_domain_and_a_known_client_are_needed(idp: Any, pool: dict[str, Any]) -> None:
    with pytest.raises(idp.exceptions.InvalidParameterException, match="domain"):
        idp.set_ui_customization(UserPoolId=pool["Id"], ClientId="ALL", CSS=CSS)
    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain=f"d{uuid.uuid4().hex[:12]}")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.set_ui_customization(UserPoolId=pool["Id"], ClientId="nosuchclient0000000000000", CSS=CSS)
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.get_ui_customization(UserPoolId="us-east-1_Nope12345")


def test_customization_is_not_part_of_describe_user_pool(idp: Any, branded: dict[str, Any]) -> None:
    pool_id = branded["pool"]["Id"]
    idp.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", CSS=CSS)
    described = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert "UICustomization" not in described
    idp.update_user_pool(UserPoolId=pool_id)
    assert idp.get_ui_customization(UserPoolId=pool_id)["UICustomization"]["CSS"] == CSS


def test_base64_of_the_wire_is_what_is_served(idp: Any, server: Server, branded: dict[str, Any]) -> None:
    image = b"\xff\xd8\xff\xe0" + b"\0" * 64
    out = idp.set_ui_customization(UserPoolId=branded["pool"]["Id"], ClientId="ALL", ImageFile=image)
    served = httpx.get(out["UICustomization"]["ImageUrl"])
    assert served.headers["content-type"] == "image/jpeg"
    assert base64.b64encode(served.content) == base64.b64encode(image)


@pytest.mark.skipif(
    shutil.which("aws") is None, reason="the AWS CLI (`aws`, pip package awscli) is not on PATH"
)
def test_the_readmes_aws_cli_command(
    server: Server, idp: Any, branded: dict[str, Any], tmp_path: Path
) -> None:
    """The README's shell block, as written, with its pool id and the server's URL put in."""
    import os
    import re
    import subprocess

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = next(
        b for b in re.findall(r"^```shell\n(.*?)^```", readme, re.M | re.S) if "set-ui-customization" in b
    )
    script = re.sub(r"^POOL=\S+", f"POOL={branded['pool']['Id']}", block, flags=re.M)
    script = script.replace("http://127.0.0.1:9229", server.url)
    (tmp_path / "logo.png").write_bytes(png())
    creds = server.credentials
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_PAGER="",
    )
    done = subprocess.run(
        ["bash", "-ec", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    got = idp.get_ui_customization(UserPoolId=branded["pool"]["Id"])["UICustomization"]
    assert httpx.get(got["ImageUrl"]).content == png()
    assert "#8a2be2" in got["CSS"]
