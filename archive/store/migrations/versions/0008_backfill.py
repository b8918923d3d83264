"""backfill: capture and event sources, snapshot provenance, backfill runs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('captures', 'comments', 'events'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='live',
                                          nullable=False))
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_constraint('uq_captures_thread_seq', type_='unique')
        batch_op.create_unique_constraint('uq_captures_thread_source_seq', ['thread_id', 'source', 'seq'])
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provenance', sa.JSON(), nullable=True))
    op.create_table(
        'backfill_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('source_kind', sa.String(length=8), nullable=False),
        sa.Column('source', sa.String(length=2000), nullable=False),
        sa.Column('date_from', sa.DateTime(), nullable=True),
        sa.Column('date_to', sa.DateTime(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=128), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('snapshots_listed', sa.Integer(), nullable=False),
        sa.Column('snapshots_done', sa.Integer(), nullable=False),
        sa.Column('cursor', sa.String(length=128), nullable=True),
        sa.Column('chain_state', sa.JSON(), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('backfill_runs', schema=None) as batch_op:
        batch_op.create_index('ix_backfill_runs_thread_id', ['thread_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('backfill_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_backfill_runs_thread_id')
    op.drop_table('backfill_runs')
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.drop_column('provenance')
    # Backfilled history has no place in the single chain of older revisions.
    backfilled = "(SELECT id FROM captures WHERE source <> 'live')"
    op.execute("DELETE FROM events WHERE source <> 'live'")
    op.execute(f"UPDATE comment_versions SET capture_id = NULL WHERE capture_id IN {backfilled}")
    op.execute(f"UPDATE comments SET last_seen_capture_id = NULL WHERE last_seen_capture_id IN {backfilled}")
    op.execute("DELETE FROM comment_versions WHERE comment_id IN (SELECT id FROM comments WHERE source <> 'live')")
    op.execute("DELETE FROM comments WHERE source <> 'live'")
    op.execute(f"DELETE FROM exchanges WHERE capture_id IN {backfilled}")
    op.execute("DELETE FROM captures WHERE source <> 'live'")
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_constraint('uq_captures_thread_source_seq', type_='unique')
        batch_op.create_unique_constraint('uq_captures_thread_seq', ['thread_id', 'seq'])
    for table in ('events', 'comments', 'captures'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('source')
