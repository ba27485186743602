"""``cognate export`` and ``cognate import`` (issue 13, "Operating it"): an installation seeded
through boto3 on SQLite moves to PostgreSQL and back (or to another SQLite) losslessly: the
dump of each copy is the dump of the original, line for line, and on each copy users sign in
with their passwords (USER_PASSWORD_AUTH and SRP through pycognito), with their
authenticator (TOTP), and with a refresh token issued before the export. A non-empty
target, a file sealed under another master key and a truncated file are refused, and leave
the target as it was."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
from pycognito.aws_srp import AWSSRP

from cognate.crypto.sealing import new_master_key
from tests.conformance.test_signin import PASSWORD, secret_hash
from tests.support.postgres import NO_POSTGRES, POSTGRES_URL, fresh_database
from tests.support.server import Server, running_server

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def cognate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cognate.cli", *args], capture_output=True, text=True, timeout=120, env=full
    )


@dataclass
class Seeded:
    pool_id: str
    client_id: str
    client_secret: str
    users: list[str]
    totp_user: str
    totp: pyotp.TOTP
    refresh_token: str
    used_steps: set[int] = field(default_factory=set)


def _auth(seeded: Seeded, name: str, **extra: str) -> dict[str, str]:
    return {
        "USERNAME": name,
        "SECRET_HASH": secret_hash(seeded.client_secret, name, seeded.client_id),
        **extra,
    }


def seed(server: Server) -> Seeded:
    idp, public = server.boto(), server.boto(signed=False)
    pool = idp.create_user_pool(
        PoolName="moved",
        MfaConfiguration="OPTIONAL",
        AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 8, "RequireSymbols": False}},
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="app",
        GenerateSecret=True,
        ExplicitAuthFlows=FLOWS,
        AllowedOAuthFlows=["code"],
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=["https://app.example.com/cb"],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain=f"moved-{uuid.uuid4().hex[:8]}")
    idp.create_resource_server(
        UserPoolId=pool["Id"],
        Identifier="https://api.example.com",
        Name="api",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "read it"}],
    )
    idp.create_group(UserPoolId=pool["Id"], GroupName="admins", Precedence=1, Description="Ädmins")
    names = []
    for i in range(3):
        name = f"user{i}-{uuid.uuid4().hex[:6]}"
        idp.admin_create_user(
            UserPoolId=pool["Id"],
            Username=name,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": f"{name}@example.com"},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "custom:team", "Value": "blåbær"},
            ],
        )
        idp.admin_set_user_password(UserPoolId=pool["Id"], Username=name, Password=PASSWORD, Permanent=True)
        names.append(name)
    idp.admin_add_user_to_group(UserPoolId=pool["Id"], Username=names[0], GroupName="admins")
    seeded = Seeded(
        pool["Id"], client["ClientId"], client["ClientSecret"], names, names[2], pyotp.TOTP("A" * 32), ""
    )
    signed_in = public.initiate_auth(
        ClientId=seeded.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters=_auth(seeded, names[2], PASSWORD=PASSWORD),
    )["AuthenticationResult"]
    access = signed_in["AccessToken"]
    seeded.totp = pyotp.TOTP(public.associate_software_token(AccessToken=access)["SecretCode"])
    seeded.used_steps.add(int(time.time() // 30))
    public.verify_software_token(AccessToken=access, UserCode=seeded.totp.now())
    public.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    seeded.refresh_token = public.initiate_auth(
        ClientId=seeded.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters=_auth(seeded, names[0], PASSWORD=PASSWORD),
    )["AuthenticationResult"]["RefreshToken"]
    rotated = cognate("keys", "rotate", seeded.pool_id, "--data-dir", str(server.data_dir))
    assert rotated.returncode == 0, rotated.stderr  # retired keys travel too
    return seeded


def password_and_srp_sign_in(public: Any, seeded: Seeded, name: str) -> None:
    """``name`` signs in by USER_PASSWORD_AUTH and by real SRP (pycognito)."""
    result = public.initiate_auth(
        ClientId=seeded.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters=_auth(seeded, name, PASSWORD=PASSWORD),
    )
    assert "AccessToken" in result["AuthenticationResult"]
    srp = AWSSRP(
        username=name,
        password=PASSWORD,
        pool_id=seeded.pool_id,
        client_id=seeded.client_id,
        client_secret=seeded.client_secret,
        client=public,
    )
    assert "AccessToken" in srp.authenticate_user()["AuthenticationResult"]


def signs_in(server: Server, seeded: Seeded) -> None:
    public = server.boto(signed=False)
    for name in seeded.users[:2]:
        password_and_srp_sign_in(public, seeded, name)
    refreshed = public.initiate_auth(
        ClientId=seeded.client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={
            "REFRESH_TOKEN": seeded.refresh_token,
            "SECRET_HASH": secret_hash(seeded.client_secret, seeded.users[0], seeded.client_id),
        },
    )
    assert "AccessToken" in refreshed["AuthenticationResult"]
    first = public.initiate_auth(
        ClientId=seeded.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters=_auth(seeded, seeded.totp_user, PASSWORD=PASSWORD),
    )
    assert first["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    now = int(time.time() // 30)
    step = next(s for s in (now + 1, now, now - 1) if s not in seeded.used_steps)  # an unused one
    seeded.used_steps.add(step)
    done = public.respond_to_auth_challenge(
        ClientId=seeded.client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=first["Session"],
        ChallengeResponses=_auth(seeded, seeded.totp_user, SOFTWARE_TOKEN_MFA_CODE=seeded.totp.at(step * 30)),
    )
    assert "AccessToken" in done["AuthenticationResult"]
    users = server.boto().list_users(UserPoolId=seeded.pool_id)["Users"]
    assert sorted(u["Username"] for u in users) == sorted(seeded.users)


def records(path: Path) -> list[str]:
    """The file's lines but the header's time and version: what must be equal across copies."""
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = json.loads(lines[0])
    del header["exported_at"], header["cognate"]
    return [json.dumps(header), *lines[1:]]


@contextlib.contextmanager
def database(kind: str, data_dir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{data_dir / 'cognate.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    with fresh_database("cognate_export") as url:
        yield url


def installation(root: Path, name: str, source: Path) -> Path:
    """A new data dir with the exported installation's master key and admin key pair."""
    data = root / name
    data.mkdir(mode=0o700)
    for kept in ("master.key", "credentials.json"):
        shutil.copy(source / kept, data / kept)
    return data


