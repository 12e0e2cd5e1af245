"""festival-pipeline: film-award ceremonies scraped into one PostgreSQL schema, with Dagster."""
