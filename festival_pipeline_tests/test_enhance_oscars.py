"""oscars.org + IMDb enhancement (festival_pipeline.enhance.oscars).

Fixture pages are simulator renderings of the BSD-2 DLu/oscar_data TSV. Tests that
need the simulator or the ground truth (../shared) skip when it is absent.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import urllib.request
from collections import Counter

import pytest

from festival_pipeline.enhance.category_types import classify_category
from festival_pipeline.enhance.oscars import (
    enhance_oscars_ceremony,
    imdb_category_display_name,
    imdb_edition_for_ceremony,
    oscars_prize_name,
)
from festival_pipeline.model import CeremonyRecord, nomination_keys
from festival_pipeline.parsers import (
    ImdbEditionPage,
    OscarsCeremonyPage,
    parse_imdb_edition_page,
    parse_oscars_ceremony_page,
)
from festival_pipeline_tests.conftest import SHARED, fixture_page, requires_shared

OSCARS_URL = "https://www.oscars.org/oscars/ceremonies/{year}"
IMDB_URL = "https://www.imdb.com/event/ev0000003/{year}/{instance}/"


def oscars_page(year: int, suffix: str = "") -> OscarsCeremonyPage:
    return parse_oscars_ceremony_page(fixture_page(f"oscars_{year}{suffix}.html"), OSCARS_URL.format(year=year))


def imdb_page(year: int, instance: int = 1, suffix: str = "") -> ImdbEditionPage:
    html = fixture_page(f"imdb_ev0000003_{year}_{instance}{suffix}.html")
    return parse_imdb_edition_page(html, IMDB_URL.format(year=year, instance=instance))


@pytest.fixture(scope="module")
def pages_2024() -> tuple[OscarsCeremonyPage, ImdbEditionPage]:
    return oscars_page(2024), imdb_page(2024)


@pytest.fixture(scope="module")
def record_2024(pages_2024) -> CeremonyRecord:
    return enhance_oscars_ceremony(*pages_2024, page_hashes={"oscars_org": "aa11", "imdb": "bb22"})


def in_category(record: CeremonyRecord, name: str) -> list:
    return [n for n in record.nominations if n.category_name == name]


def replace_nominations(page: ImdbEditionPage, category_text: str, edit) -> ImdbEditionPage:
    """A copy of the IMDb page with one category's nominations replaced by edit(nominations)."""
    categories = tuple(
        dataclasses.replace(c, nominations=tuple(edit(list(c.nominations)))) if c.category == category_text else c
        for c in page.categories
    )
    return dataclasses.replace(page, categories=categories)


# ---------------------------------------------------------------------------
# editions
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("ceremony", "year", "instance"),
    [(1, 1929, 1), (2, 1930, 1), (3, 1930, 2), (4, 1931, 1), (5, 1932, 1), (6, 1934, 1), (7, 1935, 1),
     (96, 2024, 1), (98, 2026, 1)],
)
def test_imdb_edition_for_ceremony_from_the_page_list(ceremony: int, year: int, instance: int) -> None:
    editions = imdb_page(2024).editions  # newest first, as IMDb gives them
    ref = imdb_edition_for_ceremony(editions, ceremony)
    assert (ref.year, ref.instance) == (year, instance)
    assert ref.edition_id


def test_imdb_edition_for_ceremony_ignores_order_and_repeats() -> None:
    editions = list(imdb_page(2024).editions)
    shuffled = editions + editions[:5]
    random.Random(1).shuffle(shuffled)
    for number in (1, 3, 50, 98):
        assert imdb_edition_for_ceremony(shuffled, number) == imdb_edition_for_ceremony(editions, number)
    for bad in (0, len(editions) + 1):
        with pytest.raises(ValueError):
            imdb_edition_for_ceremony(editions, bad)


# ---------------------------------------------------------------------------
# 2024 (96th): the live-like pages
# ---------------------------------------------------------------------------

