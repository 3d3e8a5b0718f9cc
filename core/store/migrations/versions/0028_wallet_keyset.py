"""transfers by (debit, id) and (credit, id): a wallet page reads its page, not its history

The (debit, period_start) and (credit, period_start) indexes served the core's start, which now
reads the running ledger totals (0026). Replaced, not added to: a transfer insert updates as many
indexes as before, and holds' pending transfers (half of a wallet's) are left out of the new ones.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_transfers_debit_period', table_name='transfers')
    op.drop_index('ix_transfers_credit_period', table_name='transfers')
    posted = sa.text("kind != 'pending'")
    for name, column in (('ix_transfers_debit_id', 'debit'), ('ix_transfers_credit_id', 'credit')):
        op.create_index(name, 'transfers', [column, 'id'], unique=False, sqlite_where=posted, postgresql_where=posted)


def downgrade() -> None:
    op.drop_index('ix_transfers_credit_id', table_name='transfers')
    op.drop_index('ix_transfers_debit_id', table_name='transfers')
    op.create_index('ix_transfers_credit_period', 'transfers', ['credit', 'period_start'], unique=False)
    op.create_index('ix_transfers_debit_period', 'transfers', ['debit', 'period_start'], unique=False)
