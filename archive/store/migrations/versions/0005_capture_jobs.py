"""capture jobs: per-thread capture numbers (no forked chains), job claims, queued requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('threads', 'feeds'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('job_token', sa.String(length=32), nullable=True))
            batch_op.add_column(sa.Column('job_started_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poll_requested_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('watches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capture_requested_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
    # Existing captures are numbered in id order, the order `verify` chained them in.
    op.execute("UPDATE captures SET seq = (SELECT COUNT(*) FROM captures AS earlier "
               "WHERE earlier.thread_id = captures.thread_id AND earlier.id <= captures.id)")
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_captures_thread_seq', ['thread_id', 'seq'])


def downgrade() -> None:
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_constraint('uq_captures_thread_seq', type_='unique')
        batch_op.drop_column('seq')
    with op.batch_alter_table('watches', schema=None) as batch_op:
        batch_op.drop_column('capture_requested_at')
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('poll_requested_at')
    for table in ('threads', 'feeds'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('job_started_at')
            batch_op.drop_column('job_token')
