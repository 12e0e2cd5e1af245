"""Writes one year of one festival (the partition) into the unified tables, atomically.

**The year is the unit of replace.** `write_year` makes the year's rows equal to the editions
parsed for it, in the caller's transaction (`connection.transaction`): either every row of
the year is replaced, or nothing changes. Rows are merged, not deleted and re-inserted: a
nomination is identified by its `nomination_key` within its ceremony, so ids stay stable and
a rerun of an unchanged page changes no nomination or category row (the ceremony row records
the new `scraped_at`). Concurrent writers of one year queue on an advisory lock; categories
are upserted in sorted order, so writers of different years never deadlock.

**A shrink is refused unless accepted.** Before writing, `shrink_report` compares the year's
rows with the new parse: what would be removed. A *substantial* shrink - any whole category
of an edition, more than 10 % of the year's nominations (a single nomination is always a
correction), every row of the year, or an edition that vanished from the source - raises
`ShrinkRefused` before anything is written, unless the caller passes ``accept_shrink=True``
(the operator knows the source really changed). A renamed nominee (1 removed + 1 added) or
one nomination added or dropped lands. So "no edition" (``records=[]``) and "nothing to
import" (an edition without nominations) are written only for editions that never had rows.

**Editions that vanish** from the source are deleted with their nominations (only as an
accepted shrink), with their `import_outcomes` row, which would otherwise describe an
edition that no longer exists.

**No orphan categories.** A category row exists because a nomination points to it: after a
write, categories of the organization that no nomination references are deleted. The
`data` JSON of a ceremony is a copy of the parsed record, not a reference (and a listed
category always has a nomination: `every_category_has_a_nomination` is a blocking rule).
Categories a concurrent writer holds locked (it upserted them and is about to reference
them) are skipped, never waited for; a later write removes them if they stay unused.

**Category type.** ``category_type`` and ``tracks_person`` are a pure function of the
category's (prize_name, name): `enhance.category_types.classify_category`. Nothing about a year
enters it, so every year agrees; the writer computes it itself rather than trusting the
record, so a snapshot made by an older parser cannot flip a category shared by many years,
whatever order years are written in. When the classification rules change in code, each
category is updated the next time a year using it is written. (Category ``metadata`` is
different: keys already stored win, new keys are added - the first wording seen stays.)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import execute_values

from festival_pipeline.database.organizations import organization_id
from festival_pipeline.enhance.category_types import classify_category
from festival_pipeline.model import CategoryRecord, CeremonyRecord, nomination_keys

__all__ = [
    "SHRINK_SHARE_LIMIT",
    "EditionChange",
    "EditionWrite",
    "PartitionMismatch",
    "RemovedCategory",
    "RemovedEdition",
    "ShrinkRefused",
    "ShrinkReport",
    "WriteMismatch",
    "YearWriteResult",
    "delete_orphan_categories",
    "lock_year",
    "shrink_report",
    "write_year",
]

# more than this share of a year's nominations removed is a substantial shrink
SHRINK_SHARE_LIMIT = 0.10
_NAMES_IN_DESCRIPTION = 10


# ---------------------------------------------------------------------------
# results and errors
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RemovedCategory:
    """A category that would lose every nomination it has in one edition."""

    edition: int
    prize_name: str
    name: str
    nominations: int  # rows it has in the edition now

    @property
    def label(self) -> str:
        return self.name if self.name == self.prize_name else f"{self.prize_name} / {self.name}"


@dataclass(frozen=True)
class EditionChange:
    edition: int
    existing: int  # nomination rows the edition has now (0 for a new edition)
    removed: int
    added: int
    vanished: bool  # the edition has a ceremony row but no record any more
    new: bool  # the edition has a record but no ceremony row yet


@dataclass(frozen=True)
class ShrinkReport:
    """What writing `records` would remove from the year (read before anything is written)."""

    organization_slug: str
    year: int
    existing_nominations: int
    removed_nominations: int
    added_nominations: int
    removed_categories: tuple[RemovedCategory, ...]  # whole categories, per edition
    editions: tuple[EditionChange, ...]

    @property
    def vanished_editions(self) -> tuple[int, ...]:
        return tuple(e.edition for e in self.editions if e.vanished)

    @property
    def share_removed(self) -> float:
        return self.removed_nominations / self.existing_nominations if self.existing_nominations else 0.0

    @property
    def all_removed(self) -> bool:
        """Every nomination row the year has would go (even if as many new ones come)."""
        return self.existing_nominations > 0 and self.removed_nominations == self.existing_nominations

    @property
    def substantial(self) -> bool:
        return bool(
            self.removed_categories
            or self.vanished_editions
            or self.all_removed
            or (self.removed_nominations > 1 and self.share_removed > SHRINK_SHARE_LIMIT)
        )

    def describe(self) -> str:
        """One line: counts, and up to ten names of the categories that would go."""
        head = f"{self.organization_slug} {self.year}"
        if not self.removed_nominations and not self.vanished_editions:
            return f"{head}: nothing removed, {self.added_nominations} nomination(s) added"
        parts = [f"{self.removed_nominations} of {self.existing_nominations} nominations would be removed "
                 f"({self.share_removed:.1%})" + (", every row of the year" if self.all_removed else "")]
        if self.removed_categories:
            several = len({c.edition for c in self.removed_categories}) > 1 or len(self.editions) > 1
            names = [f"{c.label} [{self.year}/{c.edition}]" if several else c.label
                     for c in self.removed_categories[:_NAMES_IN_DESCRIPTION]]
            count = len(self.removed_categories)
            more = f"; and {count - len(names)} more" if count > len(names) else ""
            parts.append(f"{count} whole categor{'y' if count == 1 else 'ies'} gone: {'; '.join(names)}{more}")
        if self.vanished_editions:
            listed = ", ".join(f"{self.year}/{e}" for e in self.vanished_editions)
            parts.append(f"edition(s) {listed} no longer listed by the source")
        parts.append(f"{self.added_nominations} added")
        return f"{head}: " + ", ".join(parts)

    def as_metadata(self) -> dict[str, Any]:
        """JSON-ready, for check metadata and import_outcomes details."""
        return {
            "existing_nominations": self.existing_nominations,
            "removed_nominations": self.removed_nominations,
            "added_nominations": self.added_nominations,
            "share_removed": round(self.share_removed, 4),
            "all_removed": self.all_removed,
            "removed_categories": [f"{self.year}/{c.edition}: {c.label} ({c.nominations})"
                                   for c in self.removed_categories],
            "vanished_editions": list(self.vanished_editions),
            "substantial": self.substantial,
        }


class ShrinkRefused(Exception):
    """The write would remove a substantial part of the year and was not accepted; nothing was written."""

    def __init__(self, report: ShrinkReport) -> None:
        self.report = report
        super().__init__(f"refused to shrink {report.describe()}; rerun with accept_shrink if the source "
                         "really changed")

    def __reduce__(self):  # keep picklable (multiprocess executors)
        return (type(self), (self.report,))


class PartitionMismatch(ValueError):
    """The records are not the partition's: another festival, another year, or one edition twice."""


