"""The domain's entities: frozen records of what the store keeps.

Field values follow Cognito's vocabulary (``UserStatusType`` and friends, from
botocore's ``cognito-idp`` model); ``doc`` fields hold the Cognito-shaped
configuration as it was accepted and validated by the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class UserStatus(StrEnum):
    UNCONFIRMED = "UNCONFIRMED"
    CONFIRMED = "CONFIRMED"
    ARCHIVED = "ARCHIVED"
    COMPROMISED = "COMPROMISED"
    UNKNOWN = "UNKNOWN"
    RESET_REQUIRED = "RESET_REQUIRED"
    FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"
    EXTERNAL_PROVIDER = "EXTERNAL_PROVIDER"


@dataclass(frozen=True)
class Pool:
    id: str
    name: str
    created: float
    modified: float
    doc: dict[str, Any]  # UserPoolType fields other than Id/Name/dates/counts

    @property
    def short_id(self) -> str:
        """The part after the underscore: the SRP pool name."""
        return self.id.split("_", 1)[1]


@dataclass(frozen=True)
class Client:
    id: str
    pool_id: str
    name: str
    created: float
    modified: float
    doc: dict[str, Any]  # UserPoolClientType fields other than ids/name/dates/secret
    secret: str | None = None  # decrypted in memory only; encrypted at rest


@dataclass(frozen=True)
class User:
    sub: str
    pool_id: str
    username: str
    status: UserStatus
    enabled: bool
    attributes: dict[str, str]
    created: float
    modified: float
    password_hash: str | None = None
    # SRP verifier material, encrypted at rest (crypto happens in the core).
    srp_secret: str | None = None
    # Temporary passwords expire (TemporaryPasswordValidityDays).
    password_expires: float | None = None
    mfa: dict[str, Any] = field(default_factory=dict)
    # Tokens issued before this instant are refused (GlobalSignOut).
    tokens_valid_after: float = 0.0


@dataclass(frozen=True)
class Group:
    pool_id: str
    name: str
    created: float
    modified: float
    doc: dict[str, Any]


@dataclass(frozen=True)
class ResourceServer:
    pool_id: str
    identifier: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class Domain:
    domain: str
    pool_id: str
    doc: dict[str, Any]


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str
    pool_id: str
    client_id: str
    sub: str
    origin_jti: str
    created: float
    expires: float
    doc: dict[str, Any]  # auth_time, scopes, ...
    revoked_at: float | None = None
    rotated_at: float | None = None


@dataclass(frozen=True)
class SigningKey:
    kid: str
    pool_id: str
    purpose: str  # "id" or "access"
    private_pem_enc: str
    public_jwk: dict[str, Any]
    created: float
    retired: float | None = None  # no longer signs; served in the JWKS until tokens expire


@dataclass(frozen=True)
class Lockout:
    failures: int
    locked_until: float
    last_failure: float


class ImportJobStatus(StrEnum):
    """``UserImportJobStatusType``."""

    CREATED = "Created"
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    EXPIRED = "Expired"


@dataclass(frozen=True)
class ImportJob:
    """A user import job (``UserImportJobType``); the CSV is kept apart until the job ends."""

    job_id: str
    pool_id: str
    name: str
    status: ImportJobStatus
    created: float
    role_arn: str
    pre_signed_url: str
    upload_expires: float  # the pre-signed URL's end (15 minutes, as Cognito's)
    password_algorithm: str | None = None
    started: float | None = None
    completed: float | None = None
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    completion_message: str | None = None
    uploaded: bool = False
    # The run's progress: the last CSV line done, and when its process last showed life
    # (a run silent for long is taken over by another process, from the next line).
    lines_done: int = 0
    heartbeat: float | None = None


@dataclass(frozen=True)
class AuthEvent:
    """One entry of a user's sign-in history (AdminListUserAuthEvents' ``AuthEventType``).

    ``doc`` holds the rest of the event in Cognito's words: ``EventResponse``,
    ``ChallengeResponses``, ``EventContextData``, ``EventFeedback``.
    """

    id: str
    pool_id: str
    sub: str
    event_type: str  # SignIn, SignUp, ForgotPassword, PasswordChange, ResendCode
    created: float
    expires: float  # removed by the purge after this instant
    doc: dict[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    """One administrative change: who, what (operation, target, the names of the fields it
    set, never their values), when, from where, and how it ended."""

    id: str
    at: float
    expires: float
    pool_id: str | None
    doc: dict[str, Any]
