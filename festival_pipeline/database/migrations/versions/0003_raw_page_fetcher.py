"""Record which fetcher got each archived page (direct, browser, zyte, crawlbase, ...).

A nullable column: pages archived before it existed were all fetched directly, but the archive
does not claim what it did not record.

Revision ID: 0003_raw_page_fetcher
Revises: 0002
"""

from alembic import op

revision = "0003_raw_page_fetcher"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE raw_pages ADD COLUMN fetcher text")


def downgrade() -> None:
    op.execute("ALTER TABLE raw_pages DROP COLUMN fetcher")
