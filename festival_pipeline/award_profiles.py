"""Award profiles: every nomination of a film (or a person) over every festival, as one row.

Pure pandas over the `festival_nominations` rows (as the table assets load them): a nomination
counts once for each IMDb id it lists. This is what festival scores are computed from: "every
award of tt0111161" is one row.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

FILM_COLUMNS = ["film_imdb_id", "title", "nominations", "wins", "festivals", "by_festival", "first_year", "last_year"]
PERSON_COLUMNS = ["person_imdb_id", "name", "nominations", "wins", "festivals", "by_festival", "first_year",
                  "last_year"]


def film_profiles(nominations: pd.DataFrame) -> pd.DataFrame:
    """One row per film IMDb id; `title` = the title the nominations most often give that id."""
    return _profiles(nominations, "film_imdb_ids", "film_imdb_id", "films", "title", "title", FILM_COLUMNS)


def person_profiles(nominations: pd.DataFrame) -> pd.DataFrame:
    """One row per person IMDb id; `name` = the name the nominations most often give that id."""
    return _profiles(nominations, "person_imdb_ids", "person_imdb_id", "people", "name", "name", PERSON_COLUMNS)


def _profiles(nominations: pd.DataFrame, ids_column: str, id_name: str, details_key: str, label_key: str,
              label_name: str, columns: list[str]) -> pd.DataFrame:
    if nominations.empty:
        return pd.DataFrame(columns=columns)
    rows = nominations[["festival", "year", "won", ids_column, "details"]].explode(ids_column)
    rows = rows[rows[ids_column].notna()].rename(columns={ids_column: id_name})
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows["won"] = rows["won"].astype(bool)
    totals = rows.groupby(id_name).agg(nominations=("won", "size"), wins=("won", "sum"),
                                       festivals=("festival", "nunique"), first_year=("year", "min"),
                                       last_year=("year", "max"))
    per_festival = rows.groupby([id_name, "festival"])["won"].agg(["size", "sum"])
    by_festival: dict[str, dict[str, dict[str, int]]] = {}
    for (imdb_id, festival), (count, wins) in per_festival.iterrows():
        by_festival.setdefault(imdb_id, {})[festival] = {"nominations": int(count), "wins": int(wins)}
    totals["by_festival"] = pd.Series(by_festival)
    totals[label_name] = pd.Series(_labels(rows, id_name, details_key, label_key))
    totals = totals.reset_index()
    for column in ("nominations", "wins", "festivals", "first_year", "last_year"):
        totals[column] = totals[column].astype(int)
    return totals[columns].sort_values(id_name, ignore_index=True)


def _labels(rows: pd.DataFrame, id_name: str, details_key: str, label_key: str) -> dict[str, str]:
    """The most frequent label (title, name) the nominations' details give each id."""
    counts: dict[str, Counter[str]] = {}
    for imdb_id, details in zip(rows[id_name], rows["details"], strict=True):
        for entry in (details or {}).get(details_key, []):
            if entry.get("imdb_id") == imdb_id and entry.get(label_key):
                counts.setdefault(imdb_id, Counter())[entry[label_key]] += 1
    return {imdb_id: counter.most_common(1)[0][0] for imdb_id, counter in counts.items()}