class WriteMismatch(RuntimeError):
    """The rows in the table after the write differ from the records (raising rolls the year back)."""


@dataclass(frozen=True)
class EditionWrite:
    edition: int
    ceremony_id: int
    nominations: int  # nomination rows the ceremony has after the write
    categories: int  # distinct categories its nominations use
    inserted: int
    updated: int
    deleted: int


@dataclass(frozen=True)
class RemovedEdition:
    edition: int
    ceremony_id: int
    nominations: int  # nomination rows deleted with it


@dataclass(frozen=True)
class YearWriteResult:
    organization_slug: str
    year: int
    editions: tuple[EditionWrite, ...]  # by edition
    removed_editions: tuple[RemovedEdition, ...]
    categories_inserted: int
    categories_updated: int
    categories_deleted: int  # orphans of the organization removed after the write
    report: ShrinkReport

    @property
    def ceremony_ids(self) -> tuple[int, ...]:
        return tuple(e.ceremony_id for e in self.editions)

    @property
    def nominations(self) -> int:
        return sum(e.nominations for e in self.editions)

    @property
    def inserted(self) -> int:
        return sum(e.inserted for e in self.editions)

    @property
    def updated(self) -> int:
        return sum(e.updated for e in self.editions)

    @property
    def deleted(self) -> int:
        return sum(e.deleted for e in self.editions) + sum(e.nominations for e in self.removed_editions)


