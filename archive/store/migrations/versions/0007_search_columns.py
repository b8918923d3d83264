"""search_documents (PostgreSQL) gains its filter and sort columns

PostgreSQL: `search_documents` keeps, beside the tsvectors, what searches
filter, sort and count by (status, reinstated, edited, site host, thread and
the sort time), filled from the comments, with btrees on (sort_at,
comment_id), and the same after thread_id and after site_host, so that
newest or oldest first reads an index instead of sorting every match, and
GIN indexes of the body over missing or removed, edited and reinstated
comments. ANALYZE at the end: the planner must know the new columns at once,
even where autovacuum is off. SQLite's FTS5 table is unchanged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = (('status', sa.String(16)), ('reinstated', sa.Boolean()), ('edited', sa.Boolean()),
           ('site_host', sa.String(255)), ('thread_id', sa.Integer()), ('sort_at', sa.DateTime()))

# Date order within everything, a thread, a site.
SORT_INDEXES = {'search_documents_sort': ['sort_at', 'comment_id'],
                'search_documents_thread_sort': ['thread_id', 'sort_at', 'comment_id'],
                'search_documents_site_sort': ['site_host', 'sort_at', 'comment_id']}
# "Removed comments mentioning X" is the archive's question: words among the
# few comments of a status have their own small GIN index, so the match does
# not read every comment holding the word to keep a few.
PARTIAL_GIN = {'search_documents_body_gone': "status IN ('missing', 'removed')",
               'search_documents_body_edited': 'edited',
               'search_documents_body_reinstated': 'reinstated'}


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
    for name, columns in SORT_INDEXES.items():
        op.create_index(name, 'search_documents', columns)
    for name, where in PARTIAL_GIN.items():
        op.create_index(name, 'search_documents', ['body_vec'], postgresql_using='gin',
                        postgresql_where=sa.text(where))
    op.execute("ANALYZE search_documents")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name in [*PARTIAL_GIN, *SORT_INDEXES]:
        op.drop_index(name, 'search_documents')
    for name, _type in reversed(COLUMNS):
        op.drop_column('search_documents', name)