def test_2024_ceremony_fields(record_2024: CeremonyRecord) -> None:
    r = record_2024
    assert r.organization_slug == "academy-awards"
    assert (r.year, r.edition, r.ceremony_number) == (2024, 1, 96)
    assert r.name == "The 96th Academy Awards"
    assert r.data_source == "oscars.org+imdb"
    assert r.source_urls == (OSCARS_URL.format(year=2024), IMDB_URL.format(year=2024, instance=1))
    assert r.location == "Los Angeles, California, USA"  # oscars.org page has none: IMDb's
    assert r.date is None  # neither page gives a day
    meta = r.source_metadata
    assert meta["page_sha256"] == {"oscars_org": "aa11", "imdb": "bb22"}
    assert meta["parser_version"]
    assert (meta["imdb_year"], meta["imdb_instance"]) == (2024, 1)
    assert meta["imdb_edition_id"].startswith("ee")
    assert not r.announced_not_awarded and not r.nothing_to_import


def test_2024_categories(record_2024: CeremonyRecord, pages_2024) -> None:
    oscars, _ = pages_2024
    both = [c for c in record_2024.categories if c.metadata["source"] == "both"]
    imdb_only = [c for c in record_2024.categories if c.metadata["source"] == "imdb"]
    assert [c.name for c in both] == [c.name for c in oscars.categories]
    assert len(both) == 23
    assert all(c.prize_name == "Oscar" for c in both)
    assert {c.key for c in imdb_only} == {
        ("Honorary Award", "Honorary Award"),
        ("Jean Hersholt Humanitarian Award", "Jean Hersholt Humanitarian Award"),
        ("Scientific and Engineering Award", "Scientific and Engineering Award"),
        ("Technical Achievement Award", "Technical Achievement Award"),
    }
    picture = next(c for c in both if c.name == "Best Picture")
    assert picture.metadata["imdb_name"] == "Best Motion Picture of the Year"
    assert picture.metadata["imdb_award"] == "Oscar"
    assert picture.metadata["term_id"] == "1756"
    assert picture.metadata["canonical"] == "Best Picture"
    assert picture.metadata["oscars_org_name"] == "Best Picture"
    assert (picture.category_type, picture.tracks_person) == ("film", False)
    actor = next(c for c in both if c.name == "Actor in a Leading Role")
    assert actor.metadata["imdb_name"] == "Best Performance by an Actor in a Leading Role"
    assert (actor.category_type, actor.tracks_person) == ("person", True)
    assert len({c.key for c in record_2024.categories}) == len(record_2024.categories)


def test_2024_every_nomination_matched(record_2024: CeremonyRecord, pages_2024) -> None:
    oscars, imdb = pages_2024
    stats = record_2024.match_stats
    assert stats["oscars_org_nominations"] == sum(len(c.honorees) for c in oscars.categories) == 120
    assert stats["nominations_matched"] == 120 and stats["nominations_unmatched"] == 0
    assert stats["nomination_match_rate"] == 1.0
    assert stats["imdb_nominations"] == imdb.nomination_count == 130
    assert stats["imdb_only"] == 10
    assert len(record_2024.nominations) == 130
    assert stats["film_id_rate"] == 1.0 and stats["person_id_rate"] == 1.0
    assert stats["winner_conflicts"] == 0
    sources = Counter(n.details["source"] for n in record_2024.nominations)
    assert sources == {"both": 120, "imdb": 10}
    for n in record_2024.nominations:
        if n.details["source"] == "both":
            assert n.details["match"]["status"] == "matched"
            assert n.details["match"]["score"] >= 80


def test_2024_best_picture(record_2024: CeremonyRecord) -> None:
    noms = in_category(record_2024, "Best Picture")
    assert len(noms) == 10
    (winner,) = [n for n in noms if n.won]
    assert winner.film_title == "Oppenheimer"
    assert winner.film_imdb_ids == ("tt15398776",)
    assert winner.nominee_names == "Emma Thomas, Charles Roven and Christopher Nolan, Producers"
    assert {p["name"] for p in winner.details["people"]} == {"Emma Thomas", "Charles Roven", "Christopher Nolan"}
    assert len(winner.person_imdb_ids) == 3
    assert winner.details["films"] == [{"title": "Oppenheimer", "imdb_id": "tt15398776"}]


