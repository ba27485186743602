"""Entities -> Cognito's response shapes (botocore's cognito-idp model). Dates are epoch seconds."""

from __future__ import annotations

from typing import Any

from cognate.core.codes import CodeDelivery
from cognate.core.entities import AuthEvent, Client, Domain, Group, ImportJob, Pool, ResourceServer, User
from cognate.core.mfa import TOTP, pool_methods
from cognate.core.outcome import Challenge
from cognate.core.pools import INTERNAL
from cognate.core.tokens import Issued


def pool(
    p: Pool, arn: str, estimated_users: int | None = None, domain: Domain | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": p.id, "Name": p.name}
    out.update({k: v for k, v in p.doc.items() if k not in INTERNAL})
    out["LastModifiedDate"] = p.modified
    out["CreationDate"] = p.created
    out["Arn"] = arn
    if estimated_users is not None:
        out["EstimatedNumberOfUsers"] = estimated_users
    if domain is not None:
        out["Domain"] = domain.domain
    return out


def pool_summary(p: Pool) -> dict[str, Any]:
    return {
        "Id": p.id,
        "Name": p.name,
        "LambdaConfig": p.doc.get("LambdaConfig", {}),
        "LastModifiedDate": p.modified,
        "CreationDate": p.created,
    }


def client(c: Client, *, with_secret: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"UserPoolId": c.pool_id, "ClientName": c.name, "ClientId": c.id}
    if c.secret and with_secret:
        out["ClientSecret"] = c.secret
    out["LastModifiedDate"] = c.modified
    out["CreationDate"] = c.created
    out.update(c.doc)
    return out


def client_summary(c: Client) -> dict[str, Any]:
    return {"ClientId": c.id, "UserPoolId": c.pool_id, "ClientName": c.name}


def _attrs(u: User, only: set[str] | None = None) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in u.attributes.items() if only is None or k in only]


def user(u: User, only: set[str] | None = None) -> dict[str, Any]:
    """UserType (AdminCreateUser, ListUsers)."""
    return {
        "Username": u.username,
        "Attributes": _attrs(u, only),
        "UserCreateDate": u.created,
        "UserLastModifiedDate": u.modified,
        "Enabled": u.enabled,
        "UserStatus": str(u.status),
    }


def mfa_settings(u: User) -> dict[str, Any]:
    out: dict[str, Any] = {}
    methods = list(u.mfa.get("enabled", []))
    if methods:
        out["UserMFASettingList"] = methods
    if u.mfa.get("preferred"):
        out["PreferredMfaSetting"] = u.mfa["preferred"]
    return out


def admin_get_user(u: User) -> dict[str, Any]:
    return {
        "Username": u.username,
        "UserAttributes": _attrs(u),
        "UserCreateDate": u.created,
        "UserLastModifiedDate": u.modified,
        "Enabled": u.enabled,
        "UserStatus": str(u.status),
        **mfa_settings(u),
    }


def mfa_config(p: Pool) -> dict[str, Any]:
    """GetUserPoolMfaConfig / SetUserPoolMfaConfig's response."""
    config = p.doc.get("MfaConfig") or {}
    out: dict[str, Any] = {"MfaConfiguration": p.doc.get("MfaConfiguration", "OFF")}
    out["SoftwareTokenMfaConfiguration"] = config.get("SoftwareTokenMfaConfiguration") or {
        "Enabled": TOTP in pool_methods(p)
    }
    if config.get("SmsMfaConfiguration"):
        out["SmsMfaConfiguration"] = config["SmsMfaConfiguration"]
    return out


def auth_event(e: AuthEvent) -> dict[str, Any]:
    """``AuthEventType``. Cognate assesses no risk: every event is ``NoRisk``."""
    out: dict[str, Any] = {
        "EventId": e.id,
        "EventType": e.event_type,
        "CreationDate": e.created,
        "EventResponse": e.doc["EventResponse"],
        "EventRisk": {"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": False},
        "ChallengeResponses": list(e.doc.get("ChallengeResponses") or []),
        "EventContextData": dict(e.doc.get("EventContextData") or {}),
    }
    if e.doc.get("EventFeedback"):
        out["EventFeedback"] = dict(e.doc["EventFeedback"])
    return out


def code_delivery(sent: CodeDelivery) -> dict[str, str]:
    """CodeDeliveryDetailsType."""
    return {"Destination": sent.destination, "DeliveryMedium": sent.medium, "AttributeName": sent.attribute}


def attribute_map(items: list[Any]) -> dict[str, str]:
    """An AttributeType list (checked against the model) as name -> value; the last one wins."""
    return {str(a["Name"]): str(a.get("Value", "")) for a in items if isinstance(a, dict)}


def group(g: Group) -> dict[str, Any]:
    return {
        "GroupName": g.name,
        "UserPoolId": g.pool_id,
        **g.doc,
        "LastModifiedDate": g.modified,
        "CreationDate": g.created,
    }


def resource_server(rs: ResourceServer) -> dict[str, Any]:
    return {
        "UserPoolId": rs.pool_id,
        "Identifier": rs.identifier,
        "Name": rs.doc["Name"],
        "Scopes": rs.doc["Scopes"],
    }


def authentication_result(issued: Issued) -> dict[str, Any]:
    """AuthenticationResultType."""
    out: dict[str, Any] = {
        "AccessToken": issued.access_token,
        "ExpiresIn": issued.expires_in,
        "TokenType": "Bearer",
    }
    if issued.refresh_token:
        out["RefreshToken"] = issued.refresh_token
    if issued.id_token:
        out["IdToken"] = issued.id_token
    return out


def signed_in(issued: Issued) -> dict[str, Any]:
    """InitiateAuth's (and RespondToAuthChallenge's) response once signed in."""
    return {"ChallengeParameters": {}, "AuthenticationResult": authentication_result(issued)}


def challenge(step: Challenge) -> dict[str, Any]:
    """InitiateAuth's (and RespondToAuthChallenge's) response with the next challenge."""
    return {"ChallengeName": step.name, "Session": step.session, "ChallengeParameters": step.parameters}


def import_job(j: ImportJob) -> dict[str, Any]:
    """``UserImportJobType``."""
    out: dict[str, Any] = {
        "JobName": j.name,
        "JobId": j.job_id,
        "UserPoolId": j.pool_id,
        "PreSignedUrl": j.pre_signed_url,
        "CreationDate": j.created,
        "Status": str(j.status),
        "CloudWatchLogsRoleArn": j.role_arn,
        "ImportedUsers": j.imported,
        "SkippedUsers": j.skipped,
        "FailedUsers": j.failed,
    }
    if j.started is not None:
        out["StartDate"] = j.started
    if j.completed is not None:
        out["CompletionDate"] = j.completed
    if j.completion_message:
        out["CompletionMessage"] = j.completion_message
    if j.password_algorithm:
        out["PasswordHashingAlgorithm"] = j.password_algorithm
    return out