# ---------------------------------------------------------------------------
# SQL
# ---------------------------------------------------------------------------

_UPSERT_CEREMONY = """
INSERT INTO festival_ceremonies
    (organization_id, year, edition, ceremony_number, name, date, location, data, data_source,
     source_url, source_urls, scraped_at, source_metadata)
VALUES (%(organization_id)s, %(year)s, %(edition)s, %(ceremony_number)s, %(name)s, %(date)s,
        %(location)s, %(data)s, %(data_source)s, %(source_url)s, %(source_urls)s, %(scraped_at)s,
        %(source_metadata)s)
ON CONFLICT (organization_id, year, edition) DO UPDATE SET
    ceremony_number = EXCLUDED.ceremony_number, name = EXCLUDED.name, date = EXCLUDED.date,
    location = EXCLUDED.location, data = EXCLUDED.data, data_source = EXCLUDED.data_source,
    source_url = EXCLUDED.source_url, source_urls = EXCLUDED.source_urls,
    scraped_at = EXCLUDED.scraped_at, source_metadata = EXCLUDED.source_metadata, updated_at = now()
RETURNING id
"""

# Existing metadata wins key by key, so categories shared by many years do not flip
# between the wording of one year and the next on every rerun. ON CONFLICT DO UPDATE locks
# the row even when the WHERE skips the update: the orphan sweep of a concurrent writer
# skips it until this transaction ends.
_UPSERT_CATEGORIES = """
INSERT INTO festival_categories (organization_id, prize_name, name, tracks_person, category_type, metadata)
VALUES %s
ON CONFLICT (organization_id, prize_name, name) DO UPDATE SET
    tracks_person = EXCLUDED.tracks_person, category_type = EXCLUDED.category_type,
    metadata = EXCLUDED.metadata || festival_categories.metadata, updated_at = now()
WHERE (festival_categories.tracks_person, festival_categories.category_type, festival_categories.metadata)
    IS DISTINCT FROM
      (EXCLUDED.tracks_person, EXCLUDED.category_type, EXCLUDED.metadata || festival_categories.metadata)
RETURNING (xmax = 0) AS inserted
"""

_UPSERT_NOMINATIONS = """
INSERT INTO festival_nominations
    (ceremony_id, category_id, nomination_key, position, won, prize_name, film_title,
     film_imdb_ids, person_imdb_ids, nominee_names, details)
VALUES %s
ON CONFLICT (ceremony_id, nomination_key) DO UPDATE SET
    category_id = EXCLUDED.category_id, position = EXCLUDED.position, won = EXCLUDED.won,
    prize_name = EXCLUDED.prize_name, film_title = EXCLUDED.film_title,
    film_imdb_ids = EXCLUDED.film_imdb_ids, person_imdb_ids = EXCLUDED.person_imdb_ids,
    nominee_names = EXCLUDED.nominee_names, details = EXCLUDED.details, updated_at = now()
WHERE (festival_nominations.category_id, festival_nominations.position, festival_nominations.won,
       festival_nominations.prize_name, festival_nominations.film_title,
       festival_nominations.film_imdb_ids, festival_nominations.person_imdb_ids,
       festival_nominations.nominee_names, festival_nominations.details)
    IS DISTINCT FROM
      (EXCLUDED.category_id, EXCLUDED.position, EXCLUDED.won, EXCLUDED.prize_name,
       EXCLUDED.film_title, EXCLUDED.film_imdb_ids, EXCLUDED.person_imdb_ids,
       EXCLUDED.nominee_names, EXCLUDED.details)
RETURNING (xmax = 0) AS inserted
"""

