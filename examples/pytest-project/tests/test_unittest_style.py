"""The same server for unittest users: cognate.testing.serve() as a class context."""

from __future__ import annotations

import unittest

from cognate.testing import serve

from notes_app.auth import Auth, CognitoSettings


class SignInTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.cognate = cls.enterClassContext(serve())

    def setUp(self) -> None:
        self.pool = self.cognate.create_pool()
        self.addCleanup(self.pool.delete)
        settings = CognitoSettings(self.pool.id, self.pool.client_id, self.pool.issuer)
        self.auth = Auth(self.cognate.client(signed=False), settings)

    def test_sign_in(self) -> None:
        user = self.pool.create_user(signed_in=False)
        claims = self.auth.sign_in(user.username, user.password)
        self.assertEqual(claims["cognito:username"], user.username)

    def test_temporary_password_comes_through_the_outbox(self) -> None:
        idp = self.cognate.client()
        idp.admin_create_user(
            UserPoolId=self.pool.id,
            Username="newcomer",
            UserAttributes=[{"Name": "email", "Value": "newcomer@example.com"}],
            DesiredDeliveryMediums=["EMAIL"],
        )
        temporary = self.pool.outbox.last_code("newcomer")
        result = self.auth.idp.initiate_auth(
            ClientId=self.pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "newcomer", "PASSWORD": temporary},
        )
        self.assertEqual(result["ChallengeName"], "NEW_PASSWORD_REQUIRED")
