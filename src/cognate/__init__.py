"""Cognate: a self-hosted identity provider speaking Amazon Cognito User Pools' API and OIDC."""

__version__ = "0.1.0"