def test_2024_song_and_international(record_2024: CeremonyRecord) -> None:
    songs = in_category(record_2024, "Music (Original Song)")
    (won,) = [n for n in songs if n.won]
    assert won.details["song"] == "What Was I Made For?"
    assert won.film_title == "Barbie" and won.film_imdb_ids == ("tt1517268",)
    assert set(won.person_imdb_ids) == {"nm8483808", "nm3906552"}
    assert "song" in won.details["match"]["method"]
    # two songs from Barbie are two nominations
    assert sum(1 for n in songs if n.film_title == "Barbie") == 2
    assert len({n.details["song"] for n in songs}) == len(songs)
    international = in_category(record_2024, "International Feature Film")
    (won,) = [n for n in international if n.won]
    assert won.film_title == "The Zone of Interest"
    assert won.details["country"] == "United Kingdom"
    assert won.film_imdb_ids == ("tt7160372",)


def test_2024_imdb_only_nominations(record_2024: CeremonyRecord) -> None:
    honorary = in_category(record_2024, "Honorary Award")
    assert {n.nominee_names for n in honorary} == {"Angela Bassett", "Mel Brooks", "Carol Littleton"}
    for n in honorary:
        assert n.won and n.details["source"] == "imdb" and n.details["match"]["status"] == "imdb_only"
        assert n.person_imdb_ids and n.details["citation"].startswith("To ")


def test_2024_keys_and_payload(record_2024: CeremonyRecord) -> None:
    identities = [n.identity() for n in record_2024.nominations]
    assert len(set(identities)) == len(identities)
    keys = nomination_keys(list(record_2024.nominations))
    assert len(set(keys)) == len(keys)
    assert CeremonyRecord.from_payload(record_2024.payload()) == record_2024
    # the stored JSON is exactly the dataclass tree (payload() is a shallow, faster asdict)
    stored = json.dumps(record_2024.payload(), ensure_ascii=False, sort_keys=True)
    assert stored == json.dumps(dataclasses.asdict(record_2024), ensure_ascii=False, sort_keys=True)


def test_2024_does_not_depend_on_imdbs_order(pages_2024) -> None:
    """IMDb lists categories and nominees in an order of its own, which changes (the simulator shuffles
    nominees by seed): the nominations of oscars.org's categories keep oscars.org's order, and the
    ceremony holds the same nominations, ids and winners whatever IMDb's order."""
    oscars, imdb = pages_2024
    reordered = dataclasses.replace(imdb, categories=tuple(
        dataclasses.replace(category, nominations=category.nominations[::-1]) for category in imdb.categories[::-1]))
    assert reordered != imdb
    usual, other = (enhance_oscars_ceremony(oscars, page).nominations for page in (imdb, reordered))
    on_oscars_org = [n for n in usual if n.details["match"]["status"] != "imdb_only"]
    assert on_oscars_org == [n for n in other if n.details["match"]["status"] != "imdb_only"] and on_oscars_org
    assert sorted(map(repr, usual)) == sorted(map(repr, other))


# ---------------------------------------------------------------------------
# early ceremonies: multi-film nominations, 1930 held twice
# ---------------------------------------------------------------------------

def test_1930_multi_film_nominations_are_merged() -> None:
    oscars, imdb = oscars_page(1930), imdb_page(1930, 1)
    record = enhance_oscars_ceremony(oscars, imdb)
    assert sum(len(c.honorees) for c in oscars.categories) == 46  # one honoree per film on oscars.org
    assert len(record.nominations) == imdb.nomination_count == 38  # one per nomination
    (clawson,) = [n for n in record.nominations if n.nominee_names == "Elliott Clawson"]
    assert clawson.category_name == "Writing"
    assert clawson.film_title == "The Cop"
    assert clawson.film_imdb_ids == ("tt0018792", "tt0020088", "tt0019348", "tt0019398")
    assert [f["title"] for f in clawson.details["films"]] == ["The Cop", "The Leatherneck", "Sal of Singapore",
                                                               "Skyscraper"]
    assert all(f["imdb_id"] for f in clawson.details["films"])
    assert clawson.person_imdb_ids == ("nm0165470",)
    assert record.match_stats["nominations_matched"] == 38


