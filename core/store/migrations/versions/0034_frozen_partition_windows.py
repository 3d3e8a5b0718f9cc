"""partition windows: rate-limit windows handed over with a partition (issue 25)

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partition_windows',
    sa.Column('partition', sa.BigInteger(), nullable=False),
    sa.Column('window_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('entries_json', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('partition', 'window_key')
    )


def downgrade() -> None:
    op.drop_table('partition_windows')
