"""The README's start command, run exactly as written, answers boto3 and stops on Ctrl-C;
the README's Python and AWS CLI examples run as written against a server.

The command runs from the repository root (``pip install -e .`` needs it); the data
dir and port come from the environment variables every option has (docs/configuration.md),
so the run touches neither ``./.cognate`` nor port 9229. The examples get the
``AWS_*`` variables the banner tells users to paste, and the test server's URL in
place of ``http://127.0.0.1:9229``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.support.server import Server, free_port

ROOT = Path(__file__).resolve().parents[2]


def start_command() -> str:
    """The first fenced code block of README.md that runs ``cognate serve``."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", (ROOT / "README.md").read_text(), re.MULTILINE | re.DOTALL)
    command = next(b.strip() for b in blocks if "cognate serve" in b)
    assert command == "pip install -e . && cognate serve"  # what the README promises first
    return command


@pytest.mark.pip
def test_readme_start_command(tmp_path: Path) -> None:
    command = start_command()
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    # pip and cognate of the interpreter running the tests.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.update(COGNATE_DATA_DIR=str(data_dir), COGNATE_PORT=str(port))
    log_path = tmp_path / "out.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["bash", "-c", command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # pip first, then the server
        while True:
            assert proc.poll() is None, f"exited early ({proc.returncode}):\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"never healthy:\n{log_path.read_text()}"
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

        creds = json.loads((data_dir / "credentials.json").read_text())
        assert (data_dir / "credentials.json").stat().st_mode & 0o777 == 0o600
        output = log_path.read_text()
        assert creds["AccessKeyId"] in output and creds["SecretAccessKey"] in output  # printed once
        assert (data_dir / "cognate.db").exists()

        idp = boto3.client(
            "cognito-idp",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            config=Config(retries={"max_attempts": 1}),
        )
        pool = idp.create_user_pool(PoolName="readme")["UserPool"]
        assert re.fullmatch(r"us-east-1_[A-Za-z0-9]+", pool["Id"])
        assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Name"] == "readme"
        assert pool["Id"] in {p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"did not stop within 30 s of SIGINT:\n{log_path.read_text()}")

    output = log_path.read_text()
    assert code == 0, output
    assert "Traceback" not in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/health", timeout=1)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nothing of the group is left running


def readme_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [
        b
        for lang, b in re.findall(r"^```(\w*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
        if lang == language
    ]


def test_readme_examples_run_as_written(server: Server, tmp_path: Path) -> None:
    """Every Python block in order (one program: make a pool, sign in by boto3 and pycognito,
    verify the token), then the AWS CLI line, with the pasted AWS_* variables."""
    python = readme_blocks("python")
    assert any("initiate_auth" in b for b in python) and any("pycognito" in b for b in python)
    assert any("jwt.decode" in b for b in python)
    program = "\n\n".join(python).replace("http://127.0.0.1:9229", server.url)
    script = tmp_path / "readme_examples.py"
    script.write_text(program + "\n\nprint('README OK', claims['cognito:username'])\n")
    creds = server.credentials
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COGNATE_"))}
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_DEFAULT_REGION="us-east-1",
    )
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "README OK alice" in proc.stdout

    # AWS CLI blocks that need nothing but the server (no "$VARIABLE" or file to fill in).
    cli = [b for b in readme_blocks("sh") if b.startswith("aws ") and "$" not in b]
    assert cli
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    for block in cli:
        done = subprocess.run(
            ["bash", "-c", block.replace("http://127.0.0.1:9229", server.url)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "UserPools" in done.stdout
