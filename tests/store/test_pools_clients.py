"""Pools, clients, resource servers and domains; deleting a pool deletes everything in it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cognate.store.base import Conflict
from cognate.store.sql import Store
from tests.store import factories as f

pytestmark = pytest.mark.anyio

P = "us-east-1_Pool00001"


async def test_pool_insert_get_update(store: Store) -> None:
    p = f.pool(P, "app", Policies={"PasswordPolicy": {"MinimumLength": 10}})
    await store.insert_pool(p)
    assert await store.get_pool(P) == p
    assert await store.get_pool("us-east-1_Missing00") is None

    changed = replace(
        p, name="renamed", modified=f.T0 + 5, doc={"MfaConfiguration": "ON", "Nested": {"a": [1]}}
    )
    await store.update_pool(changed)
    got = await store.get_pool(P)
    assert got == replace(changed, created=f.T0)


async def test_pool_insert_twice_is_a_conflict(store: Store) -> None:
    await store.insert_pool(f.pool(P))
    with pytest.raises(Conflict):
        await store.insert_pool(f.pool(P, "other"))
    assert (await store.get_pool(P)) == f.pool(P)


async def test_list_pools_pages_in_id_order(store: Store) -> None:
    ids = [f"us-east-1_Pool{n:05d}" for n in (3, 1, 5, 2, 4)]
    for pid in ids:
        await store.insert_pool(f.pool(pid))
    first = await store.list_pools(2, None)
    assert [p.id for p in first] == sorted(ids)[:2]
    second = await store.list_pools(2, first[-1].id)
    assert [p.id for p in second] == sorted(ids)[2:4]
    third = await store.list_pools(2, second[-1].id)
    assert [p.id for p in third] == sorted(ids)[4:]
    assert await store.list_pools(2, third[-1].id) == []


async def test_client_crud_keeps_the_sealed_secret(store: Store) -> None:
    await store.insert_pool(f.pool(P))
    c = f.client("client1", P)
    await store.insert_client(c, "v1.sealed-secret")
    await store.insert_client(f.client("client2", P), None)
    got = await store.get_client("client1")
    assert got == (c, "v1.sealed-secret")
    assert await store.get_client("client2") == (f.client("client2", P), None)
    assert await store.get_client("nope") is None

    with pytest.raises(Conflict):
        await store.insert_client(f.client("client1", P), None)

    updated = replace(
        c, name="renamed", modified=f.T0 + 1, doc={"ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"]}
    )
    await store.update_client(updated)
    got = await store.get_client("client1")
    assert got is not None
    assert got[0] == updated
    assert got[1] == "v1.sealed-secret"  # updating the client never touches its secret

    await store.delete_client("client1")
    assert await store.get_client("client1") is None
    assert await store.get_client("client2") is not None


async def test_list_clients_by_pool_and_page(store: Store) -> None:
    other = "us-east-1_Pool00002"
    for cid in ("c3", "c1", "c2"):
        await store.insert_client(f.client(cid, P), None)
    await store.insert_client(f.client("c0", other), None)
    first = await store.list_clients(P, 2, None)
    assert [c.id for c in first] == ["c1", "c2"]
    assert [c.id for c in await store.list_clients(P, 2, "c2")] == ["c3"]
    assert [c.id for c in await store.list_clients(other, 10, None)] == ["c0"]
    assert all(c.secret is None for c in first)  # list never carries secrets


async def test_delete_client_revokes_its_refresh_tokens(store: Store) -> None:
    await store.insert_client(f.client("client1", P), None)
    await store.insert_refresh_token(f.refresh("h1", client_id="client1"))
    await store.insert_refresh_token(f.refresh("h2", client_id="client2"))
    await store.delete_client("client1")
    assert await store.get_refresh_token("h1") is None
    assert await store.get_refresh_token("h2") is not None


async def test_resource_servers(store: Store) -> None:
    from cognate.core.entities import ResourceServer

    rs = ResourceServer(P, "https://api", {"Name": "api", "Scopes": [{"ScopeName": "read"}]})
    await store.put_resource_server(rs, create=True)
    with pytest.raises(Conflict):
        await store.put_resource_server(rs, create=True)
    await store.put_resource_server(ResourceServer(P, "https://aaa", {"Name": "a"}), create=True)
    await store.put_resource_server(ResourceServer("us-east-1_Pool00002", "https://x", {}), create=True)
    assert [r.identifier for r in await store.list_resource_servers(P)] == ["https://aaa", "https://api"]

    await store.put_resource_server(replace(rs, doc={"Name": "api2", "Scopes": []}), create=False)
    listed = {r.identifier: r for r in await store.list_resource_servers(P)}
    assert listed["https://api"].doc == {"Name": "api2", "Scopes": []}

    await store.delete_resource_server(P, "https://api")
    assert [r.identifier for r in await store.list_resource_servers(P)] == ["https://aaa"]


async def test_domains(store: Store) -> None:
    from cognate.core.entities import Domain

    await store.insert_domain(Domain("app", P, {"Version": 1}))
    with pytest.raises(Conflict):
        await store.insert_domain(Domain("app", "us-east-1_Pool00002", {}))
    await store.insert_domain(Domain("app-2", P, {}))
    assert await store.get_domain("app") == Domain("app", P, {"Version": 1})
    assert await store.get_domain("nope") is None
    assert sorted(d.domain for d in await store.domains_of_pool(P)) == ["app", "app-2"]
    await store.update_domain(Domain("app", P, {"Version": 2}))
    await store.update_domain(
        Domain("app-2", "us-east-1_Pool00002", {"Version": 9})
    )  # not its pool: no change
    assert await store.get_domain("app") == Domain("app", P, {"Version": 2})
    assert await store.get_domain("app-2") == Domain("app-2", P, {})
    await store.delete_domain("app")
    assert await store.get_domain("app") is None
    assert [d.domain for d in await store.domains_of_pool(P)] == ["app-2"]


async def test_count_users(store: Store) -> None:
    assert await store.count_users(P) == 0
    for name in ("a", "b", "c"):
        u = f.user(name, P)
        await store.insert_user(u, name, f.indexed(u))
    u = f.user("z", "us-east-1_Pool00002")
    await store.insert_user(u, "z", f.indexed(u))
    assert await store.count_users(P) == 3


async def _fill_pool(store: Store, pool_id: str) -> str:
    from cognate.core.entities import Domain, ResourceServer

    await store.insert_pool(f.pool(pool_id))
    await store.insert_client(f.client(f"client-{pool_id}", pool_id), "v1.secret")
    u = f.user("alice", pool_id, email="alice@example.com")
    await store.insert_user(u, "alice", f.indexed(u))
    await store.insert_group(f.group("admins", pool_id))
    await store.add_user_to_group(pool_id, "admins", u.sub)
    await store.put_resource_server(ResourceServer(pool_id, "https://api", {}), create=True)
    await store.insert_domain(Domain(f"dom-{pool_id.lower()}", pool_id, {}))
    await store.insert_refresh_token(
        f.refresh(f"rt-{pool_id}", pool_id=pool_id, sub=u.sub, client_id=f"client-{pool_id}")
    )
    await store.insert_signing_key(f.signing_key(f"kid-{pool_id}", pool_id=pool_id))
    await store.begin_attempt(pool_id, "alice", f.T0, 900, 5)
    return u.sub


async def test_delete_pool_removes_everything_in_it_and_nothing_else(store: Store) -> None:
    other = "us-east-1_Pool00002"
    sub = await _fill_pool(store, P)
    other_sub = await _fill_pool(store, other)

    await store.delete_pool(P)

    assert await store.get_pool(P) is None
    assert await store.get_client(f"client-{P}") is None
    assert await store.get_user(P, "alice") is None
    assert await store.get_user_by_sub(P, sub) is None
    assert await store.find_subs_by_attr(P, "email", "alice@example.com") == []
    assert await store.get_group(P, "admins") is None
    assert await store.groups_of_user(P, sub) == []
    assert await store.list_resource_servers(P) == []
    assert await store.domains_of_pool(P) == []
    assert await store.get_refresh_token(f"rt-{P}") is None
    assert await store.signing_keys(P) == []
    assert await store.get_lockout(P, "alice") is None
    assert await store.count_users(P) == 0

    # The other pool is untouched.
    assert await store.get_pool(other) is not None
    assert await store.get_client(f"client-{other}") is not None
    assert await store.get_user_by_sub(other, other_sub) is not None
    assert await store.find_subs_by_attr(other, "email", "alice@example.com") == [other_sub]
    assert [g.name for g in await store.groups_of_user(other, other_sub)] == ["admins"]
    assert await store.get_refresh_token(f"rt-{other}") is not None
    assert len(await store.signing_keys(other)) == 1
    assert await store.get_lockout(other, "alice") is not None


async def test_delete_pool_is_one_transaction(store: Store) -> None:
    """A failure half-way through deleting a pool leaves the pool whole."""
    from sqlalchemy import event

    await _fill_pool(store, P)
    engine = store._writer
    calls = 0

    def fail_on_users(conn: object, cursor: object, statement: str, *args: object) -> None:
        nonlocal calls
        if statement.lstrip().upper().startswith("DELETE FROM USERS"):
            calls += 1
            raise RuntimeError("simulated crash")

    event.listen(engine, "before_cursor_execute", fail_on_users)
    try:
        with pytest.raises(RuntimeError, match="simulated crash"):
            await store.delete_pool(P)
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_users)
    assert calls == 1
    # Clients were deleted before users in the same transaction: rolled back.
    assert await store.get_client(f"client-{P}") is not None
    assert await store.get_user(P, "alice") is not None
    assert await store.get_pool(P) is not None
