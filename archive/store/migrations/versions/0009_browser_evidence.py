"""browser captures: a capture's fetch mode, DOM and screenshot; an exchange's request body

A capture records its fetch mode ('http', or 'browser'). A browser capture
(archive/capture/browser_capture.py) keeps, beside its
exchanges, the page's final DOM and a screenshot as blobs; an exchange the page
sent with a body (a widget's POST) keeps that body as a blob too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_mode', sa.String(length=8), server_default='http', nullable=False))
        batch_op.add_column(sa.Column('dom_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('screenshot_sha256', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key('fk_captures_dom_sha256', 'blobs', ['dom_sha256'], ['sha256'])
        batch_op.create_foreign_key('fk_captures_screenshot_sha256', 'blobs', ['screenshot_sha256'], ['sha256'])
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_body_sha256', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key('fk_exchanges_request_body_sha256', 'blobs', ['request_body_sha256'],
                                    ['sha256'])


def downgrade() -> None:
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.drop_constraint('fk_exchanges_request_body_sha256', type_='foreignkey')
        batch_op.drop_column('request_body_sha256')
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_constraint('fk_captures_screenshot_sha256', type_='foreignkey')
        batch_op.drop_constraint('fk_captures_dom_sha256', type_='foreignkey')
        batch_op.drop_column('screenshot_sha256')
        batch_op.drop_column('dom_sha256')
        batch_op.drop_column('fetch_mode')
