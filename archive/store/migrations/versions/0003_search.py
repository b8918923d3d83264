"""search index tables for the `database` search engine

SQLite: an FTS5 table `search_fts` (rowid = comment id). PostgreSQL: a table
`search_documents` with one tsvector per field and GIN indexes. Both hold the
search module's own tokens (archive/search/tokens.py); `python -m archive
reindex` fills them from the comments.

Revision ID: 5e4c1d0a2b77
Revises: a13e4e03f813
Create Date: 2026-11-23 12:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '5e4c1d0a2b77'
down_revision = 'a13e4e03f813'
branch_labels = None
depends_on = None

PG_FIELDS = ("body", "title", "author", "site")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # `ascii` splits only on ASCII punctuation and spaces: FTS5 keeps the
        # tokens the search module made. Prefix indexes speed up `word*`.
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5("
                   "body, title, author, site, tokenize = 'ascii', prefix = '2 3')")
        return
    op.create_table(
        'search_documents',
        sa.Column('comment_id', sa.Integer(),
                  sa.ForeignKey('comments.id', ondelete='CASCADE'), primary_key=True),
        *[sa.Column(f'{field}_vec', postgresql.TSVECTOR(), nullable=False) for field in PG_FIELDS],
    )
    for field in PG_FIELDS:
        op.create_index(f'search_documents_{field}', 'search_documents', [f'{field}_vec'],
                        postgresql_using='gin')


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
        return
    op.drop_table('search_documents')
