"""cognate.testing as a user's project meets it: the sample project under examples/ runs its
tests with the plugin (in-process and subprocess), and the pieces hold on their own."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from cognate.testing import Outbox
from cognate.testing.keys import KeyReserve

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pytest-project"


def plugin_registered() -> bool:
    found = [e for e in metadata.entry_points(group="pytest11") if e.value == "cognate.testing.plugin"]
    return bool(found)


def test_the_plugin_is_declared_as_a_pytest_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"cognate": "cognate.testing.plugin"}
    assert "boto3" in " ".join(project["project"]["optional-dependencies"]["testing"])


@pytest.mark.parametrize("mode", ["inprocess", "subprocess"])
def test_the_sample_project_passes_with_the_plugin(mode: str, tmp_path: Path) -> None:
    # An installed Cognate (pip install -e .) brings the plugin by its entry point; a
    # checkout used through PYTHONPATH only names it.
    extra = [] if plugin_registered() else ["-p", "cognate.testing.plugin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COGNATE_", "AWS_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *extra, "--cognate-mode", mode,
         "-o", f"cache_dir={tmp_path / 'cache'}"],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "8 passed" in proc.stdout, proc.stdout[-2000:]
    cache = tmp_path / "cache" / "d" / "cognate" / "signing-keys.pem"
    assert cache.exists() and stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_key_reserve_keeps_keys_for_the_next_session(tmp_path: Path) -> None:
    cache = tmp_path / "keys.pem"
    first = KeyReserve(cache, spare=2)
    keys = [first.take(), first.take()]
    assert len(set(keys)) == 2 and all("PRIVATE KEY" in k for k in keys)
    first.save()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    second = KeyReserve(cache, spare=0)
    assert second.cached >= 2
    assert [second.take(), second.take()] == keys  # handed out in the same order, each once
    assert second.generated_on_the_spot == 0
    second.save()


def test_outbox_views(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    lines = [
        {
            "pool_id": "p1",
            "username": "ann",
            "to": "ann@example.com",
            "kind": "verification",
            "code": "111111",
        },
        {"pool_id": "p2", "username": "ann", "to": "ann@example.org", "kind": "reset", "code": "222222"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    outbox = Outbox(path)
    assert outbox.last_code("ann") == "222222"
    assert Outbox(path, pool_id="p1").last_code("ann") == "111111"
    assert outbox.last_code("ann@example.com") == "111111"  # by address too
    assert outbox.last_code("ann", kind="verification") == "111111"
    later = outbox.since_now()
    assert len(later) == 0
    with pytest.raises(LookupError, match="no message to ann"):
        later.last_code("ann")
    with path.open("a") as f:
        f.write(json.dumps({**lines[0], "code": "333333"}) + "\n")
    assert later.last_code("ann") == "333333" and len(later) == 1


def run_pytest_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    extra = [] if plugin_registered() else ["-p", "cognate.testing.plugin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COGNATE_", "AWS_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *extra, "-p", "no:cacheprovider", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_pool_scope_option_and_clean_up(tmp_path: Path) -> None:
    """``cognate_pool_scope = module`` shares one pool; pools the factory made are gone afterwards."""
    (tmp_path / "pytest.ini").write_text("[pytest]\ncognate_pool_scope = module\n")
    (tmp_path / "test_scope.py").write_text(
        "seen = []\n"
        "made = []\n"
        "def test_one(cognate_pool, cognate_pool_factory):\n"
        "    seen.append(cognate_pool.id)\n"
        "    made.append(cognate_pool_factory(PoolName='extra').id)\n"
        "def test_two(cognate_pool, cognate_idp):\n"
        "    seen.append(cognate_pool.id)\n"
        "    assert seen[0] == seen[1]\n"
        "    ids = {p['Id'] for p in cognate_idp.list_user_pools(MaxResults=60)['UserPools']}\n"
        "    assert made[0] not in ids and seen[0] in ids\n"
        "def test_user_tokens_verify(cognate_pool, cognate_user):\n"
        "    import jwt\n"
        "    token = cognate_user.tokens.access_token\n"
        "    key = jwt.PyJWKClient(cognate_pool.jwks_url).get_signing_key_from_jwt(token)\n"
        "    claims = jwt.decode(token, key.key, algorithms=['RS256'],\n"
        "                        issuer=cognate_pool.issuer, options={'verify_aud': False})\n"
        "    assert claims['token_use'] == 'access' and claims['username'] == cognate_user.username\n"
    )
    proc = run_pytest_in(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "3 passed" in proc.stdout

    (tmp_path / "pytest.ini").write_text("[pytest]\ncognate_pool_scope = forever\n")
    proc = run_pytest_in(tmp_path)
    assert proc.returncode != 0
    assert "cognate_pool_scope must be one of" in proc.stdout + proc.stderr
