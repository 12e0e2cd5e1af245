"""Acceptance check: the festival tables against the simulator's ground truth.

Not part of the product (it reads ../shared, which the product never does). Run a full
backfill against the simulator first, then:

    python tools/acceptance_check.py --database-url "$(festival-pipeline db url)" [--festivals]

Oscars: per ceremony and category, every nomination the two sites list (oscars.org scope
'site' plus IMDb-only awards) must be in festival_nominations with the same winner flag and
the same film and person ids. Festivals: per edition, prize and category, the nominated and
winning title ids must equal the Kometa YAML the pages are rendered from.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import psycopg2

SHARED = Path(__file__).resolve().parents[2] / "shared"
sys.path.insert(0, str(SHARED))

from festival_web.festivals import FestivalData  # noqa: E402
from festival_web.imdb import nomination_entities  # noqa: E402
from festival_web.model import Dataset, SimOptions, imdb_award_and_category, on_oscars_site  # noqa: E402


def _imdb_display(category) -> str:
    award, name = imdb_award_and_category(category)
    if name is None:
        return award
    return name if award == "Oscar" else f"{award} ({name})"


def _rows(cursor, slug: str) -> dict[tuple[int, int], list[tuple]]:
    cursor.execute(
        """SELECT fc.year, fc.edition, fc.ceremony_number, c.prize_name, c.name, c.metadata, n.film_imdb_ids,
                  n.person_imdb_ids, n.won
           FROM festival_nominations n JOIN festival_ceremonies fc ON fc.id = n.ceremony_id
           JOIN festival_organizations o ON o.id = fc.organization_id JOIN festival_categories c ON c.id = n.category_id
           WHERE o.slug = %s""",
        (slug,),
    )
    by_edition: dict[tuple[int, int], list[tuple]] = collections.defaultdict(list)
    for year, edition, *rest in cursor.fetchall():
        by_edition[(year, edition)].append(tuple(rest))
    return by_edition


def check_oscars(cursor) -> dict[str, float]:
    dataset, options = Dataset(), SimOptions()
    rows = _rows(cursor, "academy-awards")
    totals: collections.Counter = collections.Counter()
    for number, ceremony in sorted(dataset.ceremonies.items()):
        written = rows.get((1928 + number, 1), [])
        totals["ceremonies_written"] += bool(written)
        tsv_by_name = {c.display_name: c.name for c in ceremony.categories}
        tsv_by_name.update({_imdb_display(c): c.name for c in ceremony.categories})
        expected = collections.Counter()
        for category in ceremony.categories:
            site = on_oscars_site(category, options)
            for row in category.rows:
                entities = nomination_entities(category, ceremony, row)
                if not site and entities is None:
                    continue  # on neither site
                films = frozenset(row.expected_film_ids()) if entities is not None else frozenset()
                people = frozenset(row.expected_person_ids()) if entities is not None else frozenset()
                expected[(category.name, films, people, options.won(ceremony, row))] += 1
                totals["films_listed"] += len(films)
                totals["people_listed"] += len(people)
        got = collections.Counter()
        for _, _, _, metadata, films, people, won in written:
            name = tsv_by_name.get(metadata.get("oscars_org_name")) or tsv_by_name.get(metadata.get("imdb_name"))
            got[(name, frozenset(films), frozenset(people), won)] += 1
        same = expected & got
        totals["nominations_expected"] += sum(expected.values())
        totals["nominations_written"] += sum(got.values())
        totals["nominations_equal"] += sum(same.values())
        totals["winners_expected"] += sum(n for k, n in expected.items() if k[3])
        totals["winners_written"] += sum(n for k, n in got.items() if k[3])
        totals["films_with_ids"] += sum(len(k[1]) * n for k, n in same.items())
        totals["people_with_ids"] += sum(len(k[2]) * n for k, n in same.items())
        if expected != got:
            totals["ceremonies_differing"] += 1
            missing, extra = sum((expected - got).values()), sum((got - expected).values())
            print(f"ceremony {number}: missing {missing}, extra {extra}")
    totals_f = dict(totals)
    totals_f["film_id_rate"] = totals["films_with_ids"] / max(1, totals["films_listed"])
    totals_f["person_id_rate"] = totals["people_with_ids"] / max(1, totals["people_listed"])
    return totals_f


def check_festivals(cursor) -> dict[str, int]:
    from festival_pipeline.registry import FESTIVALS

    data = FestivalData()
    totals: collections.Counter = collections.Counter()
    for festival in (f for f in FESTIVALS if not f.is_oscars):
        rows = _rows(cursor, festival.slug)
        for edition in data.editions[festival.imdb_event_id]:
            expected = {(a.key, c.key): (set(c.nominees), set(c.winners)) for a in edition.awards for c in a.categories}
            got: dict = collections.defaultdict(lambda: (set(), set()))
            for _, prize, name, _, films, _, won in rows.get((edition.year, edition.instance), []):
                nominated, winners = got[(prize.lower(), name.lower())]
                nominated.update(films)
                if won:
                    winners.update(films)
            totals["editions"] += 1
            totals["categories_expected"] += len(expected)
            totals["categories_equal"] += sum(1 for k, v in expected.items() if got.get(k) == v)
            if set(got) != set(expected) or any(got[k] != v for k, v in expected.items()):
                totals["editions_differing"] += 1
                print(f"{festival.slug} {edition.year}/{edition.instance} differs")
    return dict(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--festivals", action="store_true", help="check the 13 IMDb festivals too")
    args = parser.parse_args()
    with psycopg2.connect(args.database_url) as connection, connection.cursor() as cursor:
        print("oscars:", check_oscars(cursor))
        if args.festivals:
            print("festivals:", check_festivals(cursor))


if __name__ == "__main__":
    main()