@pytest.mark.parametrize("middle", ["postgresql", "sqlite"])
def test_an_installation_moves_and_comes_back_losslessly(tmp_path: Path, middle: str) -> None:
    # 1. SQLite, seeded through boto3; exported while the server runs.
    with running_server() as origin:
        seeded = seed(origin)
        first = tmp_path / "first.jsonl.gz"
        done = cognate("export", str(first), "--data-dir", str(origin.data_dir))
        assert done.returncode == 0, done.stderr
        assert first.stat().st_mode & 0o777 == 0o600
        origin_dir = tmp_path / "origin"
        shutil.copytree(origin.data_dir, origin_dir)

    # 2. Into PostgreSQL (or another SQLite): the same dump; users sign in.
    moved_dir = installation(tmp_path, "moved", origin_dir)
    with database(middle, moved_dir) as url:
        done = cognate("import", str(first), "--data-dir", str(moved_dir), "--database-url", url)
        assert done.returncode == 0, done.stderr
        second = tmp_path / "second.jsonl"
        assert (
            cognate("export", str(second), "--data-dir", str(moved_dir), "--database-url", url).returncode
            == 0
        )
        assert records(second) == records(first)
        with running_server("--database-url", url, data_dir=moved_dir) as moved:
            signs_in(moved, seeded)
        third = tmp_path / "third.jsonl"
        assert (
            cognate("export", str(third), "--data-dir", str(moved_dir), "--database-url", url).returncode == 0
        )

    # 3. Back into SQLite: the same dump again; users sign in.
    back_dir = installation(tmp_path, "back", origin_dir)
    done = cognate("import", str(third), "--data-dir", str(back_dir))
    assert done.returncode == 0, done.stderr
    fourth = tmp_path / "fourth.jsonl"
    assert cognate("export", str(fourth), "--data-dir", str(back_dir)).returncode == 0
    assert records(fourth) == records(third)
    with running_server(data_dir=back_dir) as back:
        signs_in(back, seeded)


def test_import_refuses_and_keeps_the_target_as_it_was(tmp_path: Path) -> None:
    with running_server() as origin:
        idp = origin.boto()
        pool = idp.create_user_pool(PoolName="kept")["UserPool"]
        dump = tmp_path / "dump.jsonl"
        assert cognate("export", str(dump), "--data-dir", str(origin.data_dir)).returncode == 0
        again = cognate("export", str(dump), "--data-dir", str(origin.data_dir))
        assert again.returncode == 2 and "never overwrites" in again.stderr
        # Not empty: the origin itself.
        full = cognate("import", str(dump), "--data-dir", str(origin.data_dir))
        assert full.returncode == 2 and "not empty" in full.stderr
        assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Name"] == "kept"
        source = tmp_path / "origin"
        shutil.copytree(origin.data_dir, source)

    # Another master key: the sealed secrets would not open.
    other = tmp_path / "other"
    other.mkdir()
    wrong = cognate(
        "import", str(dump), "--data-dir", str(other), env={"COGNATE_MASTER_KEY": new_master_key()}
    )
    assert wrong.returncode == 2 and "master key" in wrong.stderr
    assert not (other / "cognate.db").exists()

    # Truncated: nothing is kept, and the same target then takes the whole file.
    target = installation(tmp_path, "target", source)
    lines = dump.read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:-1]))
    truncated = cognate("import", str(cut), "--data-dir", str(target))
    assert truncated.returncode == 2 and "truncated" in truncated.stderr
    whole = cognate("import", str(dump), "--data-dir", str(target))
    assert whole.returncode == 0, whole.stderr
    assert "Imported" in whole.stdout
    not_ours = tmp_path / "not-ours.jsonl"
    not_ours.write_text('{"hello": 1}\n')
    refused = cognate("import", str(not_ours), "--data-dir", str(installation(tmp_path, "x", source)))
    assert refused.returncode == 2 and "not a Cognate export" in refused.stderr
