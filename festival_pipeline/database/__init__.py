"""The database layer: every SQL statement of the festival database, its migrations, and the embedded
PostgreSQL server. Nothing here imports Dagster."""
