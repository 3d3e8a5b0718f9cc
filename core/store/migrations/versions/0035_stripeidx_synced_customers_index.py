"""customers: a partial index of the live customers with a Stripe customer id, by id

A Stripe sync plans its customers in batches by id; each batch read them from the core's hot state by
sorting every customer in memory (~10 ms a batch at 100,000 customers). It now reads the next batch
from this index (core/store/billing.py `synced_customers`), O(batch + log n), and from the database,
so it does not need every customer in memory (docs/performance.md, "The Stripe plan from an index").

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

_SYNCED = "stripe_customer_id <> '' AND deleted_at IS NULL"


def upgrade() -> None:
    synced = sa.text(_SYNCED)
    op.create_index(
        'ix_customers_stripe_synced', 'customers', ['id'], unique=False, sqlite_where=synced, postgresql_where=synced
    )


def downgrade() -> None:
    op.drop_index('ix_customers_stripe_synced', table_name='customers')