_EXISTING_ROWS = """
SELECT c.edition, n.nomination_key, k.prize_name, k.name
FROM festival_ceremonies c
LEFT JOIN festival_nominations n ON n.ceremony_id = c.id
LEFT JOIN festival_categories k ON k.id = n.category_id
WHERE c.organization_id = %s AND c.year = %s
ORDER BY c.edition, n.position
"""

# SKIP LOCKED: a category a concurrent writer has upserted (and will reference once it
# commits) is left alone instead of waited for or deleted under it
_DELETE_ORPHAN_CATEGORIES = """
DELETE FROM festival_categories WHERE id IN (
    SELECT k.id FROM festival_categories k
    WHERE k.organization_id = %s
      AND NOT EXISTS (SELECT 1 FROM festival_nominations n WHERE n.category_id = k.id)
    FOR UPDATE SKIP LOCKED)
"""


# ---------------------------------------------------------------------------
# the shrink report
# ---------------------------------------------------------------------------

def lock_year(cursor: Cursor, org_id: int, year: int) -> None:
    """Serialise concurrent writers of the same year (the partition) until the transaction ends."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", (org_id, year))


def _new_rows(records: Sequence[CeremonyRecord]) -> dict[int, dict[str, tuple[str, str]]]:
    """edition -> nomination_key -> category key, as write_year would write them."""
    return {
        record.edition: dict(zip(nomination_keys(list(record.nominations)),
                                 (n.category_key for n in record.nominations), strict=True))
        for record in records
    }


def _report(cursor: Cursor, org_id: int, slug: str, year: int, records: Sequence[CeremonyRecord]) -> ShrinkReport:
    cursor.execute(_EXISTING_ROWS, (org_id, year))
    existing: dict[int, dict[str, tuple[str, str]]] = {}
    for edition, key, prize, name in cursor.fetchall():
        rows = existing.setdefault(edition, {})
        if key is not None:
            rows[key] = (prize, name)
    new = _new_rows(records)
    changes, removed_categories = [], []
    for edition in sorted(existing.keys() | new.keys()):
        old_rows, new_rows = existing.get(edition, {}), new.get(edition, {})
        removed = old_rows.keys() - new_rows.keys()
        kept_categories = set(new_rows.values())
        lost: dict[tuple[str, str], int] = {}  # in page order: rows come by position
        for category in old_rows.values():
            if category not in kept_categories:
                lost[category] = lost.get(category, 0) + 1
        removed_categories.extend(RemovedCategory(edition, prize, name, count)
                                  for (prize, name), count in lost.items())
        changes.append(EditionChange(
            edition=edition, existing=len(old_rows), removed=len(removed),
            added=len(new_rows.keys() - old_rows.keys()),
            vanished=edition in existing and edition not in new, new=edition not in existing,
        ))
    return ShrinkReport(
        organization_slug=slug,
        year=year,
        existing_nominations=sum(c.existing for c in changes),
        removed_nominations=sum(c.removed for c in changes),
        added_nominations=sum(c.added for c in changes),
        removed_categories=tuple(removed_categories),
        editions=tuple(changes),
    )


def _check_partition(slug: str, year: int, records: Sequence[CeremonyRecord]) -> None:
    editions = [r.edition for r in records]
    for record in records:
        if record.organization_slug != slug or record.year != year:
            raise PartitionMismatch(
                f"{slug} {year}: the parsed edition is {record.organization_slug} {record.year}/{record.edition}, "
                "not one of this partition (did the source serve another year's page?)")
        if record.edition < 1:
            raise PartitionMismatch(f"{slug} {year}: edition {record.edition} is not a positive number")
    if len(set(editions)) != len(editions):
        raise PartitionMismatch(f"{slug} {year}: edition(s) listed twice: {sorted(editions)}")


def shrink_report(cursor: Cursor, slug: str, year: int, records: Sequence[CeremonyRecord]) -> ShrinkReport:
    """What `write_year(cursor, slug, year, records, ...)` would remove; reads only.

    For an asset check before the write; `write_year` computes it again under its lock.
    Raises PartitionMismatch when a record is not of (slug, year) or an edition is listed twice.
    """
    _check_partition(slug, year, records)
    return _report(cursor, organization_id(cursor, slug), slug, year, records)


# ---------------------------------------------------------------------------
# the write
# ---------------------------------------------------------------------------

def _category_row(org_id: int, category: CategoryRecord) -> tuple:
    category_type, tracks_person = classify_category(category.prize_name, category.name)
    return (org_id, category.prize_name, category.name, tracks_person, category_type,
            json.dumps(category.metadata, sort_keys=True))


def _upsert_categories(
    cursor: Cursor, org_id: int, records: Sequence[CeremonyRecord]
) -> tuple[dict[tuple[str, str], int], int, int]:
    """Upsert the categories the records' nominations use; (ids by key, inserted, updated)."""
    listed: dict[tuple[str, str], CategoryRecord] = {}
    for record in records:
        for category in record.categories:
            listed.setdefault(category.key, category)
    used = {n.category_key for record in records for n in record.nominations}
    if missing := sorted(used - listed.keys()):
        raise ValueError(f"nominations in categories the record does not list: {missing[:5]}")
    # sorted, so concurrent writers lock shared category rows in the same order (no deadlock)
    rows = [_category_row(org_id, listed[key]) for key in sorted(used)]
    changed = (execute_values(cursor, _UPSERT_CATEGORIES, rows, template="(%s, %s, %s, %s, %s, %s::jsonb)",
                              fetch=True) if rows else [])
    inserted = sum(1 for (was_inserted,) in changed if was_inserted)
    cursor.execute("SELECT prize_name, name, id FROM festival_categories WHERE organization_id = %s", (org_id,))
    ids = {(prize, name): category_id for prize, name, category_id in cursor.fetchall()}
    return ids, inserted, len(changed) - inserted


