"""The one error tree.

Every error Cognate raises on purpose is a ``CognateError``. The class name is the
``__type`` Cognito puts on the wire (botocore turns it into the exception class of
the same name), unless the class names another one in ``wire_type`` (a condition
Cognate tells apart that Cognito reports under a shared name, such as a bad client
proof); each class also carries its HTTP status and its OAuth 2.0 ``error`` code
(RFC 6749 section 5.2) for the OAuth endpoints. Protocol layers render these; a
``detail`` goes to the log and never on the wire; anything else becomes
``InternalErrorException`` with the traceback in the log.
"""

from __future__ import annotations

from typing import ClassVar


class CognateError(Exception):
    """Raised on purpose. The class name is Cognito's ``__type``."""

    status: ClassVar[int] = 400
    oauth_error: ClassVar[str] = "invalid_request"
    default_message: ClassVar[str] = ""
    # The ``__type`` on the AWS wire when it is not the class name.
    wire_type: ClassVar[str | None] = None

    def __init__(self, message: str | None = None, *, detail: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.detail = detail  # for the log only: never rendered into a response
        super().__init__(self.message)

    @property
    def type_name(self) -> str:
        return self.wire_type or type(self).__name__


# --- AWS protocol-level errors (common to every AWS JSON service) -------------------


class SerializationException(CognateError):
    default_message = "Start of structure or map found where not expected."


class UnknownOperationException(CognateError):
    default_message = "Unknown operation"


class UnrecognizedClientException(CognateError):
    oauth_error = "invalid_client"
    default_message = "The security token included in the request is invalid."


class InvalidSignatureException(CognateError):
    oauth_error = "invalid_client"
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method."
    )


class MissingAuthenticationTokenException(CognateError):
    """An IAM operation sent without a signature (AWS's Coral services say exactly this)."""

    default_message = "Request is missing Authentication Token"


class IncompleteSignatureException(CognateError):
    default_message = "The request signature does not conform to AWS standards."


class RequestEntityTooLargeException(CognateError):
    status = 413
    default_message = "Request body exceeds the maximum size of 1048576 bytes."


