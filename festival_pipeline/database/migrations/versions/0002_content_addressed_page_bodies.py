"""Store each archived page body once per content hash.

Every fetch still gets its own raw_pages row (url, fetched_at, status, headers, sha256), so the
archive records each fetch; the compressed body moves to raw_page_bodies, keyed by sha256, so
reruns and daily schedules of unchanged pages do not grow the archive by a body each time.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE raw_page_bodies (
    sha256      text PRIMARY KEY,
    size_bytes  integer NOT NULL,
    body_zlib   bytea NOT NULL
);
INSERT INTO raw_page_bodies (sha256, size_bytes, body_zlib)
    SELECT DISTINCT ON (sha256) sha256, size_bytes, body_zlib FROM raw_pages ORDER BY sha256, id;
ALTER TABLE raw_pages DROP COLUMN body_zlib;
ALTER TABLE raw_pages ADD CONSTRAINT raw_pages_body_fkey FOREIGN KEY (sha256) REFERENCES raw_page_bodies (sha256);
"""

DOWNGRADE = """
ALTER TABLE raw_pages DROP CONSTRAINT raw_pages_body_fkey;
ALTER TABLE raw_pages ADD COLUMN body_zlib bytea;
UPDATE raw_pages p SET body_zlib = b.body_zlib FROM raw_page_bodies b WHERE b.sha256 = p.sha256;
ALTER TABLE raw_pages ALTER COLUMN body_zlib SET NOT NULL;
DROP TABLE raw_page_bodies;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
