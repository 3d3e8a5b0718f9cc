"""transfers: the (debit, id) / (credit, id) indexes hold wallets' transfers only, hold_id's only leases'

Their one reader is a wallet's page (core/store/wallet_history.py), which names a `…:wallet` ledger
account; every settle wrote its post and cost transfers into both (four index entries a call) and a
NULL hold_id into `ix_transfers_hold_id`, read only for a lease's posts (core/store/loader.py). A
non-wallet settle now writes none of them: SQLite's transfer inserts ~21 → ~17 µs a settle
(docs/performance.md, "GC and indexes per settle").

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

_POSTED = "kind != 'pending'"


def upgrade() -> None:
    op.drop_index('ix_transfers_debit_id', table_name='transfers')
    op.drop_index('ix_transfers_credit_id', table_name='transfers')
    op.drop_index('ix_transfers_hold_id', table_name='transfers')
    for name, column in (('ix_transfers_debit_id', 'debit'), ('ix_transfers_credit_id', 'credit')):
        wallets = sa.text(_POSTED + f" AND {column} LIKE '%\\:wallet'")  # `\\:`: a colon, not a parameter
        op.create_index(name, 'transfers', [column, 'id'], unique=False, sqlite_where=wallets, postgresql_where=wallets)
    leases = sa.text('hold_id IS NOT NULL')
    op.create_index(
        'ix_transfers_hold_id', 'transfers', ['hold_id'], unique=False, sqlite_where=leases, postgresql_where=leases
    )


def downgrade() -> None:
    op.drop_index('ix_transfers_hold_id', table_name='transfers')
    op.drop_index('ix_transfers_credit_id', table_name='transfers')
    op.drop_index('ix_transfers_debit_id', table_name='transfers')
    op.create_index('ix_transfers_hold_id', 'transfers', ['hold_id'], unique=False)
    posted = sa.text(_POSTED)
    for name, column in (('ix_transfers_debit_id', 'debit'), ('ix_transfers_credit_id', 'credit')):
        op.create_index(name, 'transfers', [column, 'id'], unique=False, sqlite_where=posted, postgresql_where=posted)
