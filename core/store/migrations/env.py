"""Alembic environment: runs on the connection core.store.migrate hands it."""

from __future__ import annotations

from alembic import context

from core.store.tables import METADATA

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=METADATA, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