def _write_edition(
    cursor: Cursor, org_id: int, record: CeremonyRecord, category_ids: dict[tuple[str, str], int],
    scraped_at: datetime,
) -> EditionWrite:
    cursor.execute(
        _UPSERT_CEREMONY,
        {
            "organization_id": org_id,
            "year": record.year,
            "edition": record.edition,
            "ceremony_number": record.ceremony_number,
            "name": record.name,
            "date": record.date,
            "location": record.location,
            "data": json.dumps(record.payload(), ensure_ascii=False, sort_keys=True),
            "data_source": record.data_source,
            "source_url": record.source_urls[0] if record.source_urls else None,
            "source_urls": list(record.source_urls),
            "scraped_at": scraped_at,
            "source_metadata": json.dumps(record.source_metadata, sort_keys=True),
        },
    )
    ceremony_id = cursor.fetchone()[0]
    keys = nomination_keys(list(record.nominations))
    rows = [
        (
            ceremony_id,
            category_ids[nomination.category_key],
            key,
            position,
            nomination.won,
            nomination.prize_name,
            nomination.film_title,
            list(nomination.film_imdb_ids),
            list(nomination.person_imdb_ids),
            nomination.nominee_names,
            json.dumps(nomination.details, ensure_ascii=False, sort_keys=True),
        )
        for position, (key, nomination) in enumerate(zip(keys, record.nominations, strict=True))
    ]
    changed = (
        execute_values(
            cursor,
            _UPSERT_NOMINATIONS,
            rows,
            template="(%s, %s, %s, %s, %s, %s, %s, %s::text[], %s::text[], %s, %s::jsonb)",
            fetch=True,
            page_size=1000,
        )
        if rows
        else []
    )
    inserted = sum(1 for (was_inserted,) in changed if was_inserted)
    cursor.execute(
        "DELETE FROM festival_nominations WHERE ceremony_id = %s AND NOT (nomination_key = ANY(%s))",
        (ceremony_id, keys),
    )
    deleted = cursor.rowcount
    cursor.execute("SELECT count(*), count(DISTINCT category_id) FROM festival_nominations WHERE ceremony_id = %s",
                   (ceremony_id,))
    nominations, categories = cursor.fetchone()
    if nominations != len(record.nominations):
        raise WriteMismatch(f"{record.organization_slug} {record.year}/{record.edition}: wrote {nominations} "
                            f"nominations, parsed {len(record.nominations)}")
    return EditionWrite(edition=record.edition, ceremony_id=ceremony_id, nominations=nominations,
                        categories=categories, inserted=inserted, updated=len(changed) - inserted, deleted=deleted)


