"""Facts about the tables for Dagster metadata: their columns, as the database has them."""

from __future__ import annotations

from dagster import TableColumn, TableColumnConstraints, TableSchema
from psycopg2.extensions import cursor as Cursor


def table_schema(cursor: Cursor, table: str) -> TableSchema:
    cursor.execute(
        """SELECT column_name, data_type, is_nullable FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position""",
        (table,),
    )
    return TableSchema(
        columns=[
            TableColumn(name=name, type=data_type, constraints=TableColumnConstraints(nullable=nullable == "YES"))
            for name, data_type, nullable in cursor.fetchall()
        ]
    )
