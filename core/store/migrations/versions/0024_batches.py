"""batches (POST /v1/batches, issue 19)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('input_file_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('completion_window', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('metadata_json', sa.Text(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('created', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('in_progress_at', sa.BigInteger(), nullable=False),
    sa.Column('completed', sa.BigInteger(), nullable=False),
    sa.Column('failed', sa.BigInteger(), nullable=False),
    sa.Column('output_file_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('error_file_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('errors_json', sa.Text(), nullable=False),
    sa.Column('finalizing_at', sa.BigInteger(), nullable=False),
    sa.Column('completed_at', sa.BigInteger(), nullable=False),
    sa.Column('failed_at', sa.BigInteger(), nullable=False),
    sa.Column('expired_at', sa.BigInteger(), nullable=False),
    sa.Column('cancelling_at', sa.BigInteger(), nullable=False),
    sa.Column('cancelled_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batches_customer_id'))
        batch_op.drop_index(batch_op.f('ix_batches_account_id'))
    op.drop_table('batches')
