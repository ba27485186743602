"""The operations, one small function each; importing this package registers them all."""

from cognate.awsjson.ops import clients, groups, pools, resources, users

__all__ = ["clients", "groups", "pools", "resources", "users"]
