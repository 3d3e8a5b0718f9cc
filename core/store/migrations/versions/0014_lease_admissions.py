"""lease admissions: holds.lease_calls, holds.slots_released_unreported, lease_admissions

The calls an edge reported admitted under a lease: if the edge dies, the lease's expiry posts only
those not reported finished (each at its estimate) and releases every other slot, recording how many
slots it released with no call reported (API.md "Holds, expiry, late settles").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_calls', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('slots_released_unreported', sa.Integer(), nullable=True))
    op.create_table(
        'lease_admissions',
        sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('lease_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('model_ref', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('estimate_nano', sa.BigInteger(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('request_id'),
    )
    with op.batch_alter_table('lease_admissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lease_admissions_lease_id'), ['lease_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lease_admissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lease_admissions_lease_id'))
    op.drop_table('lease_admissions')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_column('slots_released_unreported')
        batch_op.drop_column('lease_calls')
