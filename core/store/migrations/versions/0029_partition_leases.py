"""partition leases: which core owns which partition of the accounts, with a fencing epoch

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partition_leases',
    sa.Column('partition', sa.BigInteger(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.Column('expires_at_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('partition')
    )


def downgrade() -> None:
    op.drop_table('partition_leases')
