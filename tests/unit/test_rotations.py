"""Rotations (issue 13): the admin key pairs (a previous pair valid until it expires, the
credentials file read again when it changes) and the purposes rotate-master-key re-seals."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cognate import admin_keys, rotate_cli
from cognate.admin_keys import AdminKeys, Pair, parse_expiry, previous_from_settings, write_credentials
from cognate.config import ConfigError, load

SRC = Path(__file__).resolve().parents[2] / "src" / "cognate"


class Now:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def test_the_previous_pair_is_accepted_until_it_expires() -> None:
    now = Now()
    keys = AdminKeys((Pair("AKIANEW", "new"), Pair("AKIAOLD", "old", now.t + 60)), now=now)
    assert keys.lookup("AKIANEW") == "new" and keys.lookup("AKIAOLD") == "old"
    assert keys.lookup("AKIAOTHER") is None
    now.t += 60
    assert keys.lookup("AKIAOLD") is None and keys.lookup("AKIANEW") == "new"


def test_the_credentials_file_is_read_again_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_keys, "RECHECK_S", 0.0)
    path = tmp_path / "credentials.json"
    write_credentials(path, {"AccessKeyId": "AKIAOLD", "SecretAccessKey": "old"})
    assert path.stat().st_mode & 0o777 == 0o600
    now = Now()
    keys = AdminKeys(admin_keys.pairs_of_document(json.loads(path.read_text()), "f"), path, now)
    assert keys.lookup("AKIANEW") is None
    write_credentials(
        path,
        {
            "AccessKeyId": "AKIANEW",
            "SecretAccessKey": "new",
            "Previous": {"AccessKeyId": "AKIAOLD", "SecretAccessKey": "old", "Expires": now.t + 5},
        },
    )
    assert keys.lookup("AKIANEW") == "new" and keys.lookup("AKIAOLD") == "old"
    path.write_text("{half")  # written by hand, not yet whole: the pairs stay
    os.utime(path, ns=(1, 1))
    assert keys.lookup("AKIANEW") == "new"
    now.t += 5
    assert keys.lookup("AKIAOLD") is None


def test_the_previous_pair_from_the_environment_is_checked() -> None:
    env = {"COGNATE_ACCESS_KEY_ID": "AKIANEW", "COGNATE_SECRET_ACCESS_KEY": "new"}
    assert previous_from_settings(load({}, env)) is None
    full = {
        **env,
        "COGNATE_PREVIOUS_ACCESS_KEY_ID": "AKIAOLD",
        "COGNATE_PREVIOUS_SECRET_ACCESS_KEY": "old",
        "COGNATE_PREVIOUS_ACCESS_KEY_EXPIRES": "2027-01-15T08:00:00Z",
    }
    assert previous_from_settings(load({}, full)) == Pair("AKIAOLD", "old", 1_800_000_000.0)
    partial = {k: v for k, v in full.items() if k != "COGNATE_PREVIOUS_ACCESS_KEY_EXPIRES"}
    with pytest.raises(ConfigError, match="go together"):
        previous_from_settings(load({}, partial))
    assert parse_expiry("1799913600", "x") == 1_799_913_600.0
    with pytest.raises(ConfigError, match="time zone"):
        parse_expiry("2027-01-15T08:00:00", "x")
    with pytest.raises(ConfigError, match="neither"):
        parse_expiry("tomorrow", "x")


def test_rotate_master_key_knows_every_purpose_a_value_is_sealed_for() -> None:
    """Every ``.seal(value, PURPOSE)`` of the code names a purpose the rotation re-seals."""
    found = set()
    for path in SRC.rglob("*.py"):
        for name in re.findall(r"\.seal\([^()]*(?:\([^()]*\)[^()]*)*,\s*([A-Z_]+)\)", path.read_text()):
            module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
            found.add(getattr(__import__(module, fromlist=[name]), name))
    assert found and found <= set(rotate_cli.PURPOSES), found - set(rotate_cli.PURPOSES)
    assert len(found) == len(rotate_cli.PURPOSES)


def test_binary_columns_travel_as_base64() -> None:
    import sqlalchemy as sa

    from cognate.export_cli import decode_bytes, encode_bytes
    from cognate.store.dump import binary_columns

    table = sa.Table(
        "t", sa.MetaData(), sa.Column("id", sa.String, primary_key=True), sa.Column("body", sa.LargeBinary)
    )
    assert binary_columns(table) == ["body"]
    row = encode_bytes({"id": "a", "body": b"\x00\xffcsv"}, ["body"])
    assert json.loads(json.dumps(row)) == {"id": "a", "body": "AP9jc3Y="}
    assert decode_bytes(row, ["body"]) == {"id": "a", "body": b"\x00\xffcsv"}
    assert encode_bytes({"id": "b", "body": None}, ["body"]) == {"id": "b", "body": None}
    with pytest.raises(ValueError):
        decode_bytes({"id": "c", "body": "not base64!"}, ["body"])


def test_master_key_file_ring_and_its_live_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognate import bootstrap
    from cognate.crypto.sealing import new_master_key

    monkeypatch.setattr(bootstrap.KeyFile, "RECHECK_S", 0.0)
    old, new, other = new_master_key(), new_master_key(), new_master_key()
    path = tmp_path / "master.key"
    path.write_text(f"{old}\n")
    settings = load({"data_dir": str(tmp_path)}, {"COGNATE_ACCEPTED_MASTER_KEYS": other})
    assert bootstrap.master_keys(settings, tmp_path, create=False) == (old, (other,))
    watch = bootstrap.KeyFile(settings, (old, (other,)))
    assert watch.changed() is None
    path.write_text(f"{new}\n{old}\n")
    assert watch.changed() == (new, (old, other))
    assert watch.changed() is None
    path.write_text(f"{new[:20]}\n")  # half written: refused, the ring stays
    assert watch.changed() is None
    path.write_text(f"{new}\n")  # a key leaving the file stays accepted until a restart
    assert watch.changed() == (new, (other, old))
    fixed = load({"data_dir": str(tmp_path)}, {"COGNATE_MASTER_KEY": new})
    path.write_text(f"{old}\n")
    assert bootstrap.KeyFile(fixed, (new, ())).changed() is None  # the variable wins, for good