def test_1931_third_ceremony_second_imdb_edition_of_1930() -> None:
    oscars, imdb = oscars_page(1931), imdb_page(1930, 2)
    record = enhance_oscars_ceremony(oscars, imdb)
    assert (record.year, record.ceremony_number) == (1931, 3)
    assert (record.source_metadata["imdb_year"], record.source_metadata["imdb_instance"]) == (1930, 2)
    assert record.match_stats["nomination_match_rate"] == 1.0
    garbo = [n for n in record.nominations if n.nominee_names == "Greta Garbo"]
    assert len(garbo) == 1 and set(garbo[0].film_imdb_ids) == {"tt0020641", "tt0021310"}


@pytest.mark.parametrize(("year", "imdb_year", "instance"), [(1930, 1930, 1), (1931, 1930, 2), (2024, 2024, 1),
                                                         (2026, 2026, 1)])
def test_category_type_is_the_classification_of_prize_and_name(year: int, imdb_year: int, instance: int) -> None:
    """One category row serves many years: its type may depend on (prize, name) only, never on
    the year's pages or on how the category was paired (the writer relies on it)."""
    record = enhance_oscars_ceremony(oscars_page(year), imdb_page(imdb_year, instance))
    for category in record.categories:
        assert (category.category_type, category.tracks_person) == classify_category(
            category.prize_name, category.name), category.key


# ---------------------------------------------------------------------------
# announced, not awarded
# ---------------------------------------------------------------------------

def test_2026_pre_ceremony_is_announced_not_awarded() -> None:
    record = enhance_oscars_ceremony(oscars_page(2026, "_pre-ceremony"), imdb_page(2026, 1, "_pre-ceremony"))
    assert record.announced_not_awarded
    assert record.nominations and not any(n.won for n in record.nominations)
    assert record.match_stats["nomination_match_rate"] == 1.0


def test_2026_awarded() -> None:
    record = enhance_oscars_ceremony(oscars_page(2026), imdb_page(2026))
    assert not record.announced_not_awarded
    assert any(c.name == "Casting" for c in record.categories)  # new category, paired by name
    assert record.match_stats["nomination_match_rate"] == 1.0


# ---------------------------------------------------------------------------
# imperfect IMDb data
# ---------------------------------------------------------------------------

def test_unmatched_nomination_is_kept_with_reason(pages_2024) -> None:
    oscars, imdb = pages_2024
    without_barbie = replace_nominations(
        imdb, "Best Motion Picture of the Year", lambda noms: [n for n in noms if n.titles[0].title != "Barbie"]
    )
    record = enhance_oscars_ceremony(oscars, without_barbie)
    picture = in_category(record, "Best Picture")
    assert len(picture) == 10
    (barbie,) = [n for n in picture if n.film_title == "Barbie"]
    assert barbie.details["match"]["status"] == "unmatched"
    assert "IMDb lists no further nomination" in barbie.details["match"]["reason"]
    assert barbie.details["source"] == "oscars.org"
    assert barbie.film_imdb_ids == () and barbie.person_imdb_ids == ()
    assert barbie.nominee_names  # as printed on oscars.org
    stats = record.match_stats
    assert stats["nominations_unmatched"] == 1 and stats["nominations_not_on_imdb"] == 1
    assert stats["nomination_match_rate"] == 1.0 and stats["raw_match_rate"] < 1.0
    assert stats["unmatched_by_category"]["Best Picture"][0].startswith("Barbie")


def test_unrecognisable_imdb_nomination_is_not_forced(pages_2024) -> None:
    oscars, imdb = pages_2024

    def garble(noms):
        out = []
        for n in noms:
            if n.titles[0].title == "Barbie":
                t = dataclasses.replace(n.titles[0], title="Xyzzy Plugh", original_title=None)
                n = dataclasses.replace(n, titles=(t,), secondary_names=())
            out.append(n)
        return out

    # two left-overs on each side would be ambiguous; with one left each, "last-remaining"
    # still needs the film or people to agree, and here neither does
    record = enhance_oscars_ceremony(oscars, replace_nominations(imdb, "Best Motion Picture of the Year", garble))
    picture = in_category(record, "Best Picture")
    (barbie,) = [n for n in picture if n.film_title == "Barbie"]
    assert barbie.details["match"]["status"] == "unmatched"
    assert "left" in barbie.details["match"]["reason"]
    (stray,) = [n for n in picture if n.details["source"] == "imdb"]
    assert stray.film_title == "Xyzzy Plugh"
    assert record.match_stats["nomination_match_rate"] < 1.0
    assert record.match_stats["imdb_only_in_paired_categories"] == 1


