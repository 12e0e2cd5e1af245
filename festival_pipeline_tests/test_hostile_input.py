"""Hostile input: what real pages may contain, served by rewriting the simulator's pages in a proxy.

Expected everywhere: correct rows, or a clear error naming the page (and the year in
import_outcomes) - never a crash of the whole backfill, never a partition losing its rows.

* names and titles with quotes, backslashes, ``</script>``, emoji (ZWJ sequences) and combining
  accents, consistently on both sites -> stored exactly as printed, ids attached, a rerun changes nothing;
* 20 MB pages (big but harmless padding) -> the same rows;
* a > 10 MB comment between the oscars.org categories (libxml2's default text-node limit) -> the same
  rows, never a smaller ceremony (the parser reads huge trees);
* invalid UTF-8 in a name -> a clear error naming the byte offset, never U+FFFD stored in a name;
* IMDb JSON with unexpected types, a raw ``</script>`` inside __NEXT_DATA__ -> PageParseError naming
  the URL and the JSON path; in a ranged backfill the bad year is reported, the others processed;
* a NUL character or a lone surrogate in IMDb JSON -> a clear per-year error naming the JSON path
  (PostgreSQL could not store it).
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from festival_pipeline.database import connection
from festival_pipeline.parsers import PageParseError, parse_imdb_edition_page
from festival_pipeline_tests.conftest import fixture_page
from festival_pipeline_tests.conftest import run_oscars as run_oscars_raising
from festival_pipeline_tests.fault_proxy import OK, FaultProxy, by_path, transform

pytestmark = pytest.mark.integration

# faults and hostile pages may fail a run: these tests assert on the result instead; IMDb is read
# from its event pages, where the faults are (the API's: test_imdb_api_pipeline.py)
run_oscars = functools.partial(run_oscars_raising, raise_on_error=False, sites_settings={"imdb_source": "pages"})

OSCARS_2024 = "/oscars/ceremonies/2024"
IMDB_2024 = "/event/ev0000003/2024/1/"
NAME, TITLE = "Cillian Murphy", "Oppenheimer"
NAME_ID, TITLE_ID = "nm0614165", "tt15398776"
# one space between words: both parsers collapse whitespace runs, as browsers display them
HOSTILE_NAME = ("Cil'lian \"Q\\uote\" O\u2019Murphy </script><script>alert(1)</script> \\ "
                "\U0001F3AC\U0001F3F3\ufe0f\u200d\U0001F308 Zoe\u0308 Ange\u0301lique & <b>")
HOSTILE_TITLE = "Oppen\"heimer\\ </script> \U0001F4A3 Cafe\u0301 'R\u00e9sum\u00e9' <!-- -->"


def nominations(url: str, year: int) -> list[tuple]:
    with connection.transaction(url) as cursor:
        cursor.execute(
            """SELECT n.id, n.nomination_key, n.won, k.prize_name, k.name, n.film_title, n.film_imdb_ids,
                      n.person_imdb_ids, n.nominee_names, n.details, n.updated_at
               FROM festival_nominations n JOIN festival_ceremonies c ON c.id = n.ceremony_id
               JOIN festival_categories k ON k.id = n.category_id WHERE c.year = %s ORDER BY n.id""",
            (year,),
        )
        return cursor.fetchall()


def outcome(url: str, year: int) -> tuple[str, str | None] | None:
    with connection.transaction(url) as cursor:
        cursor.execute("SELECT status, error FROM import_outcomes WHERE year = %s", (year,))
        return cursor.fetchone()


def all_text(url: str) -> str:
    """Every text the Oscar tables hold, as one string (to look for replacement characters)."""
    with connection.transaction(url) as cursor:
        cursor.execute("""SELECT coalesce(string_agg(concat_ws(' ', film_title, nominee_names, details::text), ' '), '')
                          FROM festival_nominations""")
        return cursor.fetchone()[0]


# --------------------------------------------------------------------------- page rewriting

_NEXT_DATA = re.compile(r'(<script id="__NEXT_DATA__"[^>]*>)(.*?)(</script>)', re.S)


def script_json(data: Any) -> str:
    """JSON as Next.js embeds it: UTF-8, with <, > and & escaped so no '</script>' can appear."""
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def edit_next_data(edit: Callable[[dict], None], raw: Callable[[str], str] = lambda s: s) -> Callable:
    """A body transform: parse __NEXT_DATA__, `edit` it in place, serialise it back (then `raw`)."""

    def rewrite(_path: str, body: bytes) -> bytes:
        text = body.decode("utf-8")
        match = _NEXT_DATA.search(text)
        data = json.loads(match.group(2))
        edit(data)
        return (text[: match.start(2)] + raw(script_json(data)) + text[match.end(2):]).encode("utf-8")

    return rewrite


def replace_strings(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = replace_strings(item, replacements)
    elif isinstance(value, list):
        value[:] = [replace_strings(item, replacements) for item in value]
    elif isinstance(value, str):
        return replacements.get(value, value)
    return value


def first_nomination(data: dict) -> dict:
    oscar = next(a for a in data["props"]["pageProps"]["edition"]["awards"] if a["text"] == "Oscar")
    return oscar["nominationCategories"]["edges"][0]["node"]["nominations"]["edges"][0]["node"]


def oscars_with_hostile_names(_path: str, body: bytes) -> bytes:
    text = body.decode("utf-8")
    assert text.count(f">{NAME}<") == 1 and text.count(TITLE) >= 5
    text = text.replace(f">{NAME}<", f">{html.escape(HOSTILE_NAME)}<").replace(TITLE, html.escape(HOSTILE_TITLE))
    return text.encode("utf-8")


# --------------------------------------------------------------------------- names and titles


def test_hostile_names_and_titles_are_stored_exactly_as_printed(
    dagster_instance, festival_database_url: str, proxy: FaultProxy,
) -> None:
    proxy.plan = by_path({
        OSCARS_2024: transform(oscars_with_hostile_names),
        IMDB_2024: transform(edit_next_data(lambda d: replace_strings(d, {NAME: HOSTILE_NAME, TITLE: HOSTILE_TITLE}))),
    })
    assert run_oscars(dagster_instance, proxy.url, "2024").success
    rows = nominations(festival_database_url, 2024)
    (actor,) = [r for r in rows if r[4] == "Actor in a Leading Role" and r[2]]
    assert actor[8] == HOSTILE_NAME  # nominee as printed, byte for byte (NFD accents, ZWJ emoji kept)
    assert actor[5] == HOSTILE_TITLE and actor[6] == [TITLE_ID] and NAME_ID in actor[7]
    assert {"name": HOSTILE_NAME, "imdb_id": NAME_ID} in actor[9]["people"]  # IMDb's spelling in details
    films = [r for r in rows if r[6] == [TITLE_ID]]
    assert len(films) >= 5 and all(r[5] == HOSTILE_TITLE for r in films)
    assert run_oscars(dagster_instance, proxy.url, "2024").success
    assert nominations(festival_database_url, 2024) == rows  # stable keys: a rerun changes nothing


# --------------------------------------------------------------------------- big pages


def _pad_oscars_with_elements(_path: str, body: bytes) -> bytes:
    """20 MB of small hidden elements before the footer (what a bloated theme could add)."""
    filler = b'<div hidden><span class="x">padding</span></div>' * (20 * 2**20 // 48)
    return body.replace(b"</body>", filler + b"</body>", 1)


def _pad_imdb_with_script(_path: str, body: bytes) -> bytes:
    """20 MB of JSON noise in another script (ads / analytics config) before __NEXT_DATA__."""
    noise = b'<script type="application/json" id="ads">' + b'{"k":"' + b"v" * (20 * 2**20) + b'"}</script>'
    return body.replace(b'<script id="__NEXT_DATA__"', noise + b'<script id="__NEXT_DATA__"', 1)


def _comment_between_categories(_path: str, body: bytes) -> bytes:
    """A 12 MB HTML comment after the 12th of 23 categories (over libxml2's 10 MB text limit)."""
    starts = [m.start() for m in re.finditer(rb'<div class="field__item">\s*<div data-term-id', body)]
    assert len(starts) > 12
    return body[: starts[12]] + b"<!-- " + b"z" * (12 * 2**20) + b" -->" + body[starts[12]:]


def test_20_mb_pages_give_the_same_rows(
    dagster_instance, festival_database_url: str, proxy: FaultProxy,
) -> None:
    assert run_oscars(dagster_instance, proxy.url, "2023", "2024").success
    before = {year: nominations(festival_database_url, year) for year in (2023, 2024)}
    proxy.plan = by_path({OSCARS_2024: transform(_pad_oscars_with_elements),
                          IMDB_2024: transform(_pad_imdb_with_script)})
    result = run_oscars(dagster_instance, proxy.url, "2023", "2024")
    assert result.success
    assert {year: nominations(festival_database_url, year) for year in (2023, 2024)} == before
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT max(size_bytes) FROM raw_pages")
        assert cursor.fetchone()[0] > 20 * 2**20  # the big pages were archived as served


def test_a_10_mb_comment_between_categories_does_not_shrink_the_ceremony(
    dagster_instance, festival_database_url: str, proxy: FaultProxy,
) -> None:
    assert run_oscars(dagster_instance, proxy.url, "2024").success
    before = nominations(festival_database_url, 2024)
    proxy.plan = by_path({OSCARS_2024: transform(_comment_between_categories)})
    result = run_oscars(dagster_instance, proxy.url, "2024")
    # the parser reads huge trees: the categories after the comment are all there, the year is unchanged
    assert result.success, [e.step_failure_data.error.message for e in result.get_step_failure_events()]
    assert nominations(festival_database_url, 2024) == before
    with connection.transaction(festival_database_url) as cursor:
        cursor.execute("SELECT max(size_bytes) FROM raw_pages WHERE url LIKE %s", (f"%{OSCARS_2024}",))
        assert cursor.fetchone()[0] > 12 * 2**20  # the page with the comment was the one parsed


# --------------------------------------------------------------------------- encodings


def test_invalid_utf8_is_an_error_not_replacement_characters(
    dagster_instance, festival_database_url: str, proxy: FaultProxy,
) -> None:
    assert run_oscars(dagster_instance, proxy.url, "2024").success
    before = nominations(festival_database_url, 2024)
    proxy.plan = by_path({OSCARS_2024: transform(
        lambda _p, body: body.replace(f">{NAME}<".encode(), b">Cillian \xff\xfeMur\xc3(phy<"))})
    result = run_oscars(dagster_instance, proxy.url, "2024")
    assert "\ufffd" not in all_text(festival_database_url)
    if not result.success:  # a clear error is fine too, as long as the rows stayed
        assert nominations(festival_database_url, 2024) == before
        assert "/oscars/ceremonies/2024" in (outcome(festival_database_url, 2024) or ("", ""))[1]


# --------------------------------------------------------------------------- unexpected JSON


def _set(path: tuple, value: Any) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _on_first_nomination(key: str, value: Any) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        nomination = first_nomination(data)
        if key in nomination:
            nomination[key] = value
        else:
            nomination["awardedEntities"][key] = value
    return edit


def _title_text_number(data: dict) -> None:
    first_nomination(data)["awardedEntities"]["awardTitles"][0]["title"]["titleText"]["text"] = 12345


PAGE_PROPS = ("props", "pageProps")
UNEXPECTED = {
    "isWinner is a string": (_on_first_nomination("isWinner", "true"), "isWinner"),
    "year is a string": (_set((*PAGE_PROPS, "editionInfo", "year"), "2024"), "editionInfo.year"),
    "year is a float": (_set((*PAGE_PROPS, "editionInfo", "year"), 2024.0), "editionInfo.year"),
    "year is true": (_set((*PAGE_PROPS, "editionInfo", "year"), True), "editionInfo.year"),
    "awards is an object": (_set((*PAGE_PROPS, "edition", "awards"), {}), "edition.awards"),
    "awards is null": (_set((*PAGE_PROPS, "edition", "awards"), None), "edition.awards"),
    "awardTitles is an object": (_on_first_nomination("awardTitles", {"0": {}}), "awardTitles"),
    "titleText.text is a number": (_title_text_number, "titleText.text"),
    "history item is a string": (_set((*PAGE_PROPS, "historyEventEditions"), ["2024/1"]), "historyEventEditions[0]"),
    "pageProps is a list": (_set(("props", "pageProps"), []), "props.pageProps"),
}


@pytest.mark.parametrize("case", list(UNEXPECTED))
def test_unexpected_json_types_raise_a_clear_parse_error(case: str) -> None:
    edit, path = UNEXPECTED[case]
    url = "https://www.imdb.com/event/ev0000003/2024/1/"
    page = edit_next_data(edit)("", fixture_page("imdb_ev0000003_2024_1.html").encode()).decode()
    with pytest.raises(PageParseError) as raised:
        parse_imdb_edition_page(page, url)
    assert raised.value.url == url and path in raised.value.reason, raised.value.reason


@pytest.mark.parametrize("case", ["raw </script> in a name", "NaN as the year"])
def test_broken_next_data_raises_a_clear_parse_error(case: str) -> None:
    page = fixture_page("imdb_ev0000003_2024_1.html")
    if "script" in case:  # as a site that forgot to escape would send it
        page = page.replace(f'"text":"{NAME}"', '"text":"Tom </script> Hanks"', 1)
    else:  # JSON that json.loads accepts (NaN) where a number is expected
        page, count = re.subn(r'"year":2024', '"year":NaN', page)
        assert count
    with pytest.raises(PageParseError) as raised:
        parse_imdb_edition_page(page, "https://www.imdb.com/event/ev0000003/2024/1/")
    assert "imdb.com/event/ev0000003/2024/1/" in str(raised.value)


def test_unexpected_json_in_one_year_of_a_ranged_backfill(
    dagster_instance, festival_database_url: str, proxy: FaultProxy,
) -> None:
    assert run_oscars(dagster_instance, proxy.url, "2024").success
    before = nominations(festival_database_url, 2024)
    proxy.plan = by_path({IMDB_2024: transform(edit_next_data(_on_first_nomination("isWinner", "yes")))})
    result = run_oscars(dagster_instance, proxy.url, "2023", "2024")
    assert not result.success
    status, error = outcome(festival_database_url, 2024)
    assert status == "failed" and "/event/ev0000003/2024/1/" in error and "isWinner" in error, error
    assert nominations(festival_database_url, 2024) == before  # the previous rows stay, untouched
    assert outcome(festival_database_url, 2023) is None or outcome(festival_database_url, 2023)[0] != "failed"
    # A ranged run fails as a whole: Dagster cannot fail one partition of a single-run backfill
    # (ARCHITECTURE.md), so nothing of the range is written; the good year lands in its own run,
    # as `festival-pipeline backfill` reruns the years of a failed chunk.
    assert nominations(festival_database_url, 2023) == []
    assert run_oscars(dagster_instance, proxy.url, "2023").success
    assert nominations(festival_database_url, 2023)


@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800"], ids=["NUL", "lone-surrogate"])
def test_unstorable_characters_in_imdb_json_are_a_clear_per_year_error(
    dagster_instance, festival_database_url: str, proxy: FaultProxy, bad: str,
) -> None:
    assert run_oscars(dagster_instance, proxy.url, "2024").success
    before = nominations(festival_database_url, 2024)
    proxy.plan = by_path({IMDB_2024: transform(edit_next_data(  # the JSON escape, as IMDb would send it
        lambda d: replace_strings(d, {NAME: "Cillian@BAD@Murphy"}), raw=lambda s: s.replace("@BAD@", bad)))})
    result = run_oscars(dagster_instance, proxy.url, "2023", "2024")
    assert nominations(festival_database_url, 2024) == before
    assert not result.success
    status, error = outcome(festival_database_url, 2024)
    assert status == "failed" and "2024" in error, (status, error)


def test_the_proxy_serves_the_simulator_unchanged(proxy: FaultProxy) -> None:
    """Guard for the tests above: with no fault the proxy is transparent."""
    import requests

    proxy.plan = lambda _path, _attempt: OK
    direct = requests.get(proxy.url + OSCARS_2024, timeout=30)
    assert direct.status_code == 200 and direct.text.count(f">{NAME}<") == 1
