"""allowed_models on API keys, tiers and customers (API.md "Governance")

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
# 0014 is another change of the same session; whoever merges second chains this one after it.
down_revision = '0014'
branch_labels = None
depends_on = None

TABLES = ('api_keys', 'tiers', 'customers')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('allowed_models_json', sa.Text(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('allowed_models_json')
