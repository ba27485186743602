"""Users, what they are found by (the attribute index and the unique aliases), and groups.

API reference: AdminCreateUser, SignUp, AdminUpdateUserAttributes, ListUsers (its
Filter runs on the attribute index, never a scan), AdminAddUserToGroup, ListGroups,
ListUsersInGroup. Developer guide, "Customizing sign-in attributes": a usable alias
belongs to one user; the unique index of ``user_aliases`` holds that rule, so two
requests on two workers or nodes can never give one alias to two users.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cognate.core.entities import Group, User, UserStatus
from cognate.store import schema as t
from cognate.store.base import AliasConflict, Conflict, Tx, UserFilter, UserIndex
from cognate.store.engine import Database, prefix_range, prepared

# The lookups of the sign-in paths, built once (building a statement costs more than
# running it on SQLite).
_USER_BY_KEY = prepared(
    t.users.select().where(
        t.users.c.pool_id == sa.bindparam("b_pool_id"), t.users.c.username_key == sa.bindparam("b_key")
    )
)
_USER_BY_SUB = prepared(
    t.users.select().where(
        t.users.c.sub == sa.bindparam("b_sub"), t.users.c.pool_id == sa.bindparam("b_pool_id")
    )
)
_A = t.user_aliases.c
_USER_BY_ALIAS = prepared(
    t.users.select()
    .select_from(t.users.join(t.user_aliases, _A.sub == t.users.c.sub))
    .where(
        _A.pool_id == sa.bindparam("b_pool_id"),
        _A.attribute == sa.bindparam("b_attribute"),
        _A.alias_key == sa.bindparam("b_key"),
        t.users.c.pool_id == sa.bindparam("b_pool_id"),
    )
)


_GROUPS_OF_USER = prepared(
    sa.select(t.groups)
    .select_from(
        t.groups.join(
            t.user_groups,
            sa.and_(
                t.user_groups.c.pool_id == t.groups.c.pool_id, t.user_groups.c.group_name == t.groups.c.name
            ),
        )
    )
    .where(t.user_groups.c.sub == sa.bindparam("b_sub"), t.groups.c.pool_id == sa.bindparam("b_pool_id"))
)


@functools.lru_cache(maxsize=128)
def _listing(shape: str | None, op: str | None, lo: bool, hi: bool, resume: int) -> Any:
    """The statement of one kind of ListUsers page, built once (see ``UserRows.list_users``).

    ``shape``: None (no filter), a users column, or "attr" (the attribute index); ``lo``,
    ``hi``: which bounds a prefix has; ``resume``: 0 from the start, 1 after a username
    key, 2 after a (value, username key) pair. Values are bound when it runs.
    """
    u = t.users.c
    q = t.users.select()
    col: Any
    order: tuple[Any, ...]
    if shape == "attr":
        a = t.user_attrs.c
        q = q.select_from(t.user_attrs.join(t.users, u.sub == a.sub)).where(
            a.pool_id == sa.bindparam("b_pool_id"), a.name == sa.bindparam("b_name"), u.pool_id == a.pool_id
        )
        col, order = a.value, (a.value, a.username_key)
    else:
        q = q.where(u.pool_id == sa.bindparam("b_pool_id"))
        col = u[shape] if shape else None
        order = (u.status, u.username_key) if shape == "status" else (u.username_key,)
    if col is not None and op == "=":
        q = q.where(col == sa.bindparam("b_value"))
    if col is not None and lo:
        q = q.where(col >= sa.bindparam("b_lo"))
    if col is not None and hi:
        q = q.where(col < sa.bindparam("b_hi"))
    if resume == 1:
        q = q.where(order[-1] > sa.bindparam("b_after_key"))
    elif resume == 2:
        q = q.where(sa.tuple_(*order) > sa.tuple_(sa.bindparam("b_after_value"), sa.bindparam("b_after_key")))
    return prepared(q.order_by(*order).limit(sa.bindparam("b_limit")))


class UserRows(Database):
    async def count_users(self, pool_id: str) -> int:
        async with self.read() as conn:
            q = sa.select(sa.func.count()).select_from(t.users).where(t.users.c.pool_id == pool_id)
            return int((await conn.execute(q)).scalar_one())

    # --- users ------------------------------------------------------------------

    @staticmethod
    def _user(row: Any) -> User:
        return User(
            sub=row.sub,
            pool_id=row.pool_id,
            username=row.username,
            status=UserStatus(row.status),
            enabled=row.enabled,
            attributes=row.attributes,
            created=row.created,
            modified=row.modified,
            password_hash=row.password_hash,
            srp_secret=row.srp_secret,
            password_expires=row.password_expires,
            mfa=row.mfa,
            tokens_valid_after=row.tokens_valid_after,
        )

    @staticmethod
    def _user_values(user: User, username_key: str) -> dict[str, Any]:
        return {
            "sub": user.sub,
            "pool_id": user.pool_id,
            "username": user.username,
            "username_key": username_key,
            "status": str(user.status),
            "enabled": user.enabled,
            "attributes": user.attributes,
            "password_hash": user.password_hash,
            "srp_secret": user.srp_secret,
            "password_expires": user.password_expires,
            "mfa": user.mfa,
            "tokens_valid_after": user.tokens_valid_after,
            "created": user.created,
            "modified": user.modified,
        }

    @staticmethod
    async def _index(conn: Any, user: User, username_key: str, index: UserIndex, *, fresh: bool) -> None:
        """Rewrite the attribute index; claim the new aliases and release the dropped ones.

        Aliases the user keeps are left as they are (a row moved to it by ``take_alias``
        stays the same row). Each claim is its own INSERT, so a taken one names itself.
        """
        if not fresh:
            await conn.execute(t.user_attrs.delete().where(t.user_attrs.c.sub == user.sub))
        rows = [
            {"pool_id": user.pool_id, "name": n, "value": v, "username_key": username_key, "sub": user.sub}
            for n, v in index.attributes
        ]
        if rows:
            await conn.execute(t.user_attrs.insert(), rows)
        wanted = set(index.aliases)
        # A new user may already hold some: ForceAliasCreation moved them to it first.
        q = sa.select(_A.attribute, _A.alias_key).where(_A.pool_id == user.pool_id, _A.sub == user.sub)
        held = {(r.attribute, r.alias_key) for r in await conn.execute(q)}
        for attribute, key in sorted(held - wanted):
            await conn.execute(
                t.user_aliases.delete().where(
                    _A.pool_id == user.pool_id,
                    _A.attribute == attribute,
                    _A.alias_key == key,
                    _A.sub == user.sub,
                )
            )
        for attribute, key in sorted(wanted - held):
            try:
                await conn.execute(
                    t.user_aliases.insert().values(
                        pool_id=user.pool_id, attribute=attribute, alias_key=key, sub=user.sub
                    )
                )
            except IntegrityError as exc:
                raise AliasConflict(attribute) from exc

    async def insert_user(
        self, user: User, username_key: str, index: UserIndex, *, tx: Tx | None = None
    ) -> None:
        async with self.write(tx) as conn:
            try:
                await conn.execute(t.users.insert().values(**self._user_values(user, username_key)))
            except IntegrityError as exc:
                raise Conflict(user.username) from exc
            await self._index(conn, user, username_key, index, fresh=True)

    async def update_user(
        self, user: User, username_key: str, index: UserIndex | None = None, *, tx: Tx | None = None
    ) -> None:
        """Rewrite a user; with ``index``, what it is found by too (same transaction)."""
        values = self._user_values(user, username_key)
        del values["sub"], values["created"]
        async with self.write(tx) as conn:
            try:
                await conn.execute(t.users.update().where(t.users.c.sub == user.sub).values(**values))
            except IntegrityError as exc:
                raise Conflict(user.username) from exc
            if index is not None:
                await self._index(conn, user, username_key, index, fresh=False)

    async def get_user(self, pool_id: str, username_key: str, *, tx: Tx | None = None) -> User | None:
        async with self.read(tx) as conn:
            q = self._locking(_USER_BY_KEY, tx)
            row = (await conn.execute(q, {"b_pool_id": pool_id, "b_key": username_key})).first()
        return self._user(row) if row else None

    async def get_user_by_sub(self, pool_id: str, sub: str, *, tx: Tx | None = None) -> User | None:
        async with self.read(tx) as conn:
            q = self._locking(_USER_BY_SUB, tx)
            row = (await conn.execute(q, {"b_pool_id": pool_id, "b_sub": sub})).first()
        return self._user(row) if row else None

    async def user_by_alias(self, pool_id: str, attribute: str, key: str) -> User | None:
        params = {"b_pool_id": pool_id, "b_attribute": attribute, "b_key": key}
        async with self.read() as conn:
            row = (await conn.execute(_USER_BY_ALIAS, params)).first()
        return self._user(row) if row else None

    async def take_alias(self, pool_id: str, attribute: str, key: str, sub: str, *, tx: Tx) -> str | None:
        """Move the alias row to ``sub`` in place (a concurrent taker waits, then moves it again)."""
        where = (_A.pool_id == pool_id, _A.attribute == attribute, _A.alias_key == key)
        async with self.write(tx) as conn:
            q = self._locking(sa.select(_A.sub).where(*where), tx)
            owner = (await conn.execute(q)).scalar_one_or_none()
            if owner is None or owner == sub:
                return None
            await conn.execute(t.user_aliases.update().where(*where).values(sub=sub))
        return str(owner)

    async def find_subs_by_attr(self, pool_id: str, name: str, value: str) -> list[str]:
        q = sa.select(t.user_attrs.c.sub).where(
            t.user_attrs.c.pool_id == pool_id, t.user_attrs.c.name == name, t.user_attrs.c.value == value
        )
        async with self.read() as conn:
            return [r.sub for r in await conn.execute(q)]

    async def delete_user(self, pool_id: str, sub: str) -> None:
        async with self.write() as conn:
            for table in (t.user_attrs, t.user_aliases, t.user_groups, t.refresh_tokens, t.auth_events):
                await conn.execute(table.delete().where(table.c.pool_id == pool_id, table.c.sub == sub))
            await conn.execute(t.users.delete().where(t.users.c.sub == sub))

    async def list_users(
        self, pool_id: str, limit: int, after: tuple[str, ...] | None = None, flt: UserFilter | None = None
    ) -> list[User]:
        """Users in the order ``flt`` lists them (store/base.py), after the position ``after``.

        Each filter reads its own index in list order and stops after ``limit`` entries:
        an attribute the ``user_attrs`` primary key (pool, name, value, username key),
        ``status`` and ``enabled`` an index of ``users`` ending in the username key, and
        ``username_key`` the pool's username index. So a page costs the same in a pool
        of a thousand users as in one of a million.
        """
        params: dict[str, Any] = {"b_pool_id": pool_id, "b_limit": limit}
        shape: str | None = None
        lo = hi = False
        if flt is not None:
            shape = flt.on if flt.on in ("username_key", "enabled", "status") else "attr"
            params["b_name"] = flt.on
            if flt.op == "=":
                params["b_value"] = flt.value
            elif flt.op == "^=" and isinstance(flt.value, str):
                bounds = prefix_range(flt.value)
                lo, hi = bounds[0] is not None, bounds[1] is not None
                params.update(b_lo=bounds[0], b_hi=bounds[1])
            else:
                raise ValueError(f"not a filter the store runs: {flt!r}")
        width = 2 if flt is not None and flt.by_value else 1
        if after is not None:
            if len(after) != width:
                raise ValueError(f"a position of {width} values is expected, not {after!r}")
            params.update(b_after_value=after[0], b_after_key=after[-1])
        # one value (=): its users in username order; a row-value comparison there would
        # make SQLite's planner read the value's users from the start
        resume = 0 if after is None else 1 if width == 1 or (flt is not None and flt.op == "=") else 2
        q = _listing(shape, flt.op if flt else None, lo, hi, resume)
        async with self.read() as conn:
            return [self._user(r) for r in await conn.execute(q, params)]

    # --- groups -----------------------------------------------------------------

    @staticmethod
    def _group(row: Any) -> Group:
        return Group(
            pool_id=row.pool_id, name=row.name, created=row.created, modified=row.modified, doc=row.doc
        )

    async def insert_group(self, group: Group) -> None:
        async with self.write() as conn:
            try:
                await conn.execute(
                    t.groups.insert().values(
                        pool_id=group.pool_id,
                        name=group.name,
                        created=group.created,
                        modified=group.modified,
                        doc=group.doc,
                    )
                )
            except IntegrityError as exc:
                raise Conflict(group.name) from exc

    async def get_group(self, pool_id: str, name: str) -> Group | None:
        q = t.groups.select().where(t.groups.c.pool_id == pool_id, t.groups.c.name == name)
        async with self.read() as conn:
            row = (await conn.execute(q)).first()
        return self._group(row) if row else None

    async def update_group(self, group: Group) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.groups.update()
                .where(t.groups.c.pool_id == group.pool_id, t.groups.c.name == group.name)
                .values(modified=group.modified, doc=group.doc)
            )

    async def list_groups(self, pool_id: str, limit: int, after: str | None) -> list[Group]:
        q = t.groups.select().where(t.groups.c.pool_id == pool_id).order_by(t.groups.c.name).limit(limit)
        if after:
            q = q.where(t.groups.c.name > after)
        async with self.read() as conn:
            return [self._group(r) for r in await conn.execute(q)]

    async def delete_group(self, pool_id: str, name: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.user_groups.delete().where(
                    t.user_groups.c.pool_id == pool_id, t.user_groups.c.group_name == name
                )
            )
            await conn.execute(
                t.groups.delete().where(t.groups.c.pool_id == pool_id, t.groups.c.name == name)
            )

    async def add_user_to_group(self, pool_id: str, group_name: str, sub: str) -> None:
        """Idempotent, also when two requests add the same membership at once."""
        stmt = self._insert(t.user_groups).values(pool_id=pool_id, group_name=group_name, sub=sub)
        async with self.write() as conn:
            await conn.execute(stmt.on_conflict_do_nothing())

    async def remove_user_from_group(self, pool_id: str, group_name: str, sub: str) -> None:
        async with self.write() as conn:
            await conn.execute(
                t.user_groups.delete().where(
                    t.user_groups.c.pool_id == pool_id,
                    t.user_groups.c.group_name == group_name,
                    t.user_groups.c.sub == sub,
                )
            )

    async def groups_of_user(self, pool_id: str, sub: str) -> list[Group]:
        async with self.read() as conn:
            rows = await conn.execute(_GROUPS_OF_USER, {"b_sub": sub, "b_pool_id": pool_id})
            return [self._group(r) for r in rows]

    async def users_in_group(
        self, pool_id: str, group_name: str, limit: int, after: str | None
    ) -> list[User]:
        sub_q = sa.select(t.user_groups.c.sub).where(
            t.user_groups.c.pool_id == pool_id, t.user_groups.c.group_name == group_name
        )
        q = t.users.select().where(t.users.c.pool_id == pool_id, t.users.c.sub.in_(sub_q))
        if after:
            q = q.where(t.users.c.username_key > after)
        q = q.order_by(t.users.c.username_key).limit(limit)
        async with self.read() as conn:
            return [self._user(r) for r in await conn.execute(q)]
