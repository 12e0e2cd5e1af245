"""IMDb's GraphQL API as a source: archived answers and editions built from several of them.

* `raw_pages.source`: what was fetched — `pages` (a site's page, as before) or `graphql` (an answer of
  IMDb's GraphQL API); `raw_pages.request`: for an answer, the query and variables that were posted
  (its `url` is the endpoint with the operation and variables after `#`, so the archive keys answers
  by what was asked).
* `partition_pages.part`: an edition read from the API may take several answers (one per page of a
  connection), linked in the order they were asked; a page is part 0.

Revision ID: 0007_graphql_answers
Revises: 0006_request_pace
"""

from alembic import op

revision = "0007_graphql_answers"
down_revision = "0006_request_pace"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE raw_pages
    ADD COLUMN source text NOT NULL DEFAULT 'pages'
        CONSTRAINT raw_pages_source_check CHECK (source IN ('pages', 'graphql')),
    ADD COLUMN request jsonb;
ALTER TABLE partition_pages ADD COLUMN part integer NOT NULL DEFAULT 0;
ALTER TABLE partition_pages DROP CONSTRAINT partition_pages_pkey;
ALTER TABLE partition_pages ADD PRIMARY KEY (organization_id, year, edition, role, part);
"""

DOWNGRADE = """
DELETE FROM partition_pages WHERE part > 0;
ALTER TABLE partition_pages DROP CONSTRAINT partition_pages_pkey;
ALTER TABLE partition_pages ADD PRIMARY KEY (organization_id, year, edition, role);
ALTER TABLE partition_pages DROP COLUMN part;
ALTER TABLE raw_pages DROP COLUMN request, DROP COLUMN source;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
