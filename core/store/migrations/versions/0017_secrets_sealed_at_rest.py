"""secrets sealed at rest: webhook secrets and Stripe keys widened to text (a sealed value is longer
than its secret), and every stored secret sealed under RINGSIDE_SECRET_KEY (issue 15, item 5)

The sealing needs the key: it runs when the migrating command has one (`ringside migrate`, `ringside
up`); otherwise the next core to start seals what is left (core/server.py, seal_at_rest).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.store.sealing import Sealer, reseal

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.alter_column('secret', type_=sa.Text(), existing_nullable=False)
        batch_op.alter_column('previous_secret', type_=sa.Text(), existing_nullable=False)
    with op.batch_alter_table('stripe_settings', schema=None) as batch_op:
        batch_op.alter_column('secret_key', type_=sa.Text(), existing_nullable=False)
    sealer = op.get_context().config.attributes.get('sealer') if op.get_context().config else None
    if isinstance(sealer, Sealer):
        reseal(op.get_bind(), sealer)


def downgrade() -> None:
    """Secrets stay sealed (opening them needs the key, which a migration should not hold); the
    columns stay text."""
