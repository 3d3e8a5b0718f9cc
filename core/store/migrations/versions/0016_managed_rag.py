"""files and vector_stores: managed RAG's metadata (issue 16)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'files',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('bytes', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('deleted_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_files_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_customer_id'), ['customer_id'], unique=False)
    op.create_table(
        'vector_stores',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column('embedding_model', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('embedding_model_requested', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('chunking_json', sa.Text(), nullable=False),
        sa.Column('metadata_json', sa.Text(), nullable=False),
        sa.Column('expires_after_days', sa.Integer(), nullable=True),
        sa.Column('shared', sa.Boolean(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('last_active_at', sa.BigInteger(), nullable=False),
        sa.Column('deleted_at', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('vector_stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vector_stores_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vector_stores_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vector_stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vector_stores_customer_id'))
        batch_op.drop_index(batch_op.f('ix_vector_stores_account_id'))
    op.drop_table('vector_stores')
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_files_customer_id'))
        batch_op.drop_index(batch_op.f('ix_files_account_id'))
    op.drop_table('files')
