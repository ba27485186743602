"""The core: every service of the domain, built once over one store (see app.py)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from cognate.core.account import Account
from cognate.core.audit import DEFAULT_RETENTION_DAYS as AUDIT_RETENTION_DAYS
from cognate.core.audit import Audit
from cognate.core.auth_events import DEFAULT_RETENTION_DAYS as AUTH_EVENT_RETENTION_DAYS
from cognate.core.auth_events import AuthEvents
from cognate.core.auth_flows import AuthFlows
from cognate.core.authorization_codes import AuthorizationCodes
from cognate.core.browser_sessions import BrowserSessions, Detours
from cognate.core.client_auth import ClientAuth
from cognate.core.clients import Clients
from cognate.core.clock import Clock
from cognate.core.codes import Codes
from cognate.core.events import NULL_EVENTS, Events, TimedStore
from cognate.core.groups import Groups
from cognate.core.import_jobs import ImportJobs
from cognate.core.keys import SigningKeys
from cognate.core.lockout import Lockout
from cognate.core.messages import Messenger
from cognate.core.mfa import Mfa
from cognate.core.pools import Pools
from cognate.core.resources import Resources
from cognate.core.sessions import Sessions
from cognate.core.signup import SignUps
from cognate.core.tokens import Tokens
from cognate.core.triggers import Invoker, NullInvoker, Triggers
from cognate.core.ui_customization import UiCustomizations
from cognate.core.users import Users
from cognate.crypto.passwords import Passwords
from cognate.crypto.sealing import Sealer
from cognate.store.base import Store


@dataclass(frozen=True)
class CoreConfig:
    region: str
    data_dir: Path
    public_url: str
    issuer_style: str
    master_key: str
    # Master keys that still open what they sealed (a rotation in progress); they never seal.
    accepted_master_keys: tuple[str, ...] = ()
    smtp_url: str | None = None
    password_hash_cost: str = "default"
    # The functions file: function name or ARN -> handler (what LambdaConfig may name).
    functions: Mapping[str, str] = field(default_factory=dict)
    # How long sign-in events (AdminListUserAuthEvents) and audit entries are kept.
    auth_event_retention_days: int = AUTH_EVENT_RETENTION_DAYS
    audit_retention_days: int = AUDIT_RETENTION_DAYS


class Core:
    def __init__(
        self,
        store: Store,
        config: CoreConfig,
        clock: Clock | None = None,
        invoker: Invoker | None = None,
        events: Events | None = None,
    ) -> None:
        from urllib.parse import urlsplit

        self.events = events or NULL_EVENTS  # what an operator's metrics count
        if events is not None:  # each store call timed (cognate_store_call_duration_seconds)
            store = cast(Store, TimedStore(store, events))
        self.store = store
        self.config = config
        self.clock = clock or Clock()
        self.sealer = Sealer(config.master_key, config.accepted_master_keys)
        self.passwords = Passwords(config.password_hash_cost)
        host = urlsplit(config.public_url).hostname or "localhost"
        self.messenger = Messenger(config.data_dir, config.smtp_url, f"no-reply@{host}", self.clock.now)
        self.triggers = Triggers(invoker or NullInvoker(), config.region)
        self.pools = Pools(store, self.clock, config.region, config.functions)
        self.clients = Clients(store, self.clock, self.sealer)
        self.cpu = ThreadPoolExecutor(
            max_workers=len(os.sched_getaffinity(0)), thread_name_prefix="cognate-cpu"
        )
        self.users = Users(
            store, self.clock, self.passwords, self.sealer, self.messenger, self.cpu, self.triggers
        )
        self.groups = Groups(store, self.clock)
        self.import_jobs = ImportJobs(store, self.clock, self.users, config.public_url)
        self.ui_customizations = UiCustomizations(self.pools, store, self.clock)
        self.resources = Resources(store)
        self.keys = SigningKeys(store, self.clock, self.sealer)
        self.tokens = Tokens(store, self.clock, self.keys, self.groups, self.issuer_base, self.triggers)
        self.sessions = Sessions(store, self.clock)
        self.authorization_codes = AuthorizationCodes(store, self.clock)
        self.browser_sessions = BrowserSessions(store, self.clock)
        self.detours = Detours(store, self.clock)
        self.lockout = Lockout(store, self.clock)
        self.codes = Codes(
            store, self.clock, self.lockout, self.messenger, self.sealer, config.public_url, self.triggers
        )
        self.mfa = Mfa(self.pools, self.users, self.codes, self.sealer, self.clock)
        self.auth = AuthFlows(
            self.pools,
            self.clients,
            self.users,
            self.tokens,
            self.sessions,
            self.lockout,
            self.clock,
            # Seeds the simulated SRP answers for unknown users (stable, never guessable).
            hashlib.sha256(b"cognate-srp-unknown-users\0" + config.master_key.encode()).digest(),
            self.mfa,
        )
        self.client_auth = ClientAuth(self.auth)
        self.auth.events = self.lockout.events = self.users.events = self.triggers.events = self.events
        self.auth_events = AuthEvents(store, self.clock, config.auth_event_retention_days)
        self.auth.history = self.auth_events  # the sign-in history, written where each flow ends
        self.audit = Audit(store, self.clock, config.audit_retention_days)

        self.signups = SignUps(self.auth, self.codes, self.triggers)
        self.account = Account(self.auth, self.codes, self.signups)

    @property
    def issuer_base(self) -> str:
        """``{public-url}``, or Cognito's own host with ``--issuer-style aws``."""
        if self.config.issuer_style == "aws":
            return f"https://cognito-idp.{self.config.region}.amazonaws.com"
        return self.config.public_url

    async def purge_expired(self) -> int:
        """Remove what has expired by this core's clock (the server runs it every minute):
        codes and sessions, refresh tokens, idle lockout counters, long-retired signing keys,
        sign-in events and audit entries past their retention, unused import files; and take
        over the import runs whose process ended."""
        removed = await self.store.purge_expired(self.clock.now())
        await self.import_jobs.resume_stale()  # the import runs whose process ended
        return removed
