"""ledger totals: running sums per (ledger account, period, kind), filled from the ledger once

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_totals',
    sa.Column('ledger_account', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('period_start', sa.BigInteger(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('debit_nano', sa.BigInteger(), nullable=False),
    sa.Column('credit_nano', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('ledger_account', 'period_start', 'kind')
    )
    # The ledger so far, summed once: from here on every commit that adds transfers adds to these.
    op.execute(
        "INSERT INTO ledger_totals (ledger_account, period_start, kind, debit_nano, credit_nano) "
        "SELECT ledger_account, period_start, kind, SUM(debit_nano), SUM(credit_nano) FROM ("
        " SELECT debit AS ledger_account, period_start, kind, amount_nano AS debit_nano, 0 AS credit_nano"
        " FROM transfers"
        " UNION ALL"
        " SELECT credit, period_start, kind, 0, amount_nano FROM transfers"
        ") AS sides GROUP BY ledger_account, period_start, kind"
    )


def downgrade() -> None:
    op.drop_table('ledger_totals')
