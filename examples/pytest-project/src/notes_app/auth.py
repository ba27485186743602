"""Sign-up, sign-in and token checks, written against Cognito's API as any application would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt


@dataclass(frozen=True)
class CognitoSettings:
    user_pool_id: str
    client_id: str
    issuer: str  # https://cognito-idp.<region>.amazonaws.com/<pool>, or Cognate's {url}/{pool}


class Auth:
    def __init__(self, idp: Any, settings: CognitoSettings) -> None:
        self.idp = idp  # boto3.client("cognito-idp", ...)
        self.settings = settings
        self._jwks = jwt.PyJWKClient(f"{settings.issuer}/.well-known/jwks.json")

    def sign_up(self, email: str, password: str) -> None:
        self.idp.sign_up(
            ClientId=self.settings.client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )

    def confirm(self, email: str, code: str) -> None:
        self.idp.confirm_sign_up(ClientId=self.settings.client_id, Username=email, ConfirmationCode=code)

    def sign_in(self, username: str, password: str) -> dict[str, Any]:
        """The verified claims of the ID token; raises NotAuthorizedException on a wrong password."""
        result = self.idp.initiate_auth(
            ClientId=self.settings.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return self.verify(result["AuthenticationResult"]["IdToken"])

    def verify(self, id_token: str) -> dict[str, Any]:
        key = self._jwks.get_signing_key_from_jwt(id_token)
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key.key,
            algorithms=["RS256"],
            issuer=self.settings.issuer,
            audience=self.settings.client_id,
        )
        if claims.get("token_use") != "id":
            raise jwt.InvalidTokenError("not an ID token")
        return claims

    def is_admin(self, id_token: str) -> bool:
        return "admins" in self.verify(id_token).get("cognito:groups", [])
