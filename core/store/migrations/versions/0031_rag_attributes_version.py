"""rag attributes version: vector_store_files.attributes_version

A store file's attribute updates are numbered, and its points carry the number of the attributes
they hold, so the rag role writes attributes only over older ones: a late write (an ingest's repair
after its last batch, an edge's update) never undoes a newer update (docs/rag.md, "Attribute
updates and ingests").

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('vector_store_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attributes_version', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('vector_store_files', schema=None) as batch_op:
        batch_op.drop_column('attributes_version')