def test_winner_disagreement_keeps_oscars_org_flag(pages_2024) -> None:
    oscars, imdb = pages_2024
    flipped = replace_nominations(
        imdb, "Best Motion Picture of the Year",
        lambda noms: [dataclasses.replace(n, is_winner=not n.is_winner) for n in noms],
    )
    record = enhance_oscars_ceremony(oscars, flipped)
    picture = in_category(record, "Best Picture")
    assert [n.film_title for n in picture if n.won] == ["Oppenheimer"]
    assert all(n.details["winner_conflict"]["oscars_org"] == n.won for n in picture)
    assert record.match_stats["winner_conflicts"] == 10


def test_spelling_differences_and_order_do_not_matter(pages_2024) -> None:
    oscars, imdb = pages_2024
    rng = random.Random(7)

    def respell(title: str) -> str:
        title = title.upper() if rng.random() < 0.5 else title
        if title.lower().startswith("the "):
            title = f"{title[4:]}, The"
        return title.replace("e", "é", 1)

    categories = []
    for c in reversed(imdb.categories):
        noms = []
        for n in c.nominations:
            titles = tuple(dataclasses.replace(t, title=respell(t.title), original_title=None) for t in n.titles)
            noms.append(dataclasses.replace(n, titles=titles))
        rng.shuffle(noms)
        categories.append(dataclasses.replace(c, nominations=tuple(noms)))
    record = enhance_oscars_ceremony(oscars, dataclasses.replace(imdb, categories=tuple(categories)))
    assert record.match_stats["nominations_matched"] == 120
    assert record.match_stats["film_id_rate"] == 1.0
    picture = in_category(record, "Best Picture")
    assert [n.film_imdb_ids for n in picture if n.won] == [("tt15398776",)]


def test_no_imdb_data_at_all(pages_2024) -> None:
    oscars, imdb = pages_2024
    record = enhance_oscars_ceremony(oscars, dataclasses.replace(imdb, categories=()))
    assert len(record.nominations) == 120
    assert all(n.details["match"]["status"] == "unmatched" for n in record.nominations)
    assert record.match_stats["nominations_matched"] == 0
    assert [c.prize_name for c in record.categories] == ["Oscar"] * 23


def test_prize_names() -> None:
    assert oscars_prize_name("Actor in a Leading Role") == "Oscar"
    assert oscars_prize_name("Honorary Foreign Language Film Award") == "Oscar"  # IMDb: an Oscar category
    assert oscars_prize_name("Irving G. Thalberg Memorial Award") == "Irving G. Thalberg Memorial Award"
    assert oscars_prize_name("Special Achievement Award (Visual Effects)") == "Special Achievement Award"
    assert oscars_prize_name("Special Award") == "Special Award"
    imdb = imdb_page(2024)
    names = {imdb_category_display_name(c) for c in imdb.categories}
    assert {"Best Motion Picture of the Year", "Honorary Award", "Technical Achievement Award"} <= names


# ---------------------------------------------------------------------------
# against the simulator (skipped without ../shared)
# ---------------------------------------------------------------------------

def _fetch(base: str, path: str) -> str:
    with urllib.request.urlopen(base + path) as response:
        return response.read().decode("utf-8")


def _enhance_from_simulator(base: str, ceremony: int) -> CeremonyRecord:
    oscars = parse_oscars_ceremony_page(_fetch(base, f"/oscars/ceremonies/{1928 + ceremony}"),
                                        f"{base}/oscars/ceremonies/{1928 + ceremony}")
    latest = parse_imdb_edition_page(_fetch(base, "/event/ev0000003/"), f"{base}/event/ev0000003/")
    ref = imdb_edition_for_ceremony(latest.editions, ceremony)
    path = f"/event/ev0000003/{ref.year}/{ref.instance}/"
    return enhance_oscars_ceremony(oscars, parse_imdb_edition_page(_fetch(base, path), base + path))


