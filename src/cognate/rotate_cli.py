"""``cognate rotate-master-key`` and ``cognate rotate-admin-key``: rotations without downtime.

The master key: servers run with a key ring, the master key (which seals) and the
accepted keys (which only open what they sealed): ``COGNATE_MASTER_KEY`` or the first
line of ``<data-dir>/master.key``, and ``COGNATE_ACCEPTED_MASTER_KEYS`` or the file's
further lines. Once every server seals with the new key and accepts the old one,
``rotate-master-key`` re-seals, while they serve, every value an accepted key sealed
(wherever it is: client secrets, SRP verifiers, TOTP secrets, signing keys, and the
short-lived challenge state), in short transactions, pass after pass until a pass finds
none; then the old key may go. docs/operations.md gives the steps.

The admin key pair (``<data-dir>/credentials.json``): ``rotate-admin-key`` writes a new
pair and keeps the old one as ``Previous`` until ``--grace`` seconds have passed; running
servers read the file again within a second, and refuse the old pair after the grace.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from cognate import bootstrap, config
from cognate.admin_keys import pairs_of_document, replace_file, write_credentials
from cognate.audit_cli import record_operator_change, record_operator_change_now
from cognate.core import clients, custom_auth, keys, mfa, srp_sign_in, users
from cognate.crypto.sealing import Sealer, key_id, new_master_key
from cognate.hosted_ui import signin
from cognate.store.engine import db_file, head_revision
from cognate.store.sql import Store

# Every purpose a value is sealed for (tests/unit/test_rotate_cli.py finds every seal call's).
PURPOSES = (
    clients.SECRET_PURPOSE,
    users.SRP_PURPOSE,
    mfa.PURPOSE,
    keys.PURPOSE,
    srp_sign_in.EPHEMERAL_PURPOSE,
    custom_auth.PRIVATE_PURPOSE,
    signin.TOTP_PURPOSE,
)
MAX_PASSES = 5


# How long --new-key waits between its steps: servers read master.key again within a second.
STAGE_S = 3 * bootstrap.KeyFile.RECHECK_S


def rotate_master_key(settings: config.Settings, *, new_key: bool = False) -> int:
    master, accepted = bootstrap.master_keys(settings, Path(settings.data_dir), create=False)
    if new_key:
        master, accepted = _stage_new_key(settings, master, accepted)
    if not accepted:
        raise config.ConfigError(
            "no accepted master key to re-seal from: give the new key as the master key and the old "
            "one in COGNATE_ACCEPTED_MASTER_KEYS (or as the second line of <data-dir>/master.key); "
            "see docs/operations.md"
        )
    source = db_file(settings.database_url)
    if source is not None and not Path(source).is_file():
        raise config.ConfigError(
            f"no Cognate database at {source}: give the server's --data-dir or --database-url"
        )
    sealer = Sealer(master, accepted)
    passes = asyncio.run(_reseal(settings, sealer))
    ids = sealer.key_ids
    print(
        f"Re-sealed {sum(passes)} values under master key {ids[0]} "
        f"(by pass: {', '.join(str(n) for n in passes)}). Nothing is sealed under "
        f"{', '.join(ids[1:])} any more: remove it from COGNATE_ACCEPTED_MASTER_KEYS "
        "(or <data-dir>/master.key); servers forget it at their next restart."
    )
    return 0


def _stage_new_key(
    settings: config.Settings, master: str, accepted: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    """A new master key through ``<data-dir>/master.key``, in two steps the running servers
    follow without a restart: first accepted everywhere, then the one that seals."""
    if settings.master_key:
        raise config.ConfigError(
            "--new-key rotates <data-dir>/master.key, but the master key comes from COGNATE_MASTER_KEY: "
            "follow the steps of docs/operations.md with your configuration instead"
        )
    path = Path(settings.data_dir) / bootstrap.MASTER_KEY_FILE
    new = new_master_key()
    replace_file(path, "\n".join([master, *accepted, new]) + "\n")
    print(f"1/3 {path}: new key {key_id(new)} accepted; waiting {STAGE_S:g} s for the servers", flush=True)
    time.sleep(STAGE_S)
    replace_file(path, "\n".join([new, master, *accepted]) + "\n")
    print(f"2/3 {path}: new key {key_id(new)} seals; waiting {STAGE_S:g} s for the servers", flush=True)
    time.sleep(STAGE_S)
    print("3/3 re-sealing", flush=True)
    return new, (master, *accepted)


async def _reseal(settings: config.Settings, sealer: Sealer) -> list[int]:
    store = Store(settings.database_url)
    try:
        found = await store.schema_version()
        if found != head_revision():
            raise config.ConfigError(
                f"the database is at schema revision {found}, this Cognate at {head_revision()}: "
                "run this version's servers on it first"
            )
        passes: list[int] = []
        while len(passes) < MAX_PASSES:
            # A server may write back a value it read before this pass re-sealed it: pass again
            # until a pass finds nothing.
            passes.append(await store.rewrite_strings(lambda value: sealer.reseal(value, PURPOSES)))
            if passes[-1] == 0:
                await record_operator_change(settings, store, "rotate-master-key", ["MasterKey"])
                return passes
    finally:
        await store.close()
    raise RuntimeError(
        f"values sealed under the old key kept appearing after {MAX_PASSES} passes: is a server "
        "still sealing with it? Give every server the new master key, then run this again"
    )


def rotate_admin_key(settings: config.Settings, grace_s: float) -> int:
    if settings.access_key_id or settings.secret_access_key:
        raise config.ConfigError(
            "the admin key pair comes from COGNATE_ACCESS_KEY_ID: rotate it there (the new pair in "
            "COGNATE_ACCESS_KEY_ID / COGNATE_SECRET_ACCESS_KEY, the old one in "
            "COGNATE_PREVIOUS_ACCESS_KEY_ID / COGNATE_PREVIOUS_SECRET_ACCESS_KEY / "
            "COGNATE_PREVIOUS_ACCESS_KEY_EXPIRES); see docs/operations.md"
        )
    if not 0 <= grace_s <= 90 * 86400:
        raise config.ConfigError("--grace must be between 0 and 7776000 seconds (90 days)")
    path = Path(settings.data_dir) / bootstrap.CREDENTIALS_FILE
    if not path.is_file():
        raise config.ConfigError(f"no admin key pair in {path}: give the server's --data-dir")
    try:
        current = pairs_of_document(json.loads(path.read_text()), str(path))[0]
    except ValueError as exc:
        raise config.ConfigError(f"{path} is damaged ({exc})") from None
    doc: dict[str, object] = dict(bootstrap.new_credentials())
    expires = time.time() + grace_s
    if grace_s > 0:
        doc["Previous"] = {
            "AccessKeyId": current.key_id,
            "SecretAccessKey": current.secret,
            "Expires": expires,
        }
    write_credentials(path, doc)
    record_operator_change_now(settings, "rotate-admin-key", ["AdminKeyPair"])
    until = datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds")
    print(
        f"New admin key pair in {path} (running servers take it within a second):\n\n"
        f"  export AWS_ACCESS_KEY_ID={doc['AccessKeyId']} AWS_SECRET_ACCESS_KEY={doc['SecretAccessKey']}\n\n"
        f"The previous key {current.key_id} is "
        + (f"accepted until {until}." if grace_s > 0 else "refused from now on."),
        flush=True,
    )
    return 0
