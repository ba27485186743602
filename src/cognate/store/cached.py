"""Short-lived read caches for the sign-in hot paths (token checks, refresh, JWKS).

docs/deployment.md, "What a node keeps in memory": no state in process memory but caches with a short TTL,
and a cache may hide a revocation for at most one second. Entries here live at most
``TTL_S`` (one second); every write this process makes through the store drops the
entries it touches, so the worker that revokes or changes something sees it at once,
and other workers and nodes within a second. Only the ``cached_*`` readers use the
cache; administrative reads stay exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cognate.core.entities import Client, Group, Pool, RefreshToken, User
from cognate.store.base import Tx, UserIndex
from cognate.store.sql import Store

TTL_S = 1.0
MAX_ENTRIES = 50_000


class _Ttl:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._items: dict[Any, tuple[float, Any]] = {}
        self._clock = clock

    def get(self, key: Any) -> tuple[bool, Any]:
        hit = self._items.get(key)
        if hit is None:
            return False, None
        if hit[0] <= self._clock():
            self._items.pop(key, None)
            return False, None
        return True, hit[1]

    def put(self, key: Any, value: Any) -> None:
        if len(self._items) >= MAX_ENTRIES:
            now = self._clock()
            self._items = {k: v for k, v in self._items.items() if v[0] > now}
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()
        self._items[key] = (self._clock() + TTL_S, value)

    def drop(self, key: Any) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


class CachingStore(Store):
    """The store, plus ``cached_*`` readers whose entries this process's writes invalidate
    (a write in a shared transaction drops them again once it commits)."""

    def __init__(self, database_url: str, **kw: Any) -> None:
        super().__init__(database_url, **kw)
        clock = time.monotonic
        self._c_pools = _Ttl(clock)
        self._c_clients = _Ttl(clock)
        self._c_users = _Ttl(clock)
        self._c_groups = _Ttl(clock)
        self._c_revoked = _Ttl(clock)
        self._c_refresh = _Ttl(clock)

    # --- cached readers --------------------------------------------------------------

    async def cached_pool(self, pool_id: str) -> Pool | None:
        hit, value = self._c_pools.get(pool_id)
        if not hit:
            value = await self.get_pool(pool_id)
            if value is not None:
                self._c_pools.put(pool_id, value)
        return value  # type: ignore[no-any-return]

    async def cached_client(self, client_id: str) -> tuple[Client, str | None] | None:
        hit, value = self._c_clients.get(client_id)
        if not hit:
            value = await self.get_client(client_id)
            if value is not None:
                self._c_clients.put(client_id, value)
        return value  # type: ignore[no-any-return]

    async def cached_user_by_sub(self, pool_id: str, sub: str) -> User | None:
        hit, value = self._c_users.get(sub)
        if not hit:
            value = await self.get_user_by_sub(pool_id, sub)
            if value is not None:
                self._c_users.put(sub, value)
        if value is not None and value.pool_id != pool_id:
            return None
        return value  # type: ignore[no-any-return]

    async def cached_groups_of_user(self, pool_id: str, sub: str) -> list[Group]:
        hit, value = self._c_groups.get(sub)
        if not hit:
            value = await self.groups_of_user(pool_id, sub)
            self._c_groups.put(sub, value)
        return list(value)

    async def cached_origin_revoked(self, origin_jti: str) -> bool:
        hit, value = self._c_revoked.get(origin_jti)
        if not hit:
            value = await self.origin_revoked(origin_jti)
            self._c_revoked.put(origin_jti, value)
        return bool(value)

    async def cached_refresh_token(self, token_hash: str) -> RefreshToken | None:
        hit, value = self._c_refresh.get(token_hash)
        if not hit:
            value = await self.get_refresh_token(token_hash)
            if value is not None:
                self._c_refresh.put(token_hash, value)
        return value  # type: ignore[no-any-return]

    # --- writes drop what they touch ------------------------------------------------------

    async def update_pool(self, pool: Pool) -> None:
        self._c_pools.drop(pool.id)
        await super().update_pool(pool)
        self._c_pools.drop(pool.id)

    async def delete_pool(self, pool_id: str) -> None:
        await super().delete_pool(pool_id)
        for cache in (self._c_pools, self._c_clients, self._c_users, self._c_groups, self._c_refresh):
            cache.clear()

    async def update_client(self, client: Client) -> None:
        await super().update_client(client)
        self._c_clients.drop(client.id)

    async def delete_client(self, client_id: str) -> None:
        await super().delete_client(client_id)
        self._c_clients.drop(client_id)
        self._c_refresh.clear()

    async def update_user(
        self, user: User, username_key: str, index: UserIndex | None = None, *, tx: Tx | None = None
    ) -> None:
        await super().update_user(user, username_key, index, tx=tx)
        self._c_users.drop(user.sub)
        if tx is not None:  # a read before the commit may have cached the old row again
            tx.after_commit(lambda: self._c_users.drop(user.sub))

    async def delete_user(self, pool_id: str, sub: str) -> None:
        await super().delete_user(pool_id, sub)
        self._c_users.drop(sub)
        self._c_groups.drop(sub)
        self._c_refresh.clear()

    async def sign_out_user(self, pool_id: str, sub: str, now: float, *, tx: Tx | None = None) -> None:
        await super().sign_out_user(pool_id, sub, now, tx=tx)
        self._forget_sign_in(sub)
        if tx is not None:
            tx.after_commit(lambda: self._forget_sign_in(sub))

    def _forget_sign_in(self, sub: str) -> None:
        self._c_users.drop(sub)
        self._c_revoked.clear()
        self._c_refresh.clear()

    async def revoke_refresh_family(self, origin_jti: str, now: float) -> None:
        await super().revoke_refresh_family(origin_jti, now)
        self._c_revoked.drop(origin_jti)
        self._c_refresh.clear()

    async def rotate_refresh_token(self, old_hash: str, new: RefreshToken, now: float) -> bool:
        self._c_refresh.drop(old_hash)
        done = await super().rotate_refresh_token(old_hash, new, now)
        self._c_refresh.drop(old_hash)
        return done

    async def add_user_to_group(self, pool_id: str, group_name: str, sub: str) -> None:
        await super().add_user_to_group(pool_id, group_name, sub)
        self._c_groups.drop(sub)

    async def remove_user_from_group(self, pool_id: str, group_name: str, sub: str) -> None:
        await super().remove_user_from_group(pool_id, group_name, sub)
        self._c_groups.drop(sub)

    async def delete_group(self, pool_id: str, name: str) -> None:
        await super().delete_group(pool_id, name)
        self._c_groups.clear()

    async def update_group(self, group: Group) -> None:
        await super().update_group(group)
        self._c_groups.clear()
