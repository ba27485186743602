"""A tiny application that signs users in with Amazon Cognito (or Cognate)."""
