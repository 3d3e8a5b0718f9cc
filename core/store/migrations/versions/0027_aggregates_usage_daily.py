"""usage daily: the usage records summed per (tenant, day, customer, model, period), filled once

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('usage_daily',
    sa.Column('account_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('day', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_ref', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('period_start', sa.BigInteger(), nullable=False),
    sa.Column('cost_nano', sa.BigInteger(), nullable=False),
    sa.Column('posted_nano', sa.BigInteger(), nullable=False),
    sa.Column('request_count', sa.BigInteger(), nullable=False),
    sa.Column('input_tokens', sa.BigInteger(), nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'livemode', 'day', 'customer_id', 'model_ref', 'period_start')
    )
    with op.batch_alter_table('usage_daily', schema=None) as batch_op:
        batch_op.create_index('ix_usage_daily_customer_period', ['customer_id', 'period_start'], unique=False)
        batch_op.create_index('ix_usage_daily_day', ['day'], unique=False)
    # The usage records so far, summed once: from here on every commit that writes records adds
    # to these (core/store/usage_daily.py). Days are UTC; created is positive unix seconds.
    op.execute(
        "INSERT INTO usage_daily (account_id, livemode, day, customer_id, model_ref, period_start,"
        " cost_nano, posted_nano, request_count, input_tokens, output_tokens) "
        "SELECT account_id, livemode, created / 86400, COALESCE(customer_id, ''), model_ref, period_start,"
        " SUM(cost_nano), SUM(posted_nano),"
        " SUM(CASE WHEN status IN ('failed', 'lease_expired') THEN 0 ELSE 1 END),"
        " SUM(input_tokens + cached_input_tokens + cache_write_tokens + audio_input_tokens + image_input_tokens),"
        " SUM(output_tokens + reasoning_tokens + audio_output_tokens) "
        "FROM usage_records "
        "GROUP BY account_id, livemode, created / 86400, COALESCE(customer_id, ''), model_ref, period_start"
    )


def downgrade() -> None:
    with op.batch_alter_table('usage_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_daily_day')
        batch_op.drop_index('ix_usage_daily_customer_period')
    op.drop_table('usage_daily')
