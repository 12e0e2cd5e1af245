"""`festival-pipeline status`: what the database holds, a line per festival, or per year and
edition of the festivals asked for.

A year is one of: missing (never imported), failed (with the error), no-edition,
nothing-to-import, announced-not-awarded, complete. Years come from the festival's
partitions, so a year never imported shows up as missing.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TypeVar

import psycopg2.errors
from rich import box
from rich.console import Console
from rich.table import Table

from festival_pipeline.database import connection, outcomes, status_queries
from festival_pipeline.database.status_queries import EditionState
from festival_pipeline.operations import FestivalYears, festival_label, selected_keys
from festival_pipeline.registry import Festival

T = TypeVar("T")
MISSING = "missing"
OTHER = "other"  # a year's editions announced-not-awarded, no-edition, nothing-to-import, or mixed
RATE_KEYS = ("nomination_match_rate", "film_id_rate", "person_id_rate")


def read(database_url: str, query: Callable[[], T]) -> T:
    """`query()` on the database (created if missing), its schema migrated first only when it has to
    be: a fresh database has no tables, an older one lacks some (the read then fails, and is done
    again after the migration). Alembic costs a third of a second to import, more than the read."""
    connection.ensure_database_exists(database_url)
    try:
        return query()
    except (psycopg2.errors.UndefinedTable, psycopg2.errors.UndefinedColumn):
        from festival_pipeline.database import migrate

        migrate.upgrade(database_url)
        return query()


@dataclass(frozen=True)
class StatusRow:
    festival: str
    year: int
    edition: int | None
    status: str
    error: str | None = None
    rows_written: int | None = None  # nominations in festival_nominations
    rows_listed: int | None = None  # nominations the source listed (parsed snapshot, else recorded)
    rows_match: bool | None = None
    winners: int | None = None
    categories: int | None = None
    nomination_match_rate: float | None = None
    film_id_rate: float | None = None
    person_id_rate: float | None = None
    last_materialized: str | None = None
    stale: bool | None = None
    imdb_source: str | None = None  # IMDb's side from its GraphQL API (graphql) or its event page (pages)
    run_id: str | None = None


def _rows_listed(state: EditionState) -> int | None:
    if state.rows_parsed is not None:
        return state.rows_parsed
    recorded = state.details.get("nominations")
    return int(recorded) if recorded is not None else None


def _row(festival: Festival, state: EditionState) -> StatusRow:
    listed = _rows_listed(state)
    rates = {key: state.details.get(key) for key in RATE_KEYS}
    return StatusRow(
        festival=festival_label(festival), year=state.year, edition=state.edition, status=state.status,
        error=state.error,
        rows_written=state.rows_written if state.has_ceremony else None, rows_listed=listed,
        rows_match=(state.rows_written == listed) if state.has_ceremony and listed is not None else None,
        winners=state.winners if state.has_ceremony else None,
        categories=state.categories if state.has_ceremony else None,
        last_materialized=state.updated_at.isoformat(), stale=state.stale, imdb_source=state.imdb_source,
        run_id=state.run_id, **rates,
    )


def festival_status(database_url: str, festival: Festival, years: list[int] | None = None) -> list[StatusRow]:
    """One row per recorded edition of each selected partition year; `missing` for years never imported."""
    keys = [int(key) for key in selected_keys(festival, years)]
    with connection.transaction(database_url) as cursor:
        states = status_queries.edition_states(cursor, festival.slug, keys)
    by_year: dict[int, list[StatusRow]] = {}
    for state in states:
        by_year.setdefault(state.year, []).append(_row(festival, state))
    label = festival_label(festival)
    return [row for year in keys for row in by_year.get(year, [StatusRow(label, year, None, MISSING)])]


def status_rows(database_url: str, selection: list[FestivalYears]) -> list[StatusRow]:
    return [row for chosen in selection
            for row in festival_status(database_url, chosen.festival, [int(key) for key in chosen.keys])]


@dataclass(frozen=True)
class FestivalSummary:
    """One festival's selected years, counted: the line `status` prints per festival."""

    festival: str
    years: int
    complete: int
    failed: int
    missing: int
    other: int  # announced-not-awarded, no-edition, nothing-to-import (or editions of mixed states)
    last_import: datetime | None
    last_run: str | None


def festival_summaries(database_url: str, selection: list[FestivalYears]) -> list[FestivalSummary]:
    """A line per festival: its years complete, failed, missing, other, and its latest import."""
    with connection.transaction(database_url) as cursor:
        recorded = status_queries.year_outcomes(cursor)
    by_festival: dict[str, dict[int, status_queries.YearOutcome]] = {}
    for outcome in recorded:
        by_festival.setdefault(outcome.slug, {})[outcome.year] = outcome
    summaries = []
    for chosen in selection:
        years = by_festival.get(chosen.festival.slug, {})
        states = Counter(_year_state(years.get(int(key))) for key in chosen.keys)
        seen = [years[int(key)] for key in chosen.keys if int(key) in years]
        latest = max(seen, key=lambda outcome: outcome.updated_at, default=None)
        summaries.append(FestivalSummary(
            festival_label(chosen.festival), len(chosen.keys), states[outcomes.COMPLETE], states[outcomes.FAILED],
            states[MISSING], states[OTHER], latest.updated_at if latest else None,
            latest.run_id if latest else None))
    return summaries


