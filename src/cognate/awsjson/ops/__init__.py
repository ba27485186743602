"""The operations, one small function each; importing this package registers them all."""

from cognate.awsjson.ops import auth, clients, groups, pools, resources, users

__all__ = ["auth", "clients", "groups", "pools", "resources", "users"]
