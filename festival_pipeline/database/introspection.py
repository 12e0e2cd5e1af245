"""Facts about the tables, as the database has them (for the assets' column-schema metadata)."""

from __future__ import annotations

from psycopg2.extensions import cursor as Cursor


def table_columns(cursor: Cursor, table: str) -> list[tuple[str, str, bool]]:
    """(name, type, nullable) of each column of `table`, in their order."""
    cursor.execute(
        """SELECT column_name, data_type, is_nullable FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position""",
        (table,),
    )
    return [(name, data_type, nullable == "YES") for name, data_type, nullable in cursor.fetchall()]
