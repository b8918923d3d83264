"""search_documents (PostgreSQL) gains its filter and sort columns

PostgreSQL: `search_documents` keeps, beside the tsvectors, what searches
filter, sort and count by (status, reinstated, edited, site host, thread and
the sort time), filled from the comments, with a btree on (sort_at,
comment_id) so that newest or oldest first reads an index instead of sorting
every match, and one on (thread_id, sort_at, comment_id) for a thread's
search. ANALYZE at the end: the planner must know the new columns at once,
even where autovacuum is off. SQLite's FTS5 table is unchanged.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = (('status', sa.String(16)), ('reinstated', sa.Boolean()), ('edited', sa.Boolean()),
           ('site_host', sa.String(255)), ('thread_id', sa.Integer()), ('sort_at', sa.DateTime()))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, type_ in COLUMNS:
        op.add_column('search_documents', sa.Column(name, type_, nullable=True))
    op.execute("UPDATE search_documents d SET status = c.status, reinstated = c.times_reinstated > 0, "
               "edited = c.edit_count > 0, site_host = s.host, thread_id = c.thread_id, "
               "sort_at = COALESCE(c.posted_at, c.first_seen_at) "
               "FROM comments c JOIN threads t ON t.id = c.thread_id JOIN sites s ON s.id = t.site_id "
               "WHERE c.id = d.comment_id")
    for name, _type in COLUMNS:
        op.alter_column('search_documents', name, nullable=False)
    op.create_index('search_documents_sort', 'search_documents', ['sort_at', 'comment_id'])
    op.create_index('search_documents_thread_sort', 'search_documents',
                    ['thread_id', 'sort_at', 'comment_id'])
    op.execute("ANALYZE search_documents")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.drop_index('search_documents_thread_sort', 'search_documents')
    op.drop_index('search_documents_sort', 'search_documents')
    for name, _type in reversed(COLUMNS):
        op.drop_column('search_documents', name)
