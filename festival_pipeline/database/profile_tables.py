"""The award-profile tables: replaced whole, in one transaction, from a DataFrame."""

from __future__ import annotations

import json

import pandas as pd
from psycopg2 import sql
from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import execute_values

PROFILE_TABLES = {"film_award_profiles": "film_imdb_id", "person_award_profiles": "person_imdb_id"}


def replace_profiles(cursor: Cursor, table: str, frame: pd.DataFrame) -> int:
    """Replace every row of `table` with `frame` (its columns are the table's); returns the row count."""
    key = PROFILE_TABLES[table]
    label = "title" if key == "film_imdb_id" else "name"
    columns = [key, label, "nominations", "wins", "festivals", "by_festival", "first_year", "last_year"]
    rows = [
        (row[key], row[label] if isinstance(row[label], str) else None, int(row["nominations"]), int(row["wins"]),
         int(row["festivals"]), json.dumps(row["by_festival"], sort_keys=True), int(row["first_year"]),
         int(row["last_year"]))
        for row in frame[columns].to_dict("records")
    ]
    cursor.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
    if rows:
        execute_values(
            cursor,
            sql.SQL("INSERT INTO {} ({}) VALUES %s").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))).as_string(cursor),
            rows, template="(%s, %s, %s, %s, %s, %s::jsonb, %s, %s)", page_size=5000,
        )
    return len(rows)


def profiles_frame(cursor: Cursor, table: str) -> pd.DataFrame:
    cursor.execute(sql.SQL("SELECT * FROM {} ORDER BY 1").format(sql.Identifier(table)))
    columns = [column.name for column in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
