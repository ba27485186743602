"""SIGKILL in the middle of a burst of writes (issue 14): a real ``cognate serve`` over
SQLite takes sign-ups and admin writes from several threads, is killed with SIGKILL (no
shutdown, no flush), and started again on the same data directory. Every write the server
acknowledged (a 200 reached the client) must be there, whole; the store's invariants hold.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.fuzz.support import check_store_invariants
from tests.support.server import running_server

PASSWORD = "Passw0rd!"
THREADS = 4


def test_every_acknowledged_write_survives_a_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    acked_signups: list[str] = []
    acked_admin: list[tuple[str, str]] = []  # (username, nickname it was given)
    lock = threading.Lock()
    stop = threading.Event()

    with running_server(data_dir=data) as server:
        idp = server.boto()
        pool_id = idp.create_user_pool(PoolName="crash")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"][
            "ClientId"
        ]

        def burst(worker: int) -> None:
            admin = server.boto()
            public = server.boto(signed=False)
            n = 0
            while not stop.is_set():
                n += 1
                name = f"w{worker}-{n}"
                try:
                    if n % 2:
                        public.sign_up(ClientId=client_id, Username=name, Password=PASSWORD)
                        with lock:
                            acked_signups.append(name)
                    else:
                        admin.admin_create_user(
                            UserPoolId=pool_id,
                            Username=name,
                            MessageAction="SUPPRESS",
                            UserAttributes=[{"Name": "nickname", "Value": f"nick-{name}"}],
                        )
                        with lock:
                            acked_admin.append((name, f"nick-{name}"))
                        admin.admin_update_user_attributes(
                            UserPoolId=pool_id,
                            Username=name,
                            UserAttributes=[{"Name": "nickname", "Value": f"new-{name}"}],
                        )
                        with lock:
                            acked_admin.remove((name, f"nick-{name}"))
                            acked_admin.append((name, f"new-{name}"))
                except (BotoCoreError, ClientError, OSError):
                    return  # the server is gone: this write was never acknowledged

        threads = [threading.Thread(target=burst, args=(i,), daemon=True) for i in range(THREADS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked_signups) + len(acked_admin) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.proc.kill()  # SIGKILL mid-burst
        server.proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert len(acked_signups) + len(acked_admin) >= 10, "the burst never got going"
        print(
            f"\nSIGKILL after {len(acked_signups)} sign-ups and {len(acked_admin)} admin writes acknowledged"
        )

    with running_server(data_dir=data) as again:
        idp = again.boto()
        for name in acked_signups:
            user = idp.admin_get_user(UserPoolId=pool_id, Username=name)
            assert user["UserStatus"] == "UNCONFIRMED"
            assert any(a["Name"] == "sub" for a in user["UserAttributes"])
        for name, nickname in acked_admin:
            user = idp.admin_get_user(UserPoolId=pool_id, Username=name)
            attrs: dict[str, Any] = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
            # the update may have been applied after its create was acknowledged; never lost
            assert attrs["nickname"] in (nickname, nickname.replace("nick-", "new-")), attrs
            assert "sub" in attrs
        # still serving writes after the restart
        idp.admin_create_user(UserPoolId=pool_id, Username="after", MessageAction="SUPPRESS")
    check_store_invariants(data)
