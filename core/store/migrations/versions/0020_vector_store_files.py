"""vector_store_files and vector_store_queries: attachments with their ingest status, and the
query log (issue 16)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'vector_store_files',
        sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('attributes_json', sa.Text(), nullable=False),
        sa.Column('chunking_json', sa.Text(), nullable=False),
        sa.Column('chunk_count', sa.BigInteger(), nullable=False),
        sa.Column('usage_bytes', sa.BigInteger(), nullable=False),
        sa.Column('last_error_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('last_error_message', sa.Text(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('updated', sa.BigInteger(), nullable=False),
        sa.Column('attach_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('batch_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('embedding_tokens', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('store_id', 'file_id'),
    )
    with op.batch_alter_table('vector_store_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vector_store_files_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vector_store_files_customer_id'), ['customer_id'], unique=False)
    op.create_table(
        'vector_store_queries',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('store_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('created', sa.BigInteger(), nullable=False),
        sa.Column('latency_ms', sa.BigInteger(), nullable=False),
        sa.Column('result_count', sa.Integer(), nullable=False),
        sa.Column('top_file_ids_json', sa.Text(), nullable=False),
        sa.Column('embedding_tokens', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('vector_store_queries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vector_store_queries_store_id'), ['store_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vector_store_queries_created'), ['created'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vector_store_queries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vector_store_queries_created'))
        batch_op.drop_index(batch_op.f('ix_vector_store_queries_store_id'))
    op.drop_table('vector_store_queries')
    with op.batch_alter_table('vector_store_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vector_store_files_customer_id'))
        batch_op.drop_index(batch_op.f('ix_vector_store_files_account_id'))
    op.drop_table('vector_store_files')
