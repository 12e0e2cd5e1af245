"""The unified festival schema: organizations, ceremonies, categories, nominations.

Revision ID: 0001
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE festival_organizations (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    abbreviation  text UNIQUE,
    slug          text NOT NULL UNIQUE,
    country       text,
    founded_year  integer,
    website       text,
    imdb_event_id text UNIQUE,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
    inserted_at   timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE festival_ceremonies (
    id               bigserial PRIMARY KEY,
    organization_id  bigint NOT NULL REFERENCES festival_organizations (id) ON DELETE CASCADE,
    year             integer NOT NULL,
    edition          integer NOT NULL DEFAULT 1,
    ceremony_number  integer,
    name             text,
    date             date,
    location         text,
    data             jsonb,
    data_source      text,
    source_url       text,
    source_urls      text[] NOT NULL DEFAULT '{}',
    scraped_at       timestamptz,
    source_metadata  jsonb NOT NULL DEFAULT '{}'::jsonb,
    inserted_at      timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT festival_ceremonies_org_year_edition_key UNIQUE (organization_id, year, edition)
);
CREATE INDEX festival_ceremonies_year_idx ON festival_ceremonies (year);

CREATE TABLE festival_categories (
    id               bigserial PRIMARY KEY,
    organization_id  bigint NOT NULL REFERENCES festival_organizations (id) ON DELETE CASCADE,
    prize_name       text NOT NULL,
    name             text NOT NULL,
    tracks_person    boolean NOT NULL DEFAULT false,
    category_type    text NOT NULL
        CONSTRAINT festival_categories_type_check CHECK (category_type IN ('film', 'person', 'technical', 'special')),
    metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
    inserted_at      timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT festival_categories_org_prize_name_key UNIQUE (organization_id, prize_name, name)
);

-- A nomination is identified within its ceremony by nomination_key (a hash of its
-- category, films and nominees plus an ordinal): one film may hold several
-- nominations in one category, so (ceremony, category, film) is deliberately not unique.
CREATE TABLE festival_nominations (
    id               bigserial PRIMARY KEY,
    ceremony_id      bigint NOT NULL REFERENCES festival_ceremonies (id) ON DELETE CASCADE,
    category_id      bigint NOT NULL REFERENCES festival_categories (id),
    nomination_key   text NOT NULL,
    position         integer NOT NULL,
    won              boolean NOT NULL DEFAULT false,
    prize_name       text,
    film_title       text,
    film_imdb_ids    text[] NOT NULL DEFAULT '{}',
    person_imdb_ids  text[] NOT NULL DEFAULT '{}',
    nominee_names    text,
    details          jsonb NOT NULL DEFAULT '{}'::jsonb,
    inserted_at      timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT festival_nominations_ceremony_key UNIQUE (ceremony_id, nomination_key)
);
CREATE INDEX festival_nominations_category_idx ON festival_nominations (category_id);
CREATE INDEX festival_nominations_film_ids_idx ON festival_nominations USING gin (film_imdb_ids);
CREATE INDEX festival_nominations_person_ids_idx ON festival_nominations USING gin (person_imdb_ids);

-- Every page fetched, as fetched: a reparse reads from here instead of the network.
CREATE TABLE raw_pages (
    id           bigserial PRIMARY KEY,
    url          text NOT NULL,
    fetched_at   timestamptz NOT NULL,
    status       integer NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}'::jsonb,
    sha256       text NOT NULL,
    size_bytes   integer NOT NULL,
    body_zlib    bytea NOT NULL
);
CREATE INDEX raw_pages_url_fetched_idx ON raw_pages (url, fetched_at DESC);

-- Which archived page each partition was built from (role: 'oscars_org', 'imdb').
CREATE TABLE partition_pages (
    organization_id  bigint NOT NULL REFERENCES festival_organizations (id) ON DELETE CASCADE,
    year             integer NOT NULL,
    edition          integer NOT NULL DEFAULT 1,
    role             text NOT NULL,
    url              text NOT NULL,
    raw_page_id      bigint NOT NULL REFERENCES raw_pages (id),
    linked_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, year, edition, role)
);

-- The parsed (and, for the Oscars, IMDb-enhanced) ceremony between fetch and write.
CREATE TABLE ceremony_snapshots (
    organization_id  bigint NOT NULL REFERENCES festival_organizations (id) ON DELETE CASCADE,
    year             integer NOT NULL,
    edition          integer NOT NULL DEFAULT 1,
    payload          jsonb NOT NULL,
    page_sha256s     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, year, edition)
);

-- The outcome of the latest import attempt of each festival-year, for `status`.
CREATE TABLE import_outcomes (
    organization_id  bigint NOT NULL REFERENCES festival_organizations (id) ON DELETE CASCADE,
    year             integer NOT NULL,
    edition          integer NOT NULL DEFAULT 1,
    status           text NOT NULL,
    error            text,
    details          jsonb NOT NULL DEFAULT '{}'::jsonb,
    run_id           text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, year, edition)
);
"""

DOWNGRADE = """
DROP TABLE import_outcomes;
DROP TABLE ceremony_snapshots;
DROP TABLE partition_pages;
DROP TABLE raw_pages;
DROP TABLE festival_nominations;
DROP TABLE festival_categories;
DROP TABLE festival_ceremonies;
DROP TABLE festival_organizations;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
