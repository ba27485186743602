"""Sign-in history and audit log rows, on every backend: keyset pages, filters, the purge."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cognate.core.entities import AuditEntry, AuthEvent
from cognate.store.base import EventStore
from cognate.store.sql import Store

pytestmark = pytest.mark.anyio
T0 = 1_700_000_000.0


def event(n: int, sub: str = "sub-a", pool: str = "us-east-1_Pool1", at: float | None = None) -> AuthEvent:
    created = T0 + n if at is None else at
    return AuthEvent(
        id=f"ev-{sub}-{n:03d}",
        pool_id=pool,
        sub=sub,
        event_type="SignIn",
        created=created,
        expires=created + 90 * 86400,
        doc={
            "EventResponse": "Pass",
            "ChallengeResponses": [{"ChallengeName": "Password", "ChallengeResponse": "Success"}],
        },
    )


def entry(n: int, pool: str | None = "us-east-1_Pool1", at: float | None = None) -> AuditEntry:
    when = T0 + n if at is None else at
    return AuditEntry(
        id=f"au-{n:03d}", at=when, expires=when + 365 * 86400, pool_id=pool, doc={"operation": f"Op{n}"}
    )


async def test_auth_events_newest_first_in_keyset_pages(store: Store) -> None:
    events: EventStore = store
    for n in range(5):
        await events.put_auth_event(event(n))
    await events.put_auth_event(event(9, sub="sub-b"))
    await events.put_auth_event(event(8, pool="us-east-1_Pool2"))
    await events.put_auth_event(replace(event(10), id="ev-tie-b", created=T0 + 4))  # same instant: by id
    first = await events.list_auth_events("us-east-1_Pool1", "sub-a", 3)
    assert [e.id for e in first] == ["ev-tie-b", "ev-sub-a-004", "ev-sub-a-003"]
    rest = await events.list_auth_events("us-east-1_Pool1", "sub-a", 10, (first[-1].created, first[-1].id))
    assert [e.id for e in rest] == ["ev-sub-a-002", "ev-sub-a-001", "ev-sub-a-000"]
    assert rest[0] == event(2)


async def test_put_replaces_the_event_with_its_id(store: Store) -> None:
    await store.put_auth_event(event(1))
    later = replace(event(1), doc={"EventResponse": "Fail", "ChallengeResponses": []})
    await store.put_auth_event(later)
    assert await store.get_auth_event("us-east-1_Pool1", "sub-a", "ev-sub-a-001") == later
    assert await store.get_auth_event("us-east-1_Pool1", "sub-b", "ev-sub-a-001") is None  # not theirs
    assert len(await store.list_auth_events("us-east-1_Pool1", "sub-a", 10)) == 1
    # A first step written late (another node) never overwrites what a later step wrote.
    await store.put_auth_event(event(1), replace=False)
    assert await store.get_auth_event("us-east-1_Pool1", "sub-a", "ev-sub-a-001") == later
    await store.put_auth_event(event(2), replace=False)  # new: stored
    assert await store.get_auth_event("us-east-1_Pool1", "sub-a", "ev-sub-a-002") == event(2)


async def test_audit_entries_oldest_first_by_time_and_pool(store: Store) -> None:
    for n in range(6):
        await store.insert_audit_entry(entry(n, pool="us-east-1_Pool1" if n % 2 else "us-east-1_Pool2"))
    await store.insert_audit_entry(entry(7, pool=None))  # an operator change of no pool
    everything = await store.list_audit_entries(100)
    assert [e.id for e in everything] == [
        "au-000",
        "au-001",
        "au-002",
        "au-003",
        "au-004",
        "au-005",
        "au-007",
    ]
    assert everything[0] == entry(0, pool="us-east-1_Pool2")
    page = await store.list_audit_entries(2, (everything[1].at, everything[1].id))
    assert [e.id for e in page] == ["au-002", "au-003"]
    ones = await store.list_audit_entries(100, pool_id="us-east-1_Pool1", since=T0 + 2)
    assert [e.id for e in ones] == ["au-003", "au-005"]


async def test_purge_removes_what_is_past_its_retention(store: Store) -> None:
    await store.put_auth_event(event(0))
    await store.put_auth_event(event(0, at=T0 + 80 * 86400, sub="sub-b"))
    await store.insert_audit_entry(entry(0))
    await store.insert_audit_entry(entry(1, at=T0 + 300 * 86400))
    assert await store.purge_expired(T0 + 91 * 86400) == 1
    assert await store.list_auth_events("us-east-1_Pool1", "sub-a", 10) == []
    assert len(await store.list_auth_events("us-east-1_Pool1", "sub-b", 10)) == 1
    assert await store.purge_expired(T0 + 366 * 86400) == 2
    assert [e.id for e in await store.list_audit_entries(10)] == ["au-001"]


async def test_deleting_a_pool_or_user_takes_its_history_not_the_audit_log(store: Store) -> None:
    await store.put_auth_event(event(0))
    await store.put_auth_event(event(1, sub="sub-b"))
    await store.insert_audit_entry(entry(0))
    await store.delete_user("us-east-1_Pool1", "sub-a")
    assert await store.list_auth_events("us-east-1_Pool1", "sub-a", 10) == []
    await store.delete_pool("us-east-1_Pool1")
    assert await store.list_auth_events("us-east-1_Pool1", "sub-b", 10) == []
    assert len(await store.list_audit_entries(10)) == 1