def _remove_vanished_editions(cursor: Cursor, org_id: int, year: int, keep: list[int]) -> tuple[RemovedEdition, ...]:
    cursor.execute(
        """SELECT c.id, c.edition, count(n.id) FROM festival_ceremonies c
           LEFT JOIN festival_nominations n ON n.ceremony_id = c.id
           WHERE c.organization_id = %s AND c.year = %s AND NOT (c.edition = ANY(%s))
           GROUP BY c.id, c.edition ORDER BY c.edition""",
        (org_id, year, keep),
    )
    removed = tuple(RemovedEdition(edition=edition, ceremony_id=ceremony_id, nominations=count)
                    for ceremony_id, edition, count in cursor.fetchall())
    if removed:
        ids = [r.ceremony_id for r in removed]
        cursor.execute("DELETE FROM festival_nominations WHERE ceremony_id = ANY(%s)", (ids,))
        cursor.execute("DELETE FROM festival_ceremonies WHERE id = ANY(%s)", (ids,))
        cursor.execute("DELETE FROM import_outcomes WHERE organization_id = %s AND year = %s AND edition = ANY(%s)",
                       (org_id, year, [r.edition for r in removed]))
    return removed


def delete_orphan_categories(cursor: Cursor, org_id: int) -> int:
    """Delete the organization's categories no nomination references (see the module doc)."""
    cursor.execute(_DELETE_ORPHAN_CATEGORIES, (org_id,))
    return cursor.rowcount


def write_year(
    cursor: Cursor,
    slug: str,
    year: int,
    records: Sequence[CeremonyRecord],
    *,
    accept_shrink: bool,
    scraped_at: datetime | None = None,
) -> YearWriteResult:
    """Replace the year of festival `slug` with `records` (every edition parsed for it).

    ``records=[]`` means the source lists no edition this year: the year's editions are
    deleted, which is a shrink like any other when they have rows. Raises PartitionMismatch
    (a record of another festival or year, an edition twice), ShrinkRefused (a substantial
    shrink, not accepted: nothing written), WriteMismatch (rows after the write differ from
    the records). Any exception leaves the caller's transaction to roll back.
    """
    _check_partition(slug, year, records)
    org_id = organization_id(cursor, slug)
    lock_year(cursor, org_id, year)
    report = _report(cursor, org_id, slug, year, records)
    if report.substantial and not accept_shrink:
        raise ShrinkRefused(report)
    ordered = sorted(records, key=lambda r: r.edition)
    category_ids, categories_inserted, categories_updated = _upsert_categories(cursor, org_id, ordered)
    when = scraped_at or datetime.now(UTC)
    editions = tuple(_write_edition(cursor, org_id, record, category_ids, when) for record in ordered)
    removed = _remove_vanished_editions(cursor, org_id, year, [r.edition for r in ordered])
    return YearWriteResult(
        organization_slug=slug,
        year=year,
        editions=editions,
        removed_editions=removed,
        categories_inserted=categories_inserted,
        categories_updated=categories_updated,
        categories_deleted=delete_orphan_categories(cursor, org_id),
        report=report,
    )