def _year_state(outcome: status_queries.YearOutcome | None) -> str:
    if outcome is None:
        return MISSING
    if outcomes.FAILED in outcome.statuses:
        return outcomes.FAILED
    return outcomes.COMPLETE if set(outcome.statuses) == {outcomes.COMPLETE} else OTHER


def to_json(rows: list[StatusRow]) -> str:
    return json.dumps([asdict(row) for row in rows], indent=2)


def to_csv(rows: list[StatusRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(StatusRow.__dataclass_fields__), lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(row) for row in rows)
    return buffer.getvalue()


STATUS_STYLES = {"complete": "green", "failed": "bold red", MISSING: "yellow", "announced-not-awarded": "cyan",
                 "no-edition": "dim", "nothing-to-import": "dim"}


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _rows_cell(row: StatusRow) -> str:
    if row.rows_written is None:
        return "" if row.rows_listed is None else f"–/{row.rows_listed}"
    text = f"{row.rows_written}/{row.rows_listed if row.rows_listed is not None else '?'}"
    return text if row.rows_match in (True, None) else f"[red]{text}[/red]"


def to_table(rows: list[StatusRow]) -> Table:
    """The human view: one line per edition; errors are listed under the table, not in it.

    rows = nominations written / listed by the source; match, films, people = the share of
    nominations matched to IMDb, of films and of people with IMDb ids; imdb = what served IMDb's
    side (its GraphQL API, or its event pages).
    """
    table = Table(title="festival-pipeline status", box=box.SIMPLE_HEAD)
    for name, justify in (("festival", "left"), ("year", "right"), ("ed.", "right"), ("status", "left"),
                          ("rows", "right"), ("match", "right"), ("films", "right"), ("people", "right"),
                          ("imdb", "left"), ("materialized (UTC)", "left"), ("stale", "left")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in rows:
        style = STATUS_STYLES.get(row.status, "")
        table.add_row(
            row.festival, str(row.year), "" if row.edition is None else str(row.edition),
            f"[{style}]{row.status}[/{style}]" if style else row.status, _rows_cell(row),
            _rate(row.nomination_match_rate), _rate(row.film_id_rate), _rate(row.person_id_rate),
            row.imdb_source or "", _timestamp(row.last_materialized), "[yellow]stale[/yellow]" if row.stale else "",
        )
    return table


def _timestamp(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def errors(rows: list[StatusRow]) -> list[str]:
    return [f"{row.festival} {row.year}/{row.edition}: {row.error}" for row in rows if row.error]


def summary_line(rows: list[StatusRow]) -> str:
    counts = Counter(row.status for row in rows)
    stale = sum(1 for row in rows if row.stale)
    parts = [f"{count} {status}" for status, count in sorted(counts.items())]
    return ", ".join(parts) + (f"; {stale} stale" if stale else "")


def summary_table(summaries: list[FestivalSummary]) -> Table:
    """The view without --festival: a line per festival (`--festival NAME` lists its years)."""
    table = Table(title="festival-pipeline status (per year: --festival NAME)", box=box.SIMPLE_HEAD)
    for name, justify in (("festival", "left"), ("years", "right"), ("complete", "right"), ("failed", "right"),
                          ("missing", "right"), ("other", "right"), ("last import (UTC)", "left"),
                          ("last run", "left")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for line in summaries:
        table.add_row(
            line.festival, str(line.years), _count(line.complete, "green"), _count(line.failed, "bold red"),
            _count(line.missing, "yellow"), str(line.other),
            _timestamp(line.last_import.isoformat() if line.last_import else None), (line.last_run or "")[:8])
    return table


def _count(value: int, style: str) -> str:
    return f"[{style}]{value}[/{style}]" if value else "0"


def render_summary(summaries: list[FestivalSummary], console: Console) -> None:
    console.print(summary_table(summaries))
    totals = [sum(getattr(line, field) for line in summaries) for field in ("years", "complete", "failed", "missing")]
    console.print(f"{len(summaries)} festival(s), {totals[0]} year(s): {totals[1]} complete, {totals[2]} failed, "
                  f"{totals[3]} missing")


def render(rows: list[StatusRow], output_format: str, console: Console) -> None:
    """Print the rows as JSON or CSV (plain, unwrapped), or as a rich table with a count per status."""
    if output_format == "json":
        console.file.write(to_json(rows) + "\n")
    elif output_format == "csv":
        console.file.write(to_csv(rows))
    else:
        console.print(to_table(rows))
        for line in errors(rows):
            console.print(f"[red]error[/red] {line}", soft_wrap=True, markup=True, highlight=False)
        console.print(summary_line(rows))
