-- Runs once, on the first start of an empty data volume (the postgres image's initdb hook):
-- the Dagster instance's database next to the festival one (POSTGRES_DB), owned by POSTGRES_USER.
CREATE DATABASE festival_dagster;
