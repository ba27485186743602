"""The operations, one small function each; importing this package registers them all."""

from cognate.awsjson.ops import auth, clients, groups, pools, resources, signup, users

__all__ = ["auth", "clients", "groups", "pools", "resources", "signup", "users"]
