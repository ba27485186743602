"""The first minutes of ``cognate serve``: start-up failures as one clear line with nothing
created, the database waited for, the banner's paste-ready lines, ``keys rotate`` refusing
to create an installation, and folder modes left alone."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.support.server import free_port, running_server, wait_healthy

POSTGRES_URL = os.environ.get("COGNATE_TEST_POSTGRES_URL")


def cognate(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    full_env["COGNATE_TEST_PASSWORD_HASH_COST"] = "low"
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cognate.cli", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_clear_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("cognate: ")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def test_port_taken_stops_before_anything_is_created(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = cognate("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    line = one_clear_line(proc)
    assert f"port {port} is already in use" in line and "--port" in line
    assert proc.returncode == 2
    assert not (tmp_path / "data").exists()  # no keys, no database
    assert "listening" not in proc.stdout + proc.stderr
    assert "AWS_SECRET_ACCESS_KEY" not in proc.stdout


def test_data_dir_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    proc = cognate("serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "file" / "data"))
    line = one_clear_line(proc)
    assert "is a file, not a folder" in line and "--data-dir" in line
    proc = cognate("serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "file"))
    assert "is a file, not a folder" in one_clear_line(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_tls_files_that_do_not_load(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    for cert, expected in (
        (tmp_path / "missing.pem", "does not exist"),
        (tmp_path / "cert.pem", "do not load"),
    ):
        proc = cognate(
            "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
            "--tls-cert", str(cert), "--tls-key", str(tmp_path / "key.pem"),
        )  # fmt: skip
        assert expected in one_clear_line(proc)
        assert not (tmp_path / "d").exists()


def test_data_dir_that_cannot_be_created() -> None:
    # /sys refuses new folders even to root, whatever access(2) says.
    proc = cognate("serve", "--port", str(free_port()), "--data-dir", "/sys/cognate-data")
    assert "cannot create the data dir /sys/cognate-data" in one_clear_line(proc)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_unwritable_data_dir(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    proc = cognate("serve", "--port", str(free_port()), "--data-dir", str(locked / "data"))
    assert "not writable" in one_clear_line(proc)
    proc = cognate("serve", "--port", str(free_port()), "--data-dir", str(locked))
    assert "not writable" in one_clear_line(proc)


def test_unreachable_postgresql_is_retried_for_a_bounded_time_with_the_wait_shown(tmp_path: Path) -> None:
    url = f"postgresql://cognate:s3cret-pw@127.0.0.1:{free_port()}/cognate"
    started = time.monotonic()
    proc = cognate(
        "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
        "--database-url", url, "--database-wait", "2",
    )  # fmt: skip
    elapsed = time.monotonic() - started
    line = one_clear_line(proc)
    assert "cannot reach the database at cognate@127.0.0.1" in line and "connection refused" in line
    assert "waiting for the database" in proc.stderr
    assert "s3cret-pw" not in proc.stderr + proc.stdout
    assert 1.5 < elapsed < 30
    assert not (tmp_path / "d").exists()


def test_unresolvable_postgresql_host(tmp_path: Path) -> None:
    proc = cognate(
        "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
        "--database-url", "postgresql://u@cognate-db.invalid:5432/x", "--database-wait", "0",
    )  # fmt: skip
    line = one_clear_line(proc)
    assert "cognate-db.invalid" in line and "does not resolve" in line
    assert not (tmp_path / "d").exists()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="COGNATE_TEST_POSTGRES_URL is not set")
def test_postgresql_that_comes_up_late_is_waited_for(tmp_path: Path) -> None:
    """A PostgreSQL starting beside Cognate: its port refuses until Cognate has said it waits."""
    from urllib.parse import urlsplit

    assert POSTGRES_URL is not None
    real = urlsplit(POSTGRES_URL)
    late_port, port = free_port(), free_port()
    late_url = POSTGRES_URL.replace(f"{real.hostname}:{real.port or 5432}", f"127.0.0.1:{late_port}")
    log_path = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNATE_")}
    env["COGNATE_TEST_PASSWORD_HASH_COST"] = "low"
    args = ["--port", str(port), "--data-dir", str(tmp_path / "d"), "--database-url", late_url]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cognate.cli", "serve", *args, "--database-wait", "60"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 60
        while "waiting for the database" not in log_path.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        assert not (tmp_path / "d").exists()  # nothing made while waiting
        threading.Thread(
            target=_forward,
            args=(late_port, real.hostname or "127.0.0.1", real.port or 5432, stop),
            daemon=True,
        ).start()
        wait_healthy(f"http://127.0.0.1:{port}", proc, log_path, timeout=60)
        assert (tmp_path / "d" / "credentials.json").exists()
    finally:
        stop.set()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0, log_path.read_text()


def _forward(port: int, host: str, upstream_port: int, stop: threading.Event) -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection((host, upstream_port))
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def test_keys_rotate_refuses_to_create_an_installation(tmp_path: Path) -> None:
    proc = cognate("keys", "rotate", "us-east-1_Nothing01", cwd=tmp_path)
    line = one_clear_line(proc)
    assert "no Cognate installation in" in line and "--data-dir" in line
    assert list(tmp_path.iterdir()) == []  # no ./.cognate, no master key
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    proc = cognate("keys", "rotate", "us-east-1_Nothing01", "--data-dir", str(empty))
    assert "no master key" in one_clear_line(proc)
    assert list(empty.iterdir()) == []
    assert stat.S_IMODE(empty.stat().st_mode) == 0o755


def test_modes_of_data_dirs(tmp_path: Path) -> None:
    """A folder Cognate creates is 0700; one it did not create keeps its mode."""
    mine = tmp_path / "existing"
    mine.mkdir()
    mine.chmod(0o755)
    with running_server(data_dir=mine) as srv:
        assert srv.boto().list_user_pools(MaxResults=1)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o755
    assert stat.S_IMODE((mine / "credentials.json").stat().st_mode) == 0o600
    new = tmp_path / "new" / "data"
    with running_server(data_dir=new):
        pass
    assert stat.S_IMODE(new.stat().st_mode) == 0o700


def test_banner_prints_lines_to_paste_for_boto3_and_the_aws_cli(tmp_path: Path) -> None:
    with running_server(data_dir=tmp_path / "d") as srv:
        log = srv.log()
        exports = [line.strip() for line in log.splitlines() if line.strip().startswith("export AWS_")]
        assert len(exports) == 1, log
        env = dict(word.split("=", 1) for word in shlex.split(exports[0])[1:])
        assert env == {
            "AWS_ACCESS_KEY_ID": srv.credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": srv.credentials["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        assert srv.url in log
        # What a user does with them: boto3 reads the pasted variables itself.
        pasted = subprocess.run(
            [sys.executable, "-c", "import boto3,sys; print(len(boto3.client('cognito-idp', "
             "endpoint_url=sys.argv[1]).list_user_pools(MaxResults=5)['UserPools']))", srv.url],
            env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **env},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert pasted.returncode == 0, pasted.stderr
        assert pasted.stdout.strip() == "0"
        listening = log.index("listening on")
        assert listening < log.index("export AWS_ACCESS_KEY_ID")


def test_the_admin_pair_can_be_fixed_to_test_test(tmp_path: Path) -> None:
    """What users of moto and cognito-local try: the README's COGNATE_ACCESS_KEY_ID=test recipe."""
    env = {"COGNATE_ACCESS_KEY_ID": "test", "COGNATE_SECRET_ACCESS_KEY": "test"}
    with running_server(data_dir=tmp_path / "d", env=env) as srv:
        idp = boto3.client(
            "cognito-idp", endpoint_url=srv.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )  # fmt: skip
        assert idp.list_user_pools(MaxResults=1)["UserPools"] == []
        assert "export AWS_" not in srv.log()  # nothing generated, nothing printed
        wrong = boto3.client(
            "cognito-idp", endpoint_url=srv.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="nope",
            config=Config(retries={"max_attempts": 1}),
        )  # fmt: skip
        with pytest.raises(wrong.exceptions.ClientError, match=r"InvalidSignature|signature"):
            wrong.list_user_pools(MaxResults=1)


@pytest.mark.parametrize("command", [["serve"], ["keys", "rotate"]])
def test_help_describes_every_option_with_default_and_variable(command: list[str]) -> None:
    from cognate import config

    proc = cognate(*command, "--help")
    assert proc.returncode == 0
    text = re.sub(r"\s+", " ", proc.stdout)
    options = [o for o in config.OPTIONS if o.flag and (command == ["serve"] or o.flag in text)]
    assert options
    for option in options:
        assert f"env {option.env}" in text, option.name
        assert re.sub(r"\s+", " ", option.help) in text, option.name
        assert f"default: {option.default}".replace(" ", "") in text.replace(" ", ""), option.name
    if command == ["serve"]:
        for option in config.OPTIONS:
            assert option.env in text, option.name