def test_1975_godfather_supporting_actors_stay_three(simulator_url: str) -> None:
    record = _enhance_from_simulator(simulator_url, 47)
    assert record.year == 1975
    godfather = [n for n in in_category(record, "Actor in a Supporting Role") if n.film_imdb_ids == ("tt0071562",)]
    assert sorted(n.nominee_names for n in godfather) == ["Lee Strasberg", "Michael V. Gazzo", "Robert De Niro"]
    assert len({n.person_imdb_ids for n in godfather}) == 3
    assert [n.nominee_names for n in godfather if n.won] == ["Robert De Niro"]
    (de_niro,) = [n for n in godfather if n.won]
    assert de_niro.person_imdb_ids == ("nm0000134",)
    assert len({n.identity() for n in record.nominations}) == len(record.nominations)


@pytest.mark.parametrize("ceremony", [1, 3, 8, 12, 29, 45, 47, 85, 86, 96])
def test_nominations_equal_the_ground_truth(simulator_url: str, ceremony: int) -> None:
    """Every TSV row either site lists is one nomination, with its winner flag and ids."""
    requires_shared()
    sys.path.insert(0, str(SHARED))
    from festival_web.imdb import nomination_entities
    from festival_web.model import Dataset, SimOptions, imdb_award_and_category, on_oscars_site

    cer = Dataset().ceremonies[ceremony]
    opts = SimOptions()
    by_oscars_name, by_imdb_name = {}, {}
    expected: Counter = Counter()
    for cat in cer.categories:
        award, imdb_category = imdb_award_and_category(cat)
        imdb_name = award if imdb_category is None else imdb_category if award == "Oscar" \
            else f"{award} ({imdb_category})"
        by_oscars_name[cat.display_name] = by_imdb_name[imdb_name] = cat.name
        for row in cat.rows:
            entities = nomination_entities(cat, cer, row)
            if entities is None and not on_oscars_site(cat, opts):
                continue
            ids = (frozenset(row.expected_film_ids()), frozenset(row.expected_person_ids())) if entities else None
            expected[(cat.name, ids, row.winner)] += 1
    record = _enhance_from_simulator(simulator_url, ceremony)
    categories = {c.key: c for c in record.categories}
    got: Counter = Counter()
    for n in record.nominations:
        meta = categories[n.category_key].metadata
        tsv_category = by_oscars_name.get(meta["oscars_org_name"]) or by_imdb_name[meta["imdb_name"]]
        ids = None if n.details["source"] == "oscars.org" else (frozenset(n.film_imdb_ids),
                                                                 frozenset(n.person_imdb_ids))
        got[(tsv_category, ids, n.won)] += 1
    assert got == expected


def test_person_spelled_differently_matches_by_unique_film(pages_2024) -> None:
    oscars, imdb = pages_2024

    def rename(noms):
        return [dataclasses.replace(n, names=(dataclasses.replace(n.names[0], name="C. M. Stage-Name"),))
                if n.is_winner else n for n in noms]

    record = enhance_oscars_ceremony(
        oscars, replace_nominations(imdb, "Best Performance by an Actor in a Leading Role", rename))
    (winner,) = [n for n in in_category(record, "Actor in a Leading Role") if n.won]
    assert winner.nominee_names == "Cillian Murphy"
    assert winner.details["match"]["method"] == "unique-film"
    assert winner.film_imdb_ids == ("tt15398776",) and len(winner.person_imdb_ids) == 1
    assert record.match_stats["nominations_matched"] == 120


def test_unknown_imdb_category_name_paired_by_position(pages_2024) -> None:
    oscars, imdb = pages_2024
    renamed = dataclasses.replace(imdb, categories=tuple(
        dataclasses.replace(c, category="Best Audio Achievement") if c.category == "Best Sound" else c
        for c in imdb.categories))
    record = enhance_oscars_ceremony(oscars, renamed)
    sound = next(c for c in record.categories if c.name == "Sound")
    assert sound.metadata["pairing"]["method"] == "position"
    assert sound.metadata["imdb_name"] == "Best Audio Achievement"
    assert record.match_stats["nominations_matched"] == 120
    assert record.match_stats["categories_imdb_only"] == 4
