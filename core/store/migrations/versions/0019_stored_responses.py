"""stored responses (the Responses API's store: true)

Revision ID: 0019
Revises: 0013
Create Date: 2026-12-03 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0019'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_responses',
    sa.Column('response_json', sa.Text(), nullable=False),
    sa.Column('input_json', sa.Text(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('previous_response_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stored_responses', schema=None) as batch_op:
        batch_op.create_index('ix_stored_responses_customer', ['account_id', 'livemode', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stored_responses_created'), ['created'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stored_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_responses_created'))
        batch_op.drop_index('ix_stored_responses_customer')
    op.drop_table('stored_responses')
