"""Storage behind the IO managers: which pages and which parse a partition holds, and the
award-profile tables.

* `partition_page_sets`: one row per (organization, year, page role) — the page asset's latest
  materialization of that year: fetched (the editions' pages are in `partition_pages`, possibly none
  when the source lists no edition) or failed (with the error), and the run that did it.
* `ceremony_snapshots` gains the run (and backfill lineage) that parsed it; `parsed_years` says per
  (organization, year) whether the latest parse succeeded (with how many editions) or failed.
* `raw_pages` records the run (and backfill) that fetched a page, so an event's edition list is
  fetched once per backfill even when the backfill runs in several chunks.
* `film_award_profiles` / `person_award_profiles`: one row per IMDb id over every festival.

Revision ID: 0005_io_manager_storage
Revises: 0003_raw_page_fetcher
"""

from alembic import op

revision = "0005_io_manager_storage"
down_revision = "0003_raw_page_fetcher"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE partition_page_sets (
    organization_id  bigint NOT NULL REFERENCES festival_organizations (id) ON DELETE CASCADE,
    year             integer NOT NULL,
    role             text NOT NULL,
    status           text NOT NULL CONSTRAINT partition_page_sets_status_check CHECK (status IN ('fetched', 'failed')),
    error            text,
    run_id           text,
    lineage          text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, year, role)
);
INSERT INTO partition_page_sets (organization_id, year, role, status)
    SELECT DISTINCT organization_id, year, role, 'fetched' FROM partition_pages;

ALTER TABLE ceremony_snapshots ADD COLUMN run_id text, ADD COLUMN lineage text;
CREATE TABLE parsed_years (
    organization_id  bigint NOT NULL REFERENCES festival_organizations (id) ON DELETE CASCADE,
    year             integer NOT NULL,
    status           text NOT NULL CONSTRAINT parsed_years_status_check CHECK (status IN ('parsed', 'failed')),
    error            text,
    editions         integer NOT NULL DEFAULT 0,
    run_id           text,
    lineage          text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, year)
);
INSERT INTO parsed_years (organization_id, year, status, editions)
    SELECT organization_id, year, 'parsed', count(*) FROM ceremony_snapshots GROUP BY organization_id, year;

ALTER TABLE raw_pages ADD COLUMN run_id text, ADD COLUMN backfill_id text;
CREATE INDEX raw_pages_backfill_url_idx ON raw_pages (backfill_id, url) WHERE backfill_id IS NOT NULL;

CREATE TABLE film_award_profiles (
    film_imdb_id   text PRIMARY KEY,
    title          text,
    nominations    integer NOT NULL,
    wins           integer NOT NULL,
    festivals      integer NOT NULL,
    by_festival    jsonb NOT NULL,
    first_year     integer NOT NULL,
    last_year      integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE person_award_profiles (
    person_imdb_id text PRIMARY KEY,
    name           text,
    nominations    integer NOT NULL,
    wins           integer NOT NULL,
    festivals      integer NOT NULL,
    by_festival    jsonb NOT NULL,
    first_year     integer NOT NULL,
    last_year      integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE person_award_profiles;
DROP TABLE film_award_profiles;
DROP INDEX raw_pages_backfill_url_idx;
ALTER TABLE raw_pages DROP COLUMN backfill_id, DROP COLUMN run_id;
DROP TABLE parsed_years;
ALTER TABLE ceremony_snapshots DROP COLUMN lineage, DROP COLUMN run_id;
DROP TABLE partition_page_sets;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
