"""feed watch schedule: per-feed overrides of the schedule of the watches a feed creates

Revision ID: a13e4e03f813
Revises: 39078bc29dcc
Create Date: 2026-11-23 09:31:16.400149
"""
import sqlalchemy as sa
from alembic import op

revision = 'a13e4e03f813'
down_revision = '39078bc29dcc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watch_interval_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('watch_early_interval_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('watch_early_seconds', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('watch_early_seconds')
        batch_op.drop_column('watch_early_interval_seconds')
        batch_op.drop_column('watch_interval_seconds')
