"""core addresses: where each core listens, for the partition map the edges route by

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_addresses',
    sa.Column('core_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('updated_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('core_id')
    )


def downgrade() -> None:
    op.drop_table('core_addresses')
