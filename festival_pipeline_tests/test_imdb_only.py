"""IMDb-only festivals (festival_pipeline.enhance.imdb_only).

Festival pages are not committed (their data has no licence): they are read from the
simulator's samples in ../shared and the tests skip when those are absent.
"""

from __future__ import annotations

import dataclasses
import urllib.request
from collections import defaultdict

import pytest

from festival_pipeline.checks import rules
from festival_pipeline.enhance.category_types import classify_category
from festival_pipeline.enhance.imdb_only import imdb_edition_to_ceremony
from festival_pipeline.model import CeremonyRecord, nomination_keys
from festival_pipeline.parsers import ImdbEditionPage, parse_imdb_edition_page
from festival_pipeline_tests.conftest import FIXTURE_PAGES, SHARED
from festival_pipeline_tests.fault_proxy import drop_awards, zero_nominations

SAMPLES = SHARED / "festival_web" / "samples"


def sample(evid: str, year: int, instance: int = 1) -> ImdbEditionPage:
    path = SAMPLES / f"imdb_{evid}_{year}_{instance}.html"
    if not path.exists():
        pytest.skip(f"festival sample {path} is absent (../shared/festival_web/samples not available)")
    url = f"https://www.imdb.com/event/{evid}/{year}/{instance}/"
    return parse_imdb_edition_page(path.read_text(encoding="utf-8"), url)


def ids_by_category(page: ImdbEditionPage) -> dict:
    """(award, category name) -> (nominated title ids, winning title ids) as the page lists them."""
    out: dict = defaultdict(lambda: (set(), set()))
    for c in page.categories:
        for n in c.nominations:
            out[(c.award, c.name)][0].update(n.all_title_ids)
            if n.is_winner:
                out[(c.award, c.name)][1].update(n.all_title_ids)
    return dict(out)


def ids_in_record(record: CeremonyRecord) -> dict:
    out: dict = defaultdict(lambda: (set(), set()))
    for n in record.nominations:
        out[n.category_key][0].update(n.film_imdb_ids)
        if n.won:
            out[n.category_key][1].update(n.film_imdb_ids)
    return dict(out)


@pytest.fixture(scope="module")
def cannes_2024() -> ImdbEditionPage:
    return sample("ev0000147", 2024)


def test_cannes_2024(cannes_2024: ImdbEditionPage) -> None:
    record = imdb_edition_to_ceremony(cannes_2024, "cannes")
    assert record.organization_slug == "cannes"
    assert (record.year, record.edition, record.ceremony_number) == (2024, 1, None)
    assert record.name == "Cannes Film Festival 2024"
    assert record.location == "Cannes, France"
    assert record.data_source == "imdb"
    assert record.source_urls == ("https://www.imdb.com/event/ev0000147/2024/1/",)
    assert record.source_metadata["imdb_event_id"] == "ev0000147"
    assert record.source_metadata["imdb_edition_id"] == cannes_2024.edition_id
    assert not record.announced_not_awarded and not record.nothing_to_import
    assert len(record.nominations) == cannes_2024.nomination_count
    assert ids_in_record(record) == ids_by_category(cannes_2024)
    palme = next(c for c in record.categories if c.prize_name == "Palme d'Or")
    # IMDb's category is null: the award is the category
    assert palme.name == "Palme d'Or" and palme.metadata["award_is_category"]
    assert (palme.category_type, palme.tracks_person) == ("film", False)
    winners = [n for n in record.nominations if n.category_key == palme.key and n.won]
    assert [n.film_title for n in winners] == ["Anora"]
    assert winners[0].film_imdb_ids == ("tt28607951",)
    kinds = {c.name: c.category_type for c in record.categories}
    assert kinds["Best Actress"] == "person" and kinds["Best Director"] == "person"


def test_cannes_2024_keys_unique(cannes_2024: ImdbEditionPage) -> None:
    record = imdb_edition_to_ceremony(cannes_2024, "cannes")
    keys = nomination_keys(list(record.nominations))
    assert len(set(keys)) == len(keys)
    assert len({n.identity() for n in record.nominations}) == len(record.nominations)
    assert CeremonyRecord.from_payload(record.payload()) == record


def test_golden_globes_2020_people() -> None:
    page = sample("ev0000292", 2020)
    record = imdb_edition_to_ceremony(page, "golden-globes", page_hashes={"imdb": "cafe"})
    assert record.source_metadata["page_sha256"] == {"imdb": "cafe"}
    assert ids_in_record(record) == ids_by_category(page)
    # person-first: the director is primary, the film secondary - both ids kept
    director = [n for n in record.nominations if n.category_name == "Best Director - Motion Picture" and n.won]
    (mendes,) = director
    assert mendes.details["primary_kind"] == "names"
    assert mendes.person_imdb_ids == ("nm0005222",) and mendes.nominee_names == "Sam Mendes"
    assert mendes.film_imdb_ids == ("tt8579674",) and mendes.film_title == "1917"
    # titles-first with secondary names: the film is primary, the composer secondary
    score = [n for n in record.nominations if n.category_name == "Best Original Score - Motion Picture" and n.won]
    (joker,) = score
    assert joker.details["primary_kind"] == "titles"
    assert joker.film_imdb_ids == ("tt7286456",) and joker.person_imdb_ids == ("nm3723390",)
    assert joker.details["people"] == [{"name": "Hildur Guðnadóttir", "imdb_id": "nm3723390"}]
    stats = record.match_stats
    assert stats["person_first_nominations"] == sum(
        1 for c in page.categories for n in c.nominations if n.primary_kind == "names")
    assert stats["person_ids"] == sum(len(n.all_name_ids) for c in page.categories for n in c.nominations)


