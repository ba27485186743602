"""``cognate.testing``: a real Cognate for your tests, as a pytest plugin or a context manager.

pytest finds the plugin by itself once Cognate is installed (entry point ``pytest11``);
its fixtures (``cognate``, ``cognate_idp``, ``cognate_pool``, ``cognate_pool_factory``,
``cognate_user``, ``cognate_user_factory``, ``cognate_outbox``) are described in
``docs/testing.md``. Without pytest::

    from cognate.testing import serve

    with serve() as cognate:
        pool = cognate.create_pool()
        user = pool.create_user()          # signed in: user.tokens.id_token
"""

from cognate.testing.resources import Outbox, Pool, Tokens, User, new_password
from cognate.testing.server import Cognate, serve

__all__ = ["Cognate", "Outbox", "Pool", "Tokens", "User", "new_password", "serve"]
