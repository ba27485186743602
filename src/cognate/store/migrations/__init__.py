"""Alembic migrations, run at start by ``cognate serve`` (see store/sql.py: ``migrate``)."""
