"""vector_store_migrations: re-embed migrations with their rollback window (issue 17)

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-03 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'vector_store_migrations',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('from_model', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('to_model', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('to_model_requested', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('from_model_requested', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('from_generation', sa.BigInteger(), nullable=False),
        sa.Column('to_generation', sa.BigInteger(), nullable=False),
        sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('updated', sa.BigInteger(), nullable=False),
        sa.Column('completed_at', sa.BigInteger(), nullable=True),
        sa.Column('rollback_until', sa.BigInteger(), nullable=True),
        sa.Column('files_total', sa.BigInteger(), nullable=False),
        sa.Column('files_done', sa.BigInteger(), nullable=False),
        sa.Column('chunks_done', sa.BigInteger(), nullable=False),
        sa.Column('embedding_tokens', sa.BigInteger(), nullable=False),
        sa.Column('last_error_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('last_error_message', sa.Text(), nullable=False),
        sa.Column('retired', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('vector_store_migrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vector_store_migrations_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vector_store_migrations_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vector_store_migrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vector_store_migrations_account_id'))
        batch_op.drop_index(batch_op.f('ix_vector_store_migrations_store_id'))
    op.drop_table('vector_store_migrations')