class PreSignedUrlRefused(CognateError):
    """An upload to a user import job's pre-signed URL that is not admitted (the URL is
    unknown, wrong, expired or used, the method is not PUT, the body too large): rendered
    as S3 renders its errors, ``<Error><Code>`` and ``<Message>``, with ``code``."""

    status = 403

    def __init__(
        self, message: str = "Access Denied", *, code: str = "AccessDenied", status: int = 403
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = status


class InvalidClientException(CognateError):
    """The client's proof (SECRET_HASH, client secret, HTTP Basic) is missing or wrong.

    Cognito answers it as ``NotAuthorizedException`` (developer guide, "Computing secret
    hash values"); the OAuth token
    endpoint answers ``invalid_client`` (RFC 6749 section 5.2), with 401 when the client
    tried HTTP Basic. Deliberately not a ``NotAuthorizedException`` subclass: a wrong
    password and a wrong client secret are different conditions to every door.
    """

    wire_type = "NotAuthorizedException"
    oauth_error = "invalid_client"


# --- Cognito's own error shapes (botocore's cognito-idp model) ----------------------


class AccessDeniedException(CognateError):
    oauth_error = "access_denied"


class AliasExistsException(CognateError):
    pass


class CodeDeliveryFailureException(CognateError):
    pass


class CodeMismatchException(CognateError):
    oauth_error = "invalid_grant"
    default_message = "Invalid verification code provided, please try again."


class ConcurrentModificationException(CognateError):
    pass


class DeviceKeyExistsException(CognateError):
    pass


class DuplicateProviderException(CognateError):
    pass


class EnableSoftwareTokenMFAException(CognateError):
    pass


class ExpiredCodeException(CognateError):
    oauth_error = "invalid_grant"
    default_message = "Invalid code provided, please request a code again."


class FeatureUnavailableInTierException(CognateError):
    pass


class ForbiddenException(CognateError):
    status = 403
    oauth_error = "access_denied"


class GroupExistsException(CognateError):
    pass


class InternalErrorException(CognateError):
    status = 500
    oauth_error = "server_error"
    default_message = "Internal server error."


class InternalServerException(CognateError):
    status = 500
    oauth_error = "server_error"


class InvalidEmailRoleAccessPolicyException(CognateError):
    pass


class InvalidLambdaResponseException(CognateError):
    pass


class InvalidOAuthFlowException(CognateError):
    pass


class InvalidParameterException(CognateError):
    pass


class InvalidPasswordException(CognateError):
    pass


class InvalidSmsRoleAccessPolicyException(CognateError):
    pass


class InvalidSmsRoleTrustRelationshipException(CognateError):
    pass


class InvalidUserPoolConfigurationException(CognateError):
    pass


class LimitExceededException(CognateError):
    pass


class MFAMethodNotFoundException(CognateError):
    pass


class ManagedLoginBrandingExistsException(CognateError):
    pass


class NotAuthorizedException(CognateError):
    oauth_error = "invalid_grant"
    default_message = "Incorrect username or password."


class OperationNotEnabledException(CognateError):
    pass


class PasswordHistoryPolicyViolationException(CognateError):
    pass


class PasswordResetRequiredException(CognateError):
    default_message = "Password reset required for the user"


class PreconditionNotMetException(CognateError):
    pass


class RefreshTokenReuseException(CognateError):
    oauth_error = "invalid_grant"


class ResourceNotFoundException(CognateError):
    pass


class ScopeDoesNotExistException(CognateError):
    oauth_error = "invalid_scope"


class ServiceQuotaExceededException(CognateError):
    pass


class SoftwareTokenMFANotFoundException(CognateError):
    pass


class TermsExistsException(CognateError):
    pass


class TierChangeNotAllowedException(CognateError):
    pass


class TooManyFailedAttemptsException(CognateError):
    pass


class TooManyRequestsException(CognateError):
    status = 429
    oauth_error = "slow_down"


class UnauthorizedException(CognateError):
    status = 401
    oauth_error = "invalid_token"


class UnexpectedLambdaException(CognateError):
    pass


class UnsupportedIdentityProviderException(CognateError):
    pass


class UnsupportedOperationException(CognateError):
    pass


class UnsupportedTokenTypeException(CognateError):
    oauth_error = "unsupported_token_type"


class UnsupportedUserStateException(CognateError):
    pass


class UserImportInProgressException(CognateError):
    pass


class UserLambdaValidationException(CognateError):
    pass


class UserNotConfirmedException(CognateError):
    default_message = "User is not confirmed."


class UserNotFoundException(CognateError):
    default_message = "User does not exist."


class UserPoolAddOnNotEnabledException(CognateError):
    pass


class UserPoolTaggingException(CognateError):
    pass


class UsernameExistsException(CognateError):
    default_message = "User account already exists"


class WebAuthnChallengeNotFoundException(CognateError):
    pass


class WebAuthnClientMismatchException(CognateError):
    pass


class WebAuthnConfigurationMissingException(CognateError):
    pass


class WebAuthnCredentialNotSupportedException(CognateError):
    pass


class WebAuthnNotEnabledException(CognateError):
    pass


class WebAuthnOriginNotAllowedException(CognateError):
    pass


class WebAuthnRelyingPartyMismatchException(CognateError):
    pass


# --- OAuth 2.0 / OpenID Connect refusals with no Cognito counterpart -------------------
# Raised only on the OAuth endpoints; cognate.oauth.responses maps each to (status, error).


class OAuthError(CognateError):
    """A refusal of the OAuth 2.0 / OIDC endpoints (RFC 6749 4.1.2.1, 5.2; OIDC Core 3.1.2.6)."""


class InvalidRequestError(OAuthError):
    oauth_error = "invalid_request"


class InvalidGrantError(OAuthError):
    oauth_error = "invalid_grant"


class UnauthorizedClientError(OAuthError):
    oauth_error = "unauthorized_client"


class UnsupportedGrantTypeError(OAuthError):
    oauth_error = "unsupported_grant_type"


class UnsupportedResponseTypeError(OAuthError):
    oauth_error = "unsupported_response_type"


class InvalidScopeError(OAuthError):
    oauth_error = "invalid_scope"


class LoginRequiredError(OAuthError):
    oauth_error = "login_required"


class RequestNotSupportedError(OAuthError):
    oauth_error = "request_not_supported"


class RequestUriNotSupportedError(OAuthError):
    oauth_error = "request_uri_not_supported"


class InvalidTokenError(OAuthError):
    status = 401
    oauth_error = "invalid_token"


class InsufficientScopeError(OAuthError):
    status = 403
    oauth_error = "insufficient_scope"


class InvalidAuthorizationRequest(OAuthError):
    """The client or redirect_uri cannot be trusted: an error page, never a redirect (RFC 6749 4.1.2.1)."""


# Names Cognito's service model declares; the rest above are AWS protocol errors.
PROTOCOL_ERRORS = frozenset(
    {
        "SerializationException",
        "UnknownOperationException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "RequestEntityTooLargeException",
        "PreSignedUrlRefused",
    }
)

# OAuth-only classes: never on the AWS door, so not in Cognito's model.
OAUTH_ERRORS = frozenset(
    name for name, cls in list(globals().items()) if isinstance(cls, type) and issubclass(cls, OAuthError)
)