def test_second_edition_in_a_year() -> None:
    page = sample("ev0000133", 2016, 2)
    record = imdb_edition_to_ceremony(page, "critics-choice")
    assert (record.year, record.edition) == (2016, 2)
    assert record.name == "Critics Choice Awards 2016 #2"
    assert ids_in_record(record) == ids_by_category(page)


def test_venice_2026_announced_not_awarded() -> None:
    page = sample("ev0000681", 2026)
    record = imdb_edition_to_ceremony(page, "venice")
    assert record.nominations and not any(n.won for n in record.nominations)
    assert record.announced_not_awarded
    assert record.source_metadata["latest_edition"]
    assert record.match_stats["edition_without_winner"]
    golden_lion = next(c for c in record.categories if c.prize_name == "Golden Lion")
    assert golden_lion.name == "Best Film" and not golden_lion.metadata["award_is_category"]


def test_old_edition_without_winner_is_not_pending() -> None:
    """Cannes 1968 was interrupted: an older edition with no winner is final, not 'announced'."""
    page = sample("ev0000681", 2026)
    older = dataclasses.replace(page, year=2025)  # the list still holds 2026: not the newest
    record = imdb_edition_to_ceremony(older, "venice")
    assert not record.announced_not_awarded
    assert record.match_stats["edition_without_winner"]
    assert record.match_stats["categories_without_winner"] == len(record.categories)


def test_edition_without_awards_has_nothing_to_import() -> None:
    page = sample("ev0000598", 1990)
    record = imdb_edition_to_ceremony(page, "actor-awards")
    assert record.nothing_to_import
    assert record.categories == () and record.nominations == ()
    assert not record.announced_not_awarded


def _fetch(base: str, path: str) -> str:
    with urllib.request.urlopen(base + path) as response:
        return response.read().decode("utf-8")


def test_cannes_1968_from_the_simulator(simulator_url: str) -> None:
    path = "/event/ev0000147/1968/1/"
    page = parse_imdb_edition_page(_fetch(simulator_url, path), simulator_url + path)
    record = imdb_edition_to_ceremony(page, "cannes")
    assert record.nominations and not any(n.won for n in record.nominations)
    assert not record.announced_not_awarded  # interrupted festival, not a pending one
    assert record.match_stats["edition_without_winner"]
    assert ids_in_record(record) == ids_by_category(page)


@pytest.mark.parametrize("evid", ["ev0000147", "ev0000681", "ev0000292", "ev0000598"])
def test_every_edition_keeps_the_page_ids(simulator_url: str, evid: str) -> None:
    first = parse_imdb_edition_page(_fetch(simulator_url, f"/event/{evid}/"), f"{simulator_url}/event/{evid}/")
    for ref in first.editions:
        path = f"/event/{evid}/{ref.year}/{ref.instance}/"
        page = parse_imdb_edition_page(_fetch(simulator_url, path), simulator_url + path)
        record = imdb_edition_to_ceremony(page, evid)
        assert ids_in_record(record) == ids_by_category(page), path
        assert len(record.nominations) == page.nomination_count
        assert record.nothing_to_import == (page.nomination_count == 0)


# --------------------------------------------------------------------------- edited pages (committed fixtures)

OSCARS_IMDB_2024 = "https://www.imdb.com/event/ev0000003/2024/1/"


def edited_fixture(edit) -> ImdbEditionPage:
    """The committed IMDb 2024 page after a fault-proxy page edit, parsed."""
    body = edit(OSCARS_IMDB_2024, (FIXTURE_PAGES / "imdb_ev0000003_2024_1.html").read_bytes())
    return parse_imdb_edition_page(body.decode("utf-8"), OSCARS_IMDB_2024)


def test_no_awards_is_nothing_to_import() -> None:
    record = imdb_edition_to_ceremony(edited_fixture(drop_awards()), "academy-awards")
    assert record.nothing_to_import and record.categories == () and record.nominations == ()
    assert not rules.blocking_failures(rules.evaluate(record, match_rate_floor=0.0, require_winners=False))


def test_categories_listing_no_nomination_are_not_an_edition_without_awards() -> None:
    """A page that keeps its categories but lost every nomination is refused by the blocking rules,
    never taken for an edition that lists no awards."""
    page = edited_fixture(zero_nominations())
    assert page.categories and page.nomination_count == 0
    record = imdb_edition_to_ceremony(page, "academy-awards")
    assert not record.nothing_to_import
    assert len(record.categories) == len(page.categories)
    blocked = {o.name for o in rules.blocking_failures(
        rules.evaluate(record, match_rate_floor=0.0, require_winners=False))}
    assert blocked == {"has_categories_and_nominations", "every_category_has_a_nomination"}


def test_category_type_is_the_classification_of_prize_and_name() -> None:
    """The type of a category depends on (prize, name) only, never on the year's page."""
    record = imdb_edition_to_ceremony(edited_fixture(lambda _path, body: body), "academy-awards")
    assert record.categories
    for category in record.categories:
        assert (category.category_type, category.tracks_person) == classify_category(
            category.prize_name, category.name), category.key
