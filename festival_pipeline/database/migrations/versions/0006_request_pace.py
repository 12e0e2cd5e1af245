"""The `request_pace` schema: where the fetchers of every process keep each site's pace.

pyrate-limiter's PostgreSQL buckets create their tables themselves (one per host, on first use);
this schema keeps them apart from the festival tables (festival_pipeline/sources/rate_limit.py).

Revision ID: 0006_request_pace
Revises: 0005_io_manager_storage
"""

from alembic import op

revision = "0006_request_pace"
down_revision = "0005_io_manager_storage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS request_pace")


def downgrade() -> None:
    op.execute("DROP SCHEMA request_pace CASCADE")
