"""``cognate backup DEST`` copies a live SQLite database (issue 13, "Operating it"): taken
while a server keeps writing, the copy is whole, opens, and serves the same users (who sign
in with their passwords) from another server started on it."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from tests.conformance.test_signin import make_client, make_user, sign_in
from tests.support.server import Server, running_server


def run_backup(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cognate.cli", "backup", *args], capture_output=True, text=True, timeout=60
    )


def keep_writing(server: Server, pool_id: str, stop: threading.Event, made: list[str]) -> None:
    idp = server.boto()
    while not stop.is_set():
        made.append(make_user(idp, pool_id))


def test_backup_of_a_live_database_opens_and_serves(tmp_path: Path) -> None:
    with running_server() as live:
        idp = live.boto()
        pool = idp.create_user_pool(PoolName="kept")["UserPool"]
        client = make_client(idp, pool["Id"])
        name = make_user(idp, pool["Id"])
        made: list[str] = []
        stop = threading.Event()
        writer = threading.Thread(target=keep_writing, args=(live, pool["Id"], stop, made))
        writer.start()
        try:
            while len(made) < 3:  # the server is busy writing while the copy is taken
                stop.wait(0.05)
            dest = tmp_path / "backup.db"
            done = run_backup(str(dest), "--data-dir", str(live.data_dir))
        finally:
            stop.set()
            writer.join()
        assert done.returncode == 0, done.stderr
        assert f"to {dest}" in done.stdout
        assert dest.stat().st_mode & 0o777 == 0o600
        with sqlite3.connect(dest) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            copied = db.execute("SELECT count(*) FROM users").fetchone()[0]
        assert 1 + 3 <= copied <= 1 + len(made)  # a snapshot between the start and the end
        again = run_backup(str(dest), "--data-dir", str(live.data_dir))
        assert again.returncode == 2 and "never overwrites" in again.stderr

        # Another server on the copy (with the installation's master key and admin pair).
        restored = tmp_path / "restored"
        restored.mkdir(mode=0o700)
        shutil.copy(dest, restored / "cognate.db")
        for kept in ("master.key", "credentials.json"):
            shutil.copy(live.data_dir / kept, restored / kept)
    with running_server(data_dir=restored) as copy:
        public = copy.boto(signed=False)
        assert sign_in(public, client["ClientId"], name)["AuthenticationResult"]["AccessToken"]
        pages = copy.boto().get_paginator("list_users").paginate(UserPoolId=pool["Id"])
        assert sum(len(page["Users"]) for page in pages) == copied


def test_backup_refuses_what_it_cannot_copy(tmp_path: Path) -> None:
    missing = run_backup(str(tmp_path / "b.db"), "--data-dir", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no Cognate database" in missing.stderr
    assert not (tmp_path / "nothing").exists() and not (tmp_path / "b.db").exists()
    postgres = run_backup(str(tmp_path / "b.db"), "--database-url", "postgresql://u@127.0.0.1:1/db")
    assert postgres.returncode == 2 and "pg_dump" in postgres.stderr
