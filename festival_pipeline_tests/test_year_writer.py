"""The year replace (database/ceremony_writer.py) against a real PostgreSQL.

Records come from the committed IMDb 2024 page (130 nominations, 27 categories) and oscars.org
2024 page, edited the way the fault proxy edits pages in flight (festival_pipeline_tests/
fault_proxy.py), then parsed and enhanced as the pipeline does. The IMDb page is written as an
IMDb-only festival ("academy-awards" by slug; the writer does not care which path made a record).
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
from collections.abc import Callable

import psycopg2
import pytest

from festival_pipeline.database import connection, migrate, outcomes, status_queries
from festival_pipeline.database.ceremony_writer import (
    PartitionMismatch,
    ShrinkRefused,
    ShrinkReport,
    shrink_report,
    write_year,
)
from festival_pipeline.database.organizations import organization_id
from festival_pipeline.enhance.category_types import classify_category
from festival_pipeline.enhance.imdb_only import imdb_edition_to_ceremony
from festival_pipeline.enhance.oscars import enhance_oscars_ceremony
from festival_pipeline.model import CeremonyRecord
from festival_pipeline.parsers import parse_imdb_edition_page, parse_oscars_ceremony_page
from festival_pipeline_tests.conftest import FIXTURE_PAGES, create_database
from festival_pipeline_tests.fault_proxy import (
    drop_awards,
    drop_categories,
    drop_oscars_categories,
    edit_next_data,
    serve_edition,
    zero_nominations,
)

SLUG = "academy-awards"
IMDB_PATH = "/event/ev0000003/2024/1/"
IMDB_BODY = (FIXTURE_PAGES / "imdb_ev0000003_2024_1.html").read_bytes()
OSCARS_PATH = "/oscars/ceremonies/2024"
OSCARS_BODY = (FIXTURE_PAGES / "oscars_2024.html").read_bytes()
Edit = Callable[[str, bytes], bytes]

DIRECTING = "Best Achievement in Directing"


def unchanged(_path: str, body: bytes) -> bytes:
    return body


def imdb_record(*edits: Edit) -> CeremonyRecord:
    """The IMDb 2024 page after `edits`, parsed and enhanced as an IMDb-only festival edition."""
    body = IMDB_BODY
    for edit in edits:
        body = edit(IMDB_PATH, body)
    page = parse_imdb_edition_page(body.decode("utf-8"), "https://www.imdb.com" + IMDB_PATH)
    return imdb_edition_to_ceremony(page, SLUG, page_hashes={"imdb": "test"})


def oscars_record(oscars_edit: Edit = unchanged) -> CeremonyRecord:
    oscars = parse_oscars_ceremony_page(oscars_edit(OSCARS_PATH, OSCARS_BODY).decode("utf-8"),
                                        "https://www.oscars.org" + OSCARS_PATH)
    imdb = parse_imdb_edition_page(IMDB_BODY.decode("utf-8"), "https://www.imdb.com" + IMDB_PATH)
    return enhance_oscars_ceremony(oscars, imdb)


def category_names(record: CeremonyRecord) -> set[str]:
    return {c.name for c in record.categories}


def category_labels(record: CeremonyRecord) -> set[str]:
    """As a report labels categories: 'prize / name', or the name when the award is the category."""
    return {c.name if c.name == c.prize_name else f"{c.prize_name} / {c.name}" for c in record.categories}


def _nomination_edges(data: dict) -> list[list]:
    return [edge["node"]["nominations"]["edges"]
            for award in data["props"]["pageProps"]["edition"]["awards"]
            for edge in award["nominationCategories"]["edges"]]


def drop_last_nominations(categories: int) -> Edit:
    """The last (non-winning) nomination of each of the first `categories` five-nominee categories."""
    def edit(data: dict) -> None:
        lists = [edges for edges in _nomination_edges(data) if len(edges) == 5][:categories]
        assert len(lists) == categories
        for edges in lists:
            assert not edges[-1]["node"]["isWinner"]
            del edges[-1]
    return edit_next_data(edit)


def rename_first_producer(data: dict) -> None:
    names = _nomination_edges(data)[0][0]["node"]["awardedEntities"]["secondaryAwardNames"]
    names[0]["name"]["nameText"]["text"] += " Jr."


def write(url: str, slug: str, year: int, records: list[CeremonyRecord], accept: bool = False):
    with connection.transaction(url) as cursor:
        return write_year(cursor, slug, year, records, accept_shrink=accept)


def rows(url: str) -> dict[str, list[tuple]]:
    """Every festival row with its id and timestamps, and the outcomes: any write shows."""
    queries = {
        "ceremonies": "SELECT id, year, edition, updated_at, scraped_at, data FROM festival_ceremonies ORDER BY id",
        "categories": """SELECT id, prize_name, name, category_type, tracks_person, metadata, updated_at
                         FROM festival_categories ORDER BY id""",
        "nominations": """SELECT id, ceremony_id, category_id, nomination_key, won, nominee_names, updated_at
                          FROM festival_nominations ORDER BY id""",
        "outcomes": "SELECT year, edition, status, updated_at FROM import_outcomes ORDER BY year, edition",
    }
    with connection.transaction(url) as cursor:
        out = {}
        for name, query in queries.items():
            cursor.execute(query)
            out[name] = cursor.fetchall()
        return out


def year_content(url: str, year: int) -> dict[int, set[tuple]]:
    """edition -> {(prize, category, nomination_key)} of the year."""
    with connection.transaction(url) as cursor:
        cursor.execute("""SELECT c.edition, k.prize_name, k.name, n.nomination_key FROM festival_ceremonies c
                          LEFT JOIN festival_nominations n ON n.ceremony_id = c.id
                          LEFT JOIN festival_categories k ON k.id = n.category_id
                          WHERE c.year = %s""", (year,))
        out: dict[int, set[tuple]] = {}
        for edition, prize, name, key in cursor.fetchall():
            out.setdefault(edition, set())
            if key is not None:
                out[edition].add((prize, name, key))
        return out


def orphan_categories(url: str) -> list[str]:
    with connection.transaction(url) as cursor:
        cursor.execute("""SELECT name FROM festival_categories k WHERE NOT EXISTS
                          (SELECT 1 FROM festival_nominations n WHERE n.category_id = k.id)""")
        return [name for (name,) in cursor.fetchall()]


def assert_refused(url: str, year: int, records: list[CeremonyRecord]) -> ShrinkReport:
    """The write is refused before anything is written; returns the report it carried."""
    before = rows(url)
    with pytest.raises(ShrinkRefused) as refused, connection.transaction(url) as cursor:
        write_year(cursor, SLUG, year, records, accept_shrink=False)
    assert rows(url) == before
    report = refused.value.report
    assert report.substantial
    assert report.describe() in str(refused.value) and "accept_shrink" in str(refused.value)
    return report


@pytest.fixture
def written_2024(festival_database_url: str) -> str:
    """A database holding the full 2024 edition, with its import outcome."""
    result = write(festival_database_url, SLUG, 2024, [imdb_record()])
    assert (result.nominations, result.inserted, result.report.existing_nominations) == (130, 130, 0)
    with connection.transaction(festival_database_url) as cursor:
        outcomes.record_outcome(cursor, organization_id=organization_id(cursor, SLUG), year=2024, edition=1,
                                status=outcomes.COMPLETE)
    return festival_database_url


# --------------------------------------------------------------------------- refused shrinks


def test_an_edition_that_lost_its_awards_is_refused_and_names_every_category(written_2024: str) -> None:
    record = imdb_record(drop_awards())
    assert record.nothing_to_import
    report = assert_refused(written_2024, 2024, [record])
    assert report.all_removed and report.removed_nominations == 130
    assert {c.label for c in report.removed_categories} == category_labels(imdb_record())
    line = report.describe()
    assert line.startswith("academy-awards 2024: 130 of 130 nominations would be removed (100.0%), every row")
    assert "27 whole categories gone: " in line and "and 17 more" in line
    assert "Oscar / Best Motion Picture of the Year" in line and "\n" not in line


def test_an_edition_whose_categories_list_no_nomination_is_refused(written_2024: str) -> None:
    report = assert_refused(written_2024, 2024, [imdb_record(zero_nominations())])
    assert report.all_removed
    assert {c.label for c in report.removed_categories} == category_labels(imdb_record())


def test_half_the_categories_removed_is_refused_and_named(written_2024: str) -> None:
    record = imdb_record(drop_categories())
    gone = category_labels(imdb_record()) - category_labels(record)
    assert len(gone) == 16  # every other of the 23 Oscar categories, and the four one-category awards
    report = assert_refused(written_2024, 2024, [record])
    assert {c.label for c in report.removed_categories} == gone
    assert not report.all_removed and report.removed_nominations == 130 - len(record.nominations)
    assert "16 whole categories gone" in report.describe()


def test_one_category_removed_is_refused(written_2024: str) -> None:
    report = assert_refused(written_2024, 2024, [imdb_record(drop_categories({DIRECTING}))])
    assert [(c.edition, c.label, c.nominations) for c in report.removed_categories] == [
        (1, f"Oscar / {DIRECTING}", 5)]
    assert report.removed_nominations == 5 and report.share_removed < 0.1  # the category alone decides


def test_oscars_org_page_without_half_its_categories_is_refused(festival_database_url: str) -> None:
    full = oscars_record()
    write(festival_database_url, SLUG, 2024, [full])
    half = oscars_record(drop_oscars_categories())
    report = assert_refused(festival_database_url, 2024, [half])
    gone = {c.label for c in report.removed_categories}
    assert "Oscar / Directing" in gone or "Oscar / Actor in a Leading Role" in gone
    assert gone <= category_labels(full)
    assert len(gone) >= 10


def test_more_than_ten_percent_of_the_nominations_is_refused(written_2024: str) -> None:
    """13 of 130 (10 %) lands; 14 (10.8 %) is refused, though no category is emptied."""
    report = assert_refused(written_2024, 2024, [imdb_record(drop_last_nominations(14))])
    assert not report.removed_categories and report.removed_nominations == 14
    assert "14 of 130 nominations would be removed (10.8%)" in report.describe()
    result = write(written_2024, SLUG, 2024, [imdb_record(drop_last_nominations(13))])
    assert (result.deleted, result.nominations, result.report.substantial) == (13, 117, False)


# --------------------------------------------------------------------------- small corrections land


def test_one_nomination_dropped_lands_and_touches_nothing_else(written_2024: str) -> None:
    before = rows(written_2024)
    result = write(written_2024, SLUG, 2024, [imdb_record(drop_last_nominations(1))])
    # the nominations after it on the page move up one position: that is their only change
    assert (result.inserted, result.deleted, result.nominations) == (0, 1, 129)
    after = rows(written_2024)
    values = [row[:6] for row in after["nominations"]]  # without updated_at
    assert len(values) == 129 and set(values) < {row[:6] for row in before["nominations"]}
    untouched = set(after["nominations"]) & set(before["nominations"])
    assert len(untouched) == 129 - result.updated and result.updated < 129
    assert after["categories"] == before["categories"]
    assert write(written_2024, SLUG, 2024, [imdb_record()]).inserted == 1  # and it comes back


def test_a_renamed_nominee_lands(written_2024: str) -> None:
    before = rows(written_2024)
    result = write(written_2024, SLUG, 2024, [imdb_record(edit_next_data(rename_first_producer))])
    assert (result.report.removed_nominations, result.report.added_nominations) == (1, 1)
    assert not result.report.substantial
    assert (result.inserted, result.deleted, result.nominations) == (1, 1, 130)
    kept = set(rows(written_2024)["nominations"]) & set(before["nominations"])
    assert len(kept) == 129  # the other rows keep their ids, values and updated_at


def test_one_nomination_removed_from_a_small_year_lands(festival_database_url: str) -> None:
    """A single nomination is a correction even when it is more than 10 % of a small year."""
    only_actor = drop_categories(category_names(imdb_record()) - {"Best Performance by an Actor in a Leading Role"})
    write(festival_database_url, SLUG, 2024, [imdb_record(only_actor)])
    result = write(festival_database_url, SLUG, 2024, [imdb_record(only_actor, drop_last_nominations(1))])
    assert (result.report.share_removed, result.deleted, result.nominations) == (0.2, 1, 4)


def test_an_unchanged_rerun_changes_no_nomination_or_category(written_2024: str) -> None:
    before = rows(written_2024)
    result = write(written_2024, SLUG, 2024, [imdb_record()])
    assert (result.inserted, result.updated, result.deleted, result.categories_deleted) == (0, 0, 0, 0)
    assert result.report.describe() == "academy-awards 2024: nothing removed, 0 nomination(s) added"
    after = rows(written_2024)
    assert (after["nominations"], after["categories"]) == (before["nominations"], before["categories"])


# --------------------------------------------------------------------------- editions


def test_a_vanished_edition_is_refused_then_deleted_when_accepted(festival_database_url: str) -> None:
    url = festival_database_url
    first, second = imdb_record(), imdb_record(serve_edition(2024, 2))
    assert second.edition == 2
    write(url, SLUG, 2024, [first, second])
    with connection.transaction(url) as cursor:
        for edition in (1, 2):
            outcomes.record_outcome(cursor, organization_id=organization_id(cursor, SLUG), year=2024,
                                    edition=edition, status=outcomes.COMPLETE)
    report = assert_refused(url, 2024, [first])
    assert report.vanished_editions == (2,) and report.removed_nominations == 130
    assert "edition(s) 2024/2 no longer listed by the source" in report.describe()
    assert all(c.edition == 2 for c in report.removed_categories)

    edition_1 = [r for r in rows(url)["nominations"] if r[1] == min(r[1] for r in rows(url)["nominations"])]
    result = write(url, SLUG, 2024, [first], accept=True)
    assert [(e.edition, e.nominations) for e in result.removed_editions] == [(2, 130)]
    assert set(year_content(url, 2024)) == {1}
    assert rows(url)["nominations"] == edition_1  # edition 1 untouched
    assert [(y, e) for y, e, _, _ in rows(url)["outcomes"]] == [(2024, 1)]  # edition 2's outcome went with it


def test_no_edition_for_a_year_with_rows_is_refused_then_empties_the_year_when_accepted(written_2024: str) -> None:
    report = assert_refused(written_2024, 2024, [])
    assert report.vanished_editions == (1,) and report.all_removed
    result = write(written_2024, SLUG, 2024, [], accept=True)
    assert result.editions == () and result.deleted == 130
    assert year_content(written_2024, 2024) == {}
    assert orphan_categories(written_2024) == []
    with connection.transaction(written_2024) as cursor:
        cursor.execute("SELECT count(*) FROM festival_categories")
        assert cursor.fetchone() == (0,)


def test_nothing_to_import_and_no_edition_land_for_a_year_that_never_had_rows(festival_database_url: str) -> None:
    url = festival_database_url
    empty = imdb_record(drop_awards())
    result = write(url, SLUG, 2024, [empty])
    assert [(e.edition, e.nominations) for e in result.editions] == [(1, 0)]
    assert outcomes.written_status(empty) == outcomes.NOTHING_TO_IMPORT
    assert write(url, SLUG, 2023, []).editions == ()
    assert year_content(url, 2024) == {1: set()} and year_content(url, 2023) == {}


def test_records_of_another_partition_are_refused(festival_database_url: str) -> None:
    url = festival_database_url
    other_year = imdb_record(serve_edition(2023))  # the 2024 URL served the 2023 edition
    with pytest.raises(PartitionMismatch, match=r"academy-awards 2024: the parsed edition is academy-awards 2023/1"):
        write(url, SLUG, 2024, [other_year], accept=True)
    with pytest.raises(PartitionMismatch, match="cannes 2024"):
        write(url, "cannes", 2024, [imdb_record()], accept=True)
    with pytest.raises(PartitionMismatch, match=r"edition\(s\) listed twice"):
        write(url, SLUG, 2024, [imdb_record(), imdb_record()], accept=True)
    assert rows(url)["ceremonies"] == []


# --------------------------------------------------------------------------- accepted shrinks and categories


@pytest.mark.parametrize("label", ["no awards", "no nominations", "half the categories", "one category",
                                   "14 nominations", "no edition"])
def test_an_accepted_shrink_lands_exactly_the_new_parse_without_orphans(written_2024: str, label: str) -> None:
    records = {
        "no awards": [imdb_record(drop_awards())],
        "no nominations": [imdb_record(zero_nominations())],
        "half the categories": [imdb_record(drop_categories())],
        "one category": [imdb_record(drop_categories({DIRECTING}))],
        "14 nominations": [imdb_record(drop_last_nominations(14))],
        "no edition": [],
    }[label]
    result = write(written_2024, SLUG, 2024, records, accept=True)
    assert result.report.substantial
    expected = {r.edition: {(n.prize_name, n.category_name, key) for n, key in
                            zip(r.nominations, _keys(r), strict=True)} for r in records}
    assert year_content(written_2024, 2024) == expected
    assert orphan_categories(written_2024) == []
    assert result.categories_deleted == len(result.report.removed_categories)


def _keys(record: CeremonyRecord) -> list[str]:
    from festival_pipeline.model import nomination_keys

    return nomination_keys(list(record.nominations))


def test_categories_still_used_by_another_year_stay(written_2024: str) -> None:
    """Categories are shared by the years of an organization: only the unused ones go."""
    write(written_2024, SLUG, 2023, [imdb_record(serve_edition(2023), drop_categories({"Best Sound"}))])
    result = write(written_2024, SLUG, 2024, [imdb_record(drop_categories({DIRECTING, "Best Sound"}))], accept=True)
    assert result.categories_deleted == 1  # Best Sound; Directing is still a 2023 category
    with connection.transaction(written_2024) as cursor:
        cursor.execute("SELECT name FROM festival_categories WHERE name IN (%s, 'Best Sound')", (DIRECTING,))
        assert cursor.fetchall() == [(DIRECTING,)]


def _with_wrong_types(record: CeremonyRecord) -> CeremonyRecord:
    """As a snapshot from an older classification would say: every category 'special', no person."""
    return dataclasses.replace(record, categories=tuple(
        dataclasses.replace(c, category_type="special", tracks_person=False) for c in record.categories))


def _category_types(url: str) -> set[tuple]:
    with connection.transaction(url) as cursor:
        cursor.execute("SELECT prize_name, name, category_type, tracks_person FROM festival_categories")
        return set(cursor.fetchall())


def test_category_type_does_not_depend_on_the_order_years_are_written(pg_server, festival_database_url: str) -> None:
    other_url = create_database(pg_server)
    migrate.upgrade(other_url)
    old = _with_wrong_types(imdb_record(serve_edition(2023)))
    new = imdb_record()
    write(festival_database_url, SLUG, 2023, [old])
    write(festival_database_url, SLUG, 2024, [new])
    write(other_url, SLUG, 2024, [new])
    write(other_url, SLUG, 2023, [old])
    types = _category_types(festival_database_url)
    assert types == _category_types(other_url)
    assert types == {(p, n, *classify_category(p, n)) for p, n, _, _ in types}
    assert ("Oscar", DIRECTING, "person", True) in types


# --------------------------------------------------------------------------- the report alone, the old entry point


def test_the_report_reads_only_and_equals_the_one_a_refusal_carries(written_2024: str) -> None:
    before = rows(written_2024)
    records = [imdb_record(drop_categories())]
    with connection.transaction(written_2024) as cursor:
        report = shrink_report(cursor, SLUG, 2024, records)
    assert rows(written_2024) == before
    assert assert_refused(written_2024, 2024, records) == report
    # the refusal crosses process boundaries intact (multiprocess executors pickle errors)
    copy = pickle.loads(pickle.dumps(ShrinkRefused(report)))
    assert (copy.report, str(copy)) == (report, str(ShrinkRefused(report)))
    assert report.as_metadata()["removed_categories"][0].startswith("2024/1: ")
    assert report.as_metadata()["substantial"] is True


# --------------------------------------------------------------------------- concurrent writers of one organization


def _only(name: str) -> Edit:
    return drop_categories(category_names(imdb_record()) - {name})


def test_orphan_sweep_skips_a_category_another_writer_is_about_to_use(written_2024: str) -> None:
    """2023 (uncommitted) takes up Directing while 2024 drops it: the sweep of 2024 neither waits
    for the other writer nor deletes the row under it."""
    writer_2023 = psycopg2.connect(written_2024)
    shrinker = psycopg2.connect(written_2024)
    try:
        with writer_2023.cursor() as cursor:
            write_year(cursor, SLUG, 2023, [imdb_record(serve_edition(2023), _only(DIRECTING))], accept_shrink=False)
        with shrinker.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")
            result = write_year(cursor, SLUG, 2024, [imdb_record(drop_categories({DIRECTING}))], accept_shrink=True)
        assert result.categories_deleted == 0
        shrinker.commit()
        writer_2023.commit()
    finally:
        writer_2023.close()
        shrinker.close()
    assert orphan_categories(written_2024) == []
    assert {k[1] for k in year_content(written_2024, 2023)[1]} == {DIRECTING}


def test_a_writer_waits_for_a_sweep_that_deletes_its_category_and_recreates_it(written_2024: str) -> None:
    shrinker = psycopg2.connect(written_2024)
    errors: list[BaseException] = []

    def write_2023() -> None:
        try:
            write(written_2024, SLUG, 2023, [imdb_record(serve_edition(2023), _only(DIRECTING))])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    try:
        with shrinker.cursor() as cursor:
            result = write_year(cursor, SLUG, 2024, [imdb_record(drop_categories({DIRECTING}))], accept_shrink=True)
        assert result.categories_deleted == 1
        other = threading.Thread(target=write_2023)
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive()  # waiting for the sweep's transaction
        shrinker.commit()
        other.join(timeout=30)
        assert not other.is_alive() and not errors, errors
    finally:
        shrinker.close()
    assert {k[1] for k in year_content(written_2024, 2023)[1]} == {DIRECTING}
    assert orphan_categories(written_2024) == []


# --------------------------------------------------------------------------- status queries


def test_no_edition_years_of_the_recent_past(festival_database_url: str) -> None:
    with connection.transaction(festival_database_url) as cursor:
        org = organization_id(cursor, "cannes")
        for year, status in [(1944, outcomes.NO_EDITION), (2019, outcomes.NO_EDITION), (2020, outcomes.NO_EDITION),
                             (2021, outcomes.COMPLETE), (2022, outcomes.NO_EDITION)]:
            outcomes.record_outcome(cursor, organization_id=org, year=year, edition=1, status=status)
        outcomes.record_outcome(cursor, organization_id=organization_id(cursor, "venice"), year=2021, edition=1,
                                status=outcomes.NO_EDITION)
        assert status_queries.no_edition_years(cursor, "cannes", 2020) == [2020, 2022]
        assert status_queries.no_edition_years(cursor, "venice", 2020) == [2021]
        assert status_queries.no_edition_years(cursor, "berlinale", 2020) == []
