"""Tests for the IMDb event edition page parser.

Fixtures in fixtures/pages are simulator renderings of the BSD-2 DLu/oscar_data
TSV. Festival pages (other events) are read from the simulator's samples folder
and the real capture from ../shared/captures; those tests skip when absent.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from festival_pipeline.parsers import (
    ImdbEditionPage,
    PageParseError,
    extract_next_data,
    parse_imdb_edition_page,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"
SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared beside the checkout
SHARED_SAMPLES = SHARED / "festival_web" / "samples"
TSV = SHARED / "data" / "oscar_data" / "oscars.tsv"
CAPTURE = SHARED / "captures" / "imdb" / "ev0000003_2024_1.html"

URL_2024 = "https://www.imdb.com/event/ev0000003/2024/1/"
_SCRIPT_RE = re.compile(r'(<script id="__NEXT_DATA__" type="application/json">)(.*?)(</script>)', re.DOTALL)


def page_html(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def with_next_data(html: str, mutate: Callable[[dict], Any]) -> str:
    """The page with its __NEXT_DATA__ JSON changed in place by ``mutate``."""
    match = _SCRIPT_RE.search(html)
    assert match, "fixture has no __NEXT_DATA__"
    data = json.loads(match.group(2))
    mutate(data)
    body = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return html[: match.start(2)] + body + html[match.end(2):]


def awards_of(data: dict) -> list:
    return data["props"]["pageProps"]["edition"]["awards"]


def first_nomination(data: dict) -> dict:
    return awards_of(data)[0]["nominationCategories"]["edges"][0]["node"]["nominations"]["edges"][0]["node"]


@pytest.fixture(scope="module")
def page_2024() -> ImdbEditionPage:
    return parse_imdb_edition_page(page_html("imdb_ev0000003_2024_1.html"), URL_2024)


# ---------------------------------------------------------------------------
# Academy Awards pages
# ---------------------------------------------------------------------------

def test_2024_edition_info(page_2024):
    assert page_2024.url == URL_2024
    assert page_2024.event_id == "ev0000003"
    assert page_2024.event_name == "Academy Awards, USA"
    assert (page_2024.year, page_2024.instance) == (2024, 1)
    assert page_2024.edition_id and page_2024.edition_id.startswith("ee")
    assert page_2024.location == "Los Angeles, California, USA"
    # the simulator gives the year only: no ISO date is invented
    assert (page_2024.start_date, page_2024.end_date) == (None, None)


def test_2024_categories_award_by_award(page_2024):
    first = page_2024.categories[0]
    assert (first.award, first.category) == ("Oscar", "Best Motion Picture of the Year")
    assert first.award_id and first.award_id.startswith("aw")
    awards = list(dict.fromkeys(c.award for c in page_2024.categories))
    assert awards == ["Oscar", "Honorary Award", "Jean Hersholt Humanitarian Award",
                      "Scientific and Engineering Award", "Technical Achievement Award"]
    oscar = [c.category for c in page_2024.categories if c.award == "Oscar"]
    assert len(oscar) == 23
    assert oscar[1:3] == ["Best Performance by an Actor in a Leading Role",
                          "Best Performance by an Actress in a Leading Role"]
    assert oscar[-1] == "Best International Feature Film"
    assert page_2024.nomination_count == 130


def test_null_category_means_the_award_is_the_category(page_2024):
    honorary = [c for c in page_2024.categories if c.award == "Honorary Award"]
    assert len(honorary) == 1
    assert honorary[0].category is None
    assert honorary[0].name == "Honorary Award"
    names = [n.names[0].name for n in honorary[0].nominations]
    assert names == ["Angela Bassett", "Mel Brooks", "Carol Littleton"]
    assert all(n.primary_kind == "names" and n.is_winner for n in honorary[0].nominations)


def test_2024_best_picture_winner(page_2024):
    best_picture = page_2024.categories[0]
    winners = [n for n in best_picture.nominations if n.is_winner]
    assert len(winners) == 1
    (oppenheimer,) = winners
    assert oppenheimer.primary_kind == "titles"
    assert [(t.id, t.title) for t in oppenheimer.titles] == [("tt15398776", "Oppenheimer")]
    assert [n.id for n in oppenheimer.secondary_names] == ["nm0858799", "nm0746273", "nm0634240"]
    assert oppenheimer.all_title_ids == ("tt15398776",)
    assert oppenheimer.notes is None
    assert len(best_picture.nominations) == 10
    assert sum(n.is_winner for n in best_picture.nominations) == 1


def test_acting_nominations_are_person_first(page_2024):
    actor = page_2024.categories[1]
    winner = actor.nominations[0]
    assert winner.is_winner
    assert winner.primary_kind == "names"
    assert [(n.id, n.name) for n in winner.names] == [("nm0614165", "Cillian Murphy")]
    assert [t.id for t in winner.secondary_titles] == ["tt15398776"]
    assert winner.all_name_ids == ("nm0614165",)
    assert winner.all_title_ids == ("tt15398776",)


def test_song_and_international_notes(page_2024):
    by_name = {c.name: c for c in page_2024.categories}
    song = by_name["Best Achievement in Music Written for Motion Pictures (Original Song)"].nominations[0]
    assert song.is_winner and song.notes == 'For "What Was I Made For?"'
    assert [t.title for t in song.titles] == ["Barbie"]
    international = by_name["Best International Feature Film"].nominations[0]
    assert international.notes == "United Kingdom"
    assert [t.id for t in international.titles] == ["tt7160372"]


def test_every_category_has_a_winner_in_2024(page_2024):
    assert all(any(n.is_winner for n in c.nominations) for c in page_2024.categories)


def test_history_event_editions(page_2024):
    editions = page_2024.editions
    assert len(editions) == 98
    assert (editions[0].year, editions[-1].year) == (2026, 1929)  # newest first
    by_year = Counter(e.year for e in editions)
    assert by_year[1930] == 2
    assert sorted(e.instance for e in editions if e.year == 1930) == [1, 2]
    assert 1933 not in by_year
    assert len({e.edition_id for e in editions}) == 98
    assert page_2024.edition_id in {e.edition_id for e in editions}


@pytest.mark.parametrize(("fixture", "instance", "n_categories"), [
    ("imdb_ev0000003_1930_1.html", 1, 7),
    ("imdb_ev0000003_1930_2.html", 2, 8),
])
def test_two_editions_in_1930(fixture, instance, n_categories):
    page = parse_imdb_edition_page(page_html(fixture), f"https://www.imdb.com/event/ev0000003/1930/{instance}/")
    assert (page.year, page.instance, len(page.categories)) == (1930, instance, n_categories)


def test_2026_pre_ceremony_has_no_winners():
    pre = parse_imdb_edition_page(page_html("imdb_ev0000003_2026_1_pre-ceremony.html"), "u")
    served = parse_imdb_edition_page(page_html("imdb_ev0000003_2026_1.html"), "u")
    assert pre.nomination_count == served.nomination_count == 129
    assert not any(n.is_winner for c in pre.categories for n in c.nominations)
    assert any(n.is_winner for c in served.categories for n in c.nominations)


def test_extract_next_data_ignores_other_json_scripts():
    data = extract_next_data(page_html("imdb_ev0000003_2024_1.html"), URL_2024)
    assert data["page"] == "/event/[evconst]/[year]/[instance]"
    assert "edition" in data["props"]["pageProps"]


def test_all_ids_deduplicated_in_order():
    def duplicate_title(data: dict) -> None:
        ent = first_nomination(data)["awardedEntities"]
        ent["secondaryAwardNames"].append(ent["secondaryAwardNames"][0])

    page = parse_imdb_edition_page(with_next_data(page_html("imdb_ev0000003_2024_1.html"), duplicate_title), "u")
    nomination = page.categories[0].nominations[0]
    assert len(nomination.secondary_names) == 4
    assert nomination.all_name_ids == ("nm0858799", "nm0746273", "nm0634240")


def test_full_dates_and_name_notes():
    def live_like(data: dict) -> None:
        start = data["props"]["pageProps"]["editionInfo"]["dateRange"]["startDate"]["dateComponents"]
        start.update(day=10, month=3)
        nomination = first_nomination(data)
        nomination["awardedEntities"]["secondaryAwardNames"][0]["note"] = {"plainText": "(producer)"}

    page = parse_imdb_edition_page(with_next_data(page_html("imdb_ev0000003_2024_1.html"), live_like), "u")
    assert (page.start_date, page.end_date) == ("2024-03-10", None)
    assert page.categories[0].nominations[0].secondary_names[0].note == "(producer)"


def test_a_paginated_category_fails_the_page():
    """hasNextPage: the rest of the category is on a page that cannot be fetched here; a partial
    category would delete the nominations of that next page when written."""
    def paginated(data: dict) -> None:
        node = awards_of(data)[0]["nominationCategories"]["edges"][1]["node"]
        node["nominations"]["edges"] = node["nominations"]["edges"][:3]
        node["nominations"]["pageInfo"]["hasNextPage"] = True

    html = with_next_data(page_html("imdb_ev0000003_2024_1.html"), paginated)
    with pytest.raises(PageParseError) as err:
        parse_imdb_edition_page(html, URL_2024)
    assert err.value.url == URL_2024
    reason = err.value.reason
    assert "'Oscar / Best Performance by an Actor in a Leading Role' lists 3 nominations and more on a next page" \
        in reason
    assert "hasNextPage" in reason and "a partial category is never written" in reason


def test_without_the_edition_list_the_page_fails():
    """Without historyEventEditions every year would look like a year without an edition."""
    def drop(data: dict) -> None:
        del data["props"]["pageProps"]["historyEventEditions"]

    with pytest.raises(PageParseError) as err:
        parse_imdb_edition_page(with_next_data(page_html("imdb_ev0000003_2024_1.html"), drop), URL_2024)
    assert err.value.url == URL_2024
    assert err.value.reason.startswith("no edition list: props.pageProps.historyEventEditions is missing")


@pytest.mark.parametrize(("value", "message"), [
    ([], "historyEventEditions is empty"),
    (None, "historyEventEditions is null, expected list"),
    ("2024/1", "historyEventEditions is str, expected list"),
])
def test_an_empty_or_mistyped_edition_list_fails_the_page(value, message):
    html = with_next_data(page_html("imdb_ev0000003_2024_1.html"), _set("props.pageProps.historyEventEditions", value))
    with pytest.raises(PageParseError, match=re.escape(message)) as err:
        parse_imdb_edition_page(html, URL_2024)
    assert err.value.url == URL_2024


def test_empty_awards_list_is_a_valid_edition():
    def empty(data: dict) -> None:
        data["props"]["pageProps"]["edition"]["awards"] = []

    page = parse_imdb_edition_page(with_next_data(page_html("imdb_ev0000003_2024_1.html"), empty), URL_2024)
    assert page.categories == ()
    assert len(page.editions) == 98


def test_event_id_falls_back_to_url():
    def no_route(data: dict) -> None:
        data.pop("query")
        data["props"]["pageProps"].pop("requestContext")

    html = with_next_data(page_html("imdb_ev0000003_2024_1.html"), no_route)
    assert parse_imdb_edition_page(html, URL_2024).event_id == "ev0000003"
    assert parse_imdb_edition_page(html, "file:///tmp/page.html").event_id is None


# ---------------------------------------------------------------------------
# strictness
# ---------------------------------------------------------------------------

def test_404_page_raises():
    url = "https://www.imdb.com/event/ev0000003/1933/1/"
    with pytest.raises(PageParseError, match="statusCode 404") as err:
        parse_imdb_edition_page(page_html("imdb_404.html"), url)
    assert err.value.url == url
    assert str(err.value).startswith(f"cannot parse {url}: ")


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.9])
def test_truncated_page_raises(fraction):
    html = page_html("imdb_ev0000003_2024_1.html")
    script_end = html.index("</script>", html.index("__NEXT_DATA__"))
    cut = int(script_end * fraction)
    with pytest.raises(PageParseError):
        parse_imdb_edition_page(html[:cut], URL_2024)


def test_missing_next_data_raises_even_with_other_json_scripts():
    html = page_html("imdb_ev0000003_2024_1.html").replace('id="__NEXT_DATA__"', 'id="__OTHER_DATA__"')
    assert 'id="imdb-ads-config"' in html
    with pytest.raises(PageParseError, match="no __NEXT_DATA__"):
        parse_imdb_edition_page(html, URL_2024)


def test_next_data_not_json_raises():
    html = _SCRIPT_RE.sub(r"\1{not json\3", page_html("imdb_ev0000003_2024_1.html"))
    with pytest.raises(PageParseError, match="not valid JSON"):
        parse_imdb_edition_page(html, URL_2024)


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        holder, key = data, None
        parts = path.split(".")
        for part in parts[:-1]:
            holder = holder[int(part)] if isinstance(holder, list) else holder[part]
        key = parts[-1]
        holder[int(key) if isinstance(holder, list) else key] = value
    return mutate


NOMINATION = "props.pageProps.edition.awards.0.nominationCategories.edges.0.node.nominations.edges.0.node"


@pytest.mark.parametrize(("path", "value", "message"), [
    ("props.pageProps.edition.awards", {"0": "x"}, "edition.awards is dict, expected list"),
    ("props.pageProps.edition.awards", None, "edition.awards is null, expected list"),
    ("props.pageProps.edition.awards.0", "Oscar", "edition.awards[0] is str, expected dict"),
    ("props.pageProps.edition.awards.0.text", 7, "edition.awards[0].text is int"),
    (f"{NOMINATION}.isWinner", "true", "isWinner is str, expected bool"),
    (f"{NOMINATION}.isWinner", 1, "isWinner is int, expected bool"),
    (f"{NOMINATION}.isWinner", None, "isWinner is null, expected bool"),
    (f"{NOMINATION}.awardedEntities.awardTitles", {"title": {}}, "awardTitles is dict, expected list"),
    (f"{NOMINATION}.awardedEntities.awardTitles.0.title.id", 15398776, "title.id is int, expected str"),
    ("props.pageProps.editionInfo.year", "2024", "editionInfo.year is str, expected int"),
    ("props.pageProps.editionInfo.instanceWithinYear", True, "instanceWithinYear is bool, expected int"),
    ("props.pageProps.historyEventEditions", {}, "historyEventEditions is dict, expected list"),
])
def test_unexpected_json_types_raise(path, value, message):
    html = with_next_data(page_html("imdb_ev0000003_2024_1.html"), _set(path, value))
    with pytest.raises(PageParseError, match=re.escape(message)) as err:
        parse_imdb_edition_page(html, URL_2024)
    assert err.value.url == URL_2024


def test_missing_is_winner_raises():
    def drop(data: dict) -> None:
        del first_nomination(data)["isWinner"]

    with pytest.raises(PageParseError, match="isWinner is missing"):
        parse_imdb_edition_page(with_next_data(page_html("imdb_ev0000003_2024_1.html"), drop), URL_2024)


def test_next_data_not_an_object_raises():
    html = _SCRIPT_RE.sub(r"\1[1, 2]\3", page_html("imdb_ev0000003_2024_1.html"))
    with pytest.raises(PageParseError, match="expected an object"):
        extract_next_data(html, URL_2024)


# ---------------------------------------------------------------------------
# optional: shared ground truth, festival samples and the real capture
# ---------------------------------------------------------------------------

needs_samples = pytest.mark.skipif(not SHARED_SAMPLES.is_dir(),
                                   reason=f"simulator samples folder {SHARED_SAMPLES} not available")


def shared_sample(name: str) -> ImdbEditionPage:
    evid, year, instance = re.match(r"imdb_(ev\d+)_(\d+)_(\d+)", name).groups()
    url = f"https://www.imdb.com/event/{evid}/{year}/{instance}/"
    return parse_imdb_edition_page((SHARED_SAMPLES / name).read_text(encoding="utf-8"), url)


@needs_samples
def test_actor_awards_1990_empty_edition_parses_to_zero_categories():
    page = shared_sample("imdb_ev0000598_1990_1.html")
    assert page.categories == ()
    assert (page.event_id, page.year, page.instance) == ("ev0000598", 1990, 1)
    assert page.event_name == "Actor Awards"
    assert any(e.year == 1990 for e in page.editions)


@needs_samples
def test_cannes_2024_palme_dor_is_an_award_without_category():
    page = shared_sample("imdb_ev0000147_2024_1.html")
    assert page.event_name == "Cannes Film Festival"
    first = page.categories[0]
    assert (first.award, first.category, first.name) == ("Palme d'Or", None, "Palme d'Or")
    assert sum(n.is_winner for n in first.nominations) == 1
    assert all(t.id.startswith("tt") for c in page.categories for n in c.nominations for t in n.titles)


@needs_samples
def test_golden_globes_2020_people():
    page = shared_sample("imdb_ev0000292_2020_1.html")
    kinds = Counter(n.primary_kind for c in page.categories for n in c.nominations)
    assert kinds["names"] > 0 and kinds["titles"] > 0
    person_first = [n for c in page.categories for n in c.nominations if n.primary_kind == "names"]
    assert all(n.names and n.secondary_titles for n in person_first)


@needs_samples
def test_critics_choice_second_edition_of_2016():
    page = shared_sample("imdb_ev0000133_2016_2.html")
    assert (page.year, page.instance) == (2016, 2)
    assert [(e.year, e.instance) for e in page.editions if e.year == 2016] == [(2016, 2), (2016, 1)]


@needs_samples
def test_venice_2026_has_no_winner_yet():
    page = shared_sample("imdb_ev0000681_2026_1.html")
    assert page.categories and not any(n.is_winner for c in page.categories for n in c.nominations)


@pytest.mark.skipif(not TSV.exists(), reason=f"ground-truth TSV {TSV} not available")
def test_2024_nominations_match_ground_truth(page_2024):
    with TSV.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t", doublequote=False, escapechar="\\")
                if r["Ceremony"] == "96"]

    def linkable(r: dict) -> bool:  # IMDb lists a nomination only with a tt film or nm person id
        ids = (r["FilmId"] or "").split("|") + (r["NomineeIds"] or "").replace(",", "|").split("|")
        return any(i.strip().startswith(("tt", "nm")) for i in ids)

    listed = [r for r in rows if linkable(r)]
    noms = [n for c in page_2024.categories for n in c.nominations]
    assert len(noms) == len(listed)
    assert sum(n.is_winner for n in noms) == sum(r["Winner"] == "True" for r in listed)
    tsv_films = {f for r in listed for f in r["FilmId"].split("|") if f.startswith("tt")}
    assert {i for n in noms for i in n.all_title_ids} == tsv_films


@pytest.mark.skipif(not CAPTURE.exists(), reason="real IMDb capture not available")
def test_real_capture_parses():
    page = parse_imdb_edition_page(CAPTURE.read_text(encoding="utf-8"), URL_2024)
    assert (page.event_id, page.year, page.instance, page.edition_id) == ("ev0000003", 2024, 1, "ee0163152")
    assert page.start_date == "2024-03-10" and page.end_date is None
    assert len(page.editions) == 97
    assert page.categories[0].award == "Oscar"
    assert page.categories[0].category == "Best Motion Picture of the Year"
    assert page.nomination_count == 130
    notes = {n.note for c in page.categories for m in c.nominations for n in (*m.names, *m.secondary_names)}
    assert "(production designer)" in notes
