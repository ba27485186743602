"""Groups and memberships (CreateGroup, AdminAddUserToGroup, ...).

Source: Amazon Cognito API reference, CreateGroup / GetGroup / UpdateGroup /
DeleteGroup / ListGroups / AdminAddUserToGroup / AdminRemoveUserFromGroup /
AdminListGroupsForUser / ListUsersInGroup.
"""

from __future__ import annotations

import builtins
from typing import Any

from cognate.core import paging
from cognate.core.clock import Clock
from cognate.core.entities import Group, Pool, User
from cognate.core.users import username_key
from cognate.errors import GroupExistsException, ResourceNotFoundException
from cognate.store.base import Conflict, GroupStore

GROUP_FIELDS = ("Description", "RoleArn", "Precedence")


class Groups:
    def __init__(self, store: GroupStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def create(self, pool: Pool, name: str, fields: dict[str, Any]) -> Group:
        now = self.clock.now()
        doc = {k: fields[k] for k in GROUP_FIELDS if k in fields}
        group = Group(pool_id=pool.id, name=name, created=now, modified=now, doc=doc)
        try:
            await self.store.insert_group(group)
        except Conflict:
            raise GroupExistsException("A group with the name already exists.") from None
        return group

    async def get(self, pool: Pool, name: str) -> Group:
        group = await self.store.get_group(pool.id, name)
        if group is None:
            raise ResourceNotFoundException("Group not found.")
        return group

    async def update(self, pool: Pool, name: str, fields: dict[str, Any]) -> Group:
        group = await self.get(pool, name)
        doc = {**group.doc, **{k: fields[k] for k in GROUP_FIELDS if k in fields}}
        updated = Group(pool_id=pool.id, name=name, created=group.created, modified=self.clock.now(), doc=doc)
        await self.store.update_group(updated)
        return updated

    async def delete(self, pool: Pool, name: str) -> None:
        await self.get(pool, name)
        await self.store.delete_group(pool.id, name)

    async def add_user(self, pool: Pool, name: str, user: User) -> None:
        await self.get(pool, name)
        await self.store.add_user_to_group(pool.id, name, user.sub)

    async def remove_user(self, pool: Pool, name: str, user: User) -> None:
        await self.get(pool, name)
        await self.store.remove_user_from_group(pool.id, name, user.sub)

    async def page_of_user(
        self, pool: Pool, user: User, limit: int, token: str | None
    ) -> tuple[list[Group], str | None]:
        """AdminListGroupsForUser: ``limit`` groups (by name) after the token's, and the next token."""
        scope = f"AdminListGroupsForUser\n{pool.id}\n{user.sub}"
        after = paging.decode(token, scope) if token else None
        groups = sorted(await self.store.groups_of_user(pool.id, user.sub), key=lambda g: g.name)
        if after is not None:
            groups = [g for g in groups if g.name > after]
        page = groups[: max(limit, 1)] if limit else groups[:60]
        more = len(groups) > len(page)
        return page, (paging.encode(page[-1].name, scope) if more and page else None)

    async def of_user(self, pool: Pool, user: User) -> list[Group]:
        groups = await self.store.groups_of_user(pool.id, user.sub)
        # Precedence order (lowest first, absent last), then name: cognito:groups' order.
        return sorted(
            groups, key=lambda g: (g.doc.get("Precedence") is None, g.doc.get("Precedence", 0), g.name)
        )

    # --- pages (ListGroups, ListUsersInGroup) -------------------------------------------

    async def list(self, pool: Pool, limit: int, token: str | None) -> tuple[list[Group], str | None]:
        """One page of the pool's groups by name, and the token of the next page (if any)."""
        scope = f"ListGroups\n{pool.id}"  # a token belongs to this listing only
        found = await self.store.list_groups(
            pool.id, limit + 1, paging.decode(token, scope) if token else None
        )
        page = found[:limit]
        return page, (paging.encode(page[-1].name, scope) if len(found) > limit and page else None)

    async def users_in(
        self, pool: Pool, name: str, limit: int, token: str | None
    ) -> tuple[builtins.list[User], str | None]:
        """One page of a group's members by username (the group must exist)."""
        await self.get(pool, name)
        scope = f"ListUsersInGroup\n{pool.id}\n{name}"  # a token belongs to this listing only
        found = await self.store.users_in_group(
            pool.id, name, limit + 1, paging.decode(token, scope) if token else None
        )
        page = found[:limit]
        more = len(found) > limit and page
        return page, (paging.encode(username_key(pool, page[-1].username), scope) if more else None)
