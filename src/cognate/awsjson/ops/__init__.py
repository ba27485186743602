"""The operations, one small function each; importing this package registers them all."""

from cognate.awsjson.ops import (
    account,
    auth,
    branding,
    clients,
    groups,
    import_jobs,
    mfa,
    pools,
    resources,
    signup,
    users,
)

__all__ = [
    "account",
    "auth",
    "branding",
    "clients",
    "groups",
    "import_jobs",
    "mfa",
    "pools",
    "resources",
    "signup",
    "users",
]
