"""job queue: capture jobs, workers' heartbeats, fleet-wide host slots, a capture's job

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'capture_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('worker', sa.String(length=255), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('capture_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['capture_id'], ['captures.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_capture_jobs_state_target', 'capture_jobs', ['state', 'kind', 'target_id'])
    # At most one queued or running job per watch or feed, whoever queues it.
    active = sa.text("state IN ('queued', 'running')")
    op.create_index('uq_capture_jobs_active', 'capture_jobs', ['kind', 'target_id'], unique=True,
                    postgresql_where=active, sqlite_where=active)
    op.create_table(
        'workers',
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('hostname', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('executor', sa.String(length=16), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('last_heard_at', sa.DateTime(), nullable=False),
        sa.Column('current_job_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'host_slots',
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('next_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('host'),
    )
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_captures_job_id', ['job_id'])


def downgrade() -> None:
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_constraint('uq_captures_job_id', type_='unique')
        batch_op.drop_column('job_id')
    op.drop_table('host_slots')
    op.drop_table('workers')
    op.drop_index('uq_capture_jobs_active', table_name='capture_jobs')
    op.drop_index('ix_capture_jobs_state_target', table_name='capture_jobs')
    op.drop_table('capture_jobs')
