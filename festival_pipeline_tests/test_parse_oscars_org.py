"""Tests for the oscars.org ceremony page parser.

Fixtures in fixtures/pages are simulator renderings of the BSD-2 DLu/oscar_data
TSV. Tests that need ../shared (ground-truth TSV, further samples, real
captures) skip when it is absent.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import pytest

from festival_pipeline.parsers import (
    OscarsCeremonyPage,
    PageParseError,
    parse_oscars_ceremony_page,
    parse_oscars_ceremony_sections,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"
SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared beside the checkout
SHARED_SAMPLES = SHARED / "festival_web" / "samples"
TSV = SHARED / "data" / "oscar_data" / "oscars.tsv"
CAPTURE = SHARED / "captures" / "oscars_org" / "ceremonies_2024.html"


def url_for(year: int) -> str:
    return f"https://www.oscars.org/oscars/ceremonies/{year}"


def page_html(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def parse_fixture(name: str, year: int) -> OscarsCeremonyPage:
    return parse_oscars_ceremony_page(page_html(name), url_for(year))


@pytest.fixture(scope="module")
def page_2024() -> OscarsCeremonyPage:
    return parse_fixture("oscars_2024.html", 2024)


def has_winners(page: OscarsCeremonyPage) -> bool:
    return any(h.won for c in page.categories for h in c.honorees)


def honorees(page: OscarsCeremonyPage) -> int:
    return sum(len(c.honorees) for c in page.categories)


def category(page: OscarsCeremonyPage, name: str):
    matches = [c for c in page.categories if c.name == name]
    assert len(matches) == 1, f"{name!r} not found once in {[c.name for c in page.categories]}"
    return matches[0]


# ---------------------------------------------------------------------------
# page level
# ---------------------------------------------------------------------------

def test_2024_heading_and_categories(page_2024):
    assert page_2024.url == url_for(2024)
    assert page_2024.title == "The 96th Academy Awards"
    assert page_2024.ceremony_number == 96
    assert page_2024.page_year == 2024
    assert page_2024.honoring == "Honoring movies released in 2023"
    assert page_2024.date is None and page_2024.location is None  # the simulator has neither
    assert len(page_2024.categories) == 23
    first = page_2024.categories[0]
    assert (first.name, first.term_id) == ("Actor in a Leading Role", "1731")
    assert page_2024.categories[-1].name == "Writing (Original Screenplay)"
    assert sum(len(c.honorees) for c in page_2024.categories) == 120
    assert has_winners(page_2024)


WINNERS_2024 = {  # category -> (films, nominees) of the single winner, from oscars.tsv ceremony 96
    "Actor in a Leading Role": (("Oppenheimer",), "Cillian Murphy"),
    "Actress in a Supporting Role": (("The Holdovers",), "Da'Vine Joy Randolph"),
    "Best Picture": (("Oppenheimer",), "Emma Thomas, Charles Roven and Christopher Nolan, Producers"),
    "Directing": (("Oppenheimer",), "Christopher Nolan"),
    "Music (Original Score)": (("Oppenheimer",), "Ludwig Göransson"),
    "Animated Short Film": (("WAR IS OVER! Inspired by the Music of John & Yoko",), "Dave Mullins and Brad Booker"),
    "Writing (Original Screenplay)": (("Anatomy of a Fall",), "Screenplay - Justine Triet and Arthur Harari"),
}


@pytest.mark.parametrize("name", sorted(WINNERS_2024))
def test_2024_winners(page_2024, name):
    cat = category(page_2024, name)
    winners = [h for h in cat.honorees if h.won]
    assert len(winners) == 1
    assert (winners[0].films, winners[0].nominees) == WINNERS_2024[name]
    assert cat.honorees[0].won, "winners are listed first"


def test_every_2024_category_has_exactly_one_winner(page_2024):
    assert [len(c.winners) for c in page_2024.categories] == [1] * 23


@pytest.mark.parametrize(("fixture", "year", "title", "n_categories"), [
    ("oscars_1929.html", 1929, "The 1st Academy Awards", 13),
    ("oscars_1930.html", 1930, "The 2nd Academy Awards", 7),
    ("oscars_1931.html", 1931, "The 3rd Academy Awards", 8),
    ("oscars_1933.html", 1933, "The 5th Academy Awards", 13),
    ("oscars_2026.html", 2026, "The 98th Academy Awards", 24),
])
def test_ceremony_number_and_year(fixture, year, title, n_categories):
    page = parse_fixture(fixture, year)
    assert (page.page_year, page.title, len(page.categories)) == (year, title, n_categories)
    assert page.ceremony_number == year - 1928  # oscars.org keys pages by 1928 + ceremony number


def test_2026_pre_ceremony_has_no_winners():
    page = parse_fixture("oscars_2026_pre-ceremony.html", 2026)
    assert page.ceremony_number == 98
    assert not has_winners(page)
    assert all(not h.won for c in page.categories for h in c.honorees)
    served = parse_fixture("oscars_2026.html", 2026)
    assert has_winners(served)  # the ground truth has the 98th's winners
    assert [c.name for c in page.categories] == [c.name for c in served.categories]
    assert honorees(page) == honorees(served)


def test_decoy_select_is_ignored(page_2024):
    html = page_html("oscars_2024.html")
    decoy = '<option value="1">Best Decoy</option><option value="2">Another Decoy</option>'
    html = html.replace('<option value="All" selected="selected">Select a Category</option>',
                        '<option value="All" selected="selected">Select a Category</option>' + decoy, 1)
    html = re.sub(r'<option value="1731">[^<]*</option>', "", html)
    assert parse_oscars_ceremony_page(html, url_for(2024)) == page_2024


# ---------------------------------------------------------------------------
# layouts
# ---------------------------------------------------------------------------

def test_acting_layout(page_2024):
    h = category(page_2024, "Actor in a Leading Role").honorees[1]
    assert h.entities == ("Bradley Cooper",)
    assert h.film_field == "Maestro"
    assert (h.films, h.nominees, h.song, h.country) == (("Maestro",), "Bradley Cooper", None, None)


def test_film_first_layout(page_2024):
    h = category(page_2024, "Production Design").honorees[0]
    assert h.won
    assert h.films == ("Poor Things",)
    assert h.nominees == "Production Design: James Price and Shona Heath; Set Decoration: Zsuzsa Mihalek"


def test_international_layout(page_2024):
    cat = category(page_2024, "International Feature Film")
    winner = cat.honorees[0]
    assert winner.won
    assert winner.film_field == "United Kingdom"
    assert winner.entities == ("The Zone of Interest",)
    assert (winner.films, winner.country, winner.nominees, winner.song) == (
        ("The Zone of Interest",), "United Kingdom", None, None)
    assert all(h.country and len(h.films) == 1 for h in cat.honorees)


def test_song_layout(page_2024):
    cat = category(page_2024, "Music (Original Song)")
    winner = cat.honorees[0]
    assert winner.won
    assert winner.film_field == "What Was I Made For?"
    assert winner.entities == ("from Barbie; Music and Lyric by Billie Eilish and Finneas O'Connell",)
    assert winner.song == "What Was I Made For?"
    assert winner.films == ("Barbie",)
    assert winner.nominees == "Music and Lyric by Billie Eilish and Finneas O'Connell"
    assert winner.country is None
    flamin = [h for h in cat.honorees if h.song == "The Fire Inside"]
    assert [h.films for h in flamin] == [("Flamin' Hot",)]


@pytest.mark.parametrize("old_name", ["Music (Song)", "Music (Song—Original for the Picture)"])
def test_older_song_category_names_use_song_layout(old_name):
    html = page_html("oscars_2024.html").replace(">Music (Original Song)</div>", f">{old_name}</div>")
    cat = category(parse_oscars_ceremony_page(html, url_for(2024)), old_name)
    assert cat.honorees[0].song == "What Was I Made For?"
    assert cat.honorees[0].films == ("Barbie",)


def test_song_score_category_is_not_song_layout():
    name = "Music (Original Song Score)"
    html = page_html("oscars_2024.html").replace(">Music (Original Song)</div>", f">{name}</div>")
    h = category(parse_oscars_ceremony_page(html, url_for(2024)), name).honorees[0]
    assert h.song is None
    assert h.films == ("What Was I Made For?",)  # read as a standard film-first honoree


def test_foreign_language_film_name_uses_international_layout():
    html = page_html("oscars_2024.html").replace(">International Feature Film</div>", ">Foreign Language Film</div>")
    h = category(parse_oscars_ceremony_page(html, url_for(2024)), "Foreign Language Film").honorees[0]
    assert (h.films, h.country) == (("The Zone of Interest",), "United Kingdom")


def test_special_award_without_film():
    page = parse_fixture("oscars_1933.html", 1933)
    special = category(page, "Special Award")
    (disney,) = special.honorees
    assert disney.won
    assert disney.film_field is None
    assert disney.films == ()
    assert disney.nominees == "Walt Disney"


def test_split_multifilm_honorees_are_kept_separate():
    page = parse_fixture("oscars_1929.html", 1929)
    jannings = [h for h in category(page, "Actor").honorees if h.nominees == "Emil Jannings"]
    assert [h.films for h in jannings] == [("The Last Command",), ("The Way of All Flesh",)]
    assert all(h.won for h in jannings)


def test_texts_are_decoded_and_normalised(page_2024):
    texts = {t for c in page_2024.categories for h in c.honorees for t in (*h.entities, h.film_field) if t}
    assert "WAR IS OVER! Inspired by the Music of John & Yoko" in texts  # &amp; decoded
    assert "Laurent Sénéchal" in texts  # accents kept
    assert all(t == " ".join(t.split()) for t in texts)


def test_live_style_date_and_location():
    header = ('<div class="field field--name-field-location field--type-string field--label-hidden field__item">'
              'Dolby Theatre at Ovation Hollywood</div>\n<div class="field--name-field-date-time">\n'
              '    Sunday, March 10, 2024\n  </div>\n')
    html = page_html("oscars_2024.html").replace(
        '<div class="field field--name-field-label', header + '<div class="field field--name-field-label', 1)
    page = parse_oscars_ceremony_page(html, url_for(2024))
    assert page.date == "2024-03-10"
    assert page.location == "Dolby Theatre at Ovation Hollywood"


def test_records_are_frozen(page_2024):
    with pytest.raises(dataclasses.FrozenInstanceError):
        page_2024.title = "x"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# strictness
# ---------------------------------------------------------------------------

def test_404_page_raises():
    url = url_for(1900)
    with pytest.raises(PageParseError) as err:
        parse_oscars_ceremony_page(page_html("oscars_404.html"), url)
    assert err.value.url == url
    assert url in str(err.value)


def test_truncated_page_raises():
    html = page_html("oscars_2024.html")
    with pytest.raises(PageParseError, match="truncated"):
        parse_oscars_ceremony_page(html[: len(html) // 2], url_for(2024))


@pytest.mark.parametrize("renamed", ["field--name-field-award-categories", "paragraph--type--award-category"])
def test_renamed_category_container_raises(renamed):
    html = page_html("oscars_2024.html").replace(renamed, renamed.replace("award", "prize"))
    with pytest.raises(PageParseError, match="no award categories found") as err:
        parse_oscars_ceremony_page(html, url_for(2024))
    assert str(err.value).startswith(f"cannot parse {url_for(2024)}: ")


def test_honoree_without_type_label_raises():
    html = page_html("oscars_2024.html").replace(
        '<div class="field field--name-field-honoree-type winner">Winner</div>', "", 1)
    with pytest.raises(PageParseError, match="winner/nominee label"):
        parse_oscars_ceremony_page(html, url_for(2024))


def test_missing_heading_raises():
    html = page_html("oscars_2024.html").replace("Academy Awards</span>", "Awards</span>")
    with pytest.raises(PageParseError, match="heading"):
        parse_oscars_ceremony_page(html, url_for(2024))


@pytest.mark.parametrize("html", ["", "   ", "<html><body><p>hello</p></body></html>"])
def test_empty_or_foreign_pages_raise(html):
    with pytest.raises(PageParseError):
        parse_oscars_ceremony_page(html, url_for(2024))


def test_label_falls_back_to_text_when_class_missing():
    html = page_html("oscars_2024.html").replace(
        'field--name-field-honoree-type winner">Winner', 'field--name-field-honoree-type">Winner')
    page = parse_oscars_ceremony_page(html, url_for(2024))
    assert all(len(c.winners) == 1 for c in page.categories)


# ---------------------------------------------------------------------------
# optional: shared ground truth, samples and real captures
# ---------------------------------------------------------------------------

needs_tsv = pytest.mark.skipif(not TSV.exists(), reason=f"ground-truth TSV {TSV} not available")


@needs_tsv
def test_2024_winners_match_ground_truth(page_2024):
    with TSV.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t", doublequote=False, escapechar="\\")
                if r["Ceremony"] == "96" and r["Class"] in {"Title", "Acting", "Directing", "Writing", "Music",
                                                            "Production"}]
    assert len(rows) == honorees(page_2024)
    tsv_winner_films = sorted(r["Film"] for r in rows if r["Winner"] == "True")
    page_winner_films = sorted(h.films[0] for c in page_2024.categories for h in c.honorees if h.won)
    assert page_winner_films == tsv_winner_films


@pytest.mark.skipif(not (SHARED_SAMPLES / "oscars_1930_held-scheme.html").exists(),
                    reason=f"simulator samples folder {SHARED_SAMPLES} not available")
def test_held_scheme_page_with_two_ceremonies():
    html = (SHARED_SAMPLES / "oscars_1930_held-scheme.html").read_text(encoding="utf-8")
    sections = parse_oscars_ceremony_sections(html, url_for(1930))
    assert [s.ceremony_number for s in sections] == [2, 3]
    assert [len(s.categories) for s in sections] == [7, 8]
    assert sections[1].honoring == "Honoring movies released in 1929/30"
    with pytest.raises(PageParseError, match="2 ceremonies"):
        parse_oscars_ceremony_page(html, url_for(1930))


@pytest.mark.skipif(not CAPTURE.exists(), reason="real oscars.org capture not available")
def test_real_capture_parses_like_the_simulator(page_2024):
    live = parse_oscars_ceremony_page(CAPTURE.read_text(encoding="utf-8"), url_for(2024))
    assert (live.ceremony_number, live.page_year, live.honoring) == (96, 2024, page_2024.honoring)
    assert live.date == "2024-03-10"
    assert live.location == "Dolby Theatre at Ovation Hollywood"
    assert [(c.name, c.term_id) for c in live.categories] == [(c.name, c.term_id) for c in page_2024.categories]
    live_honorees = [h for c in live.categories for h in c.honorees]
    sim_honorees = [h for c in page_2024.categories for h in c.honorees]
    assert len(live_honorees) == 120
    differing = [(a, b) for a, b in zip(live_honorees, sim_honorees, strict=True) if a != b]
    assert len(differing) <= 1  # one title differs by a diacritic in the TSV
