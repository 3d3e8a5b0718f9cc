"""holds: output_tokens (a call's output bound) and lease_tokens (a lease's token allowance)

An Authorize or AcquireLease repeated under the id its caller chose (its first answer cut off, maybe
by the core's death) is answered with what the first answer carried. The amount alone does not give
it back exactly: a call's output bound was cut by the room, a TPM window or the prepaid balance at
admission, and a lease's tokens by its TPM window. A taker that adopts the hold reads them here.
0: a hold written before this revision (the replay derives the bound from the amount, as before).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('output_tokens', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('lease_tokens', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_column('lease_tokens')
        batch_op.drop_column('output_tokens')
