"""assistant objects (the Assistants API's assistants, threads, messages and runs)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assistant_objects',
    sa.Column('body_json', sa.Text(), nullable=False),
    sa.Column('private_json', sa.Text(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assistant_objects', schema=None) as batch_op:
        batch_op.create_index('ix_assistant_objects_tenant', ['account_id', 'livemode', 'kind', 'position'], unique=False)
        batch_op.create_index('ix_assistant_objects_parent', ['parent_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_objects_created'), ['created'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_objects_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assistant_objects_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assistant_objects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assistant_objects_status'))
        batch_op.drop_index(batch_op.f('ix_assistant_objects_customer_id'))
        batch_op.drop_index(batch_op.f('ix_assistant_objects_created'))
        batch_op.drop_index('ix_assistant_objects_parent')
        batch_op.drop_index('ix_assistant_objects_tenant')
    op.drop_table('assistant_objects')
