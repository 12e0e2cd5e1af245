"""The fault proxy's page edits: each one loses exactly what it says, and the page stays well formed."""

from __future__ import annotations

import urllib.request

import pytest

from festival_pipeline.parsers import PageParseError, parse_imdb_edition_page, parse_oscars_ceremony_page
from festival_pipeline_tests.conftest import FIXTURE_PAGES
from festival_pipeline_tests.fault_proxy import (
    FaultProxy,
    by_path,
    drop_awards,
    drop_categories,
    drop_edition_list,
    drop_oscars_categories,
    edit_next_data,
    next_data_of,
    paginate,
    serve_edition,
    transform,
    zero_nominations,
)

IMDB_PATH = "/event/ev0000003/2024/1/"
OSCARS_PATH = "/oscars/ceremonies/2024"
IMDB_BODY = (FIXTURE_PAGES / "imdb_ev0000003_2024_1.html").read_bytes()
OSCARS_BODY = (FIXTURE_PAGES / "oscars_2024.html").read_bytes()


def imdb(edit=None):
    body = edit(IMDB_PATH, IMDB_BODY) if edit else IMDB_BODY
    return parse_imdb_edition_page(body.decode("utf-8"), "https://www.imdb.com" + IMDB_PATH)


def test_imdb_edits_keep_the_rest_of_the_page() -> None:
    original = imdb()
    assert imdb(drop_awards()).categories == ()
    zeroed = imdb(zero_nominations())
    assert [c.name for c in zeroed.categories] == [c.name for c in original.categories]
    assert zeroed.nomination_count == 0
    one = imdb(zero_nominations("Best Motion Picture of the Year"))
    assert one.nomination_count == original.nomination_count - len(original.categories[0].nominations)
    moved = imdb(serve_edition(2023))
    assert (moved.year, moved.instance) == (2023, 1) and moved.categories == original.categories
    half = imdb(drop_categories())
    assert len(half.categories) == len(original.categories) - sum(
        (len(edges) + 1) // 2 for edges in _category_counts_by_award())
    named = imdb(drop_categories({"Best Achievement in Directing"}))
    assert [c.name for c in named.categories] == [c.name for c in original.categories
                                                   if c.name != "Best Achievement in Directing"]
    # the JSON is written back without loss (accents, quotes, '&', '<'): an empty edit changes nothing
    assert imdb(edit_next_data(lambda _data: None)) == original


def _category_counts_by_award() -> list[list]:
    return [award["nominationCategories"]["edges"]
            for award in next_data_of(IMDB_BODY)["props"]["pageProps"]["edition"]["awards"]]


@pytest.mark.parametrize(("edit", "reason"), [
    (drop_edition_list(), "historyEventEditions is missing"),
    (paginate(), "lists 1 nominations and more on a next page"),
])
def test_imdb_edits_the_parser_must_refuse(edit, reason: str) -> None:
    with pytest.raises(PageParseError, match=reason):
        imdb(edit)


def test_oscars_org_without_every_other_category() -> None:
    url = "https://www.oscars.org" + OSCARS_PATH
    original = parse_oscars_ceremony_page(OSCARS_BODY.decode("utf-8"), url)
    edited = parse_oscars_ceremony_page(drop_oscars_categories()(OSCARS_PATH, OSCARS_BODY).decode("utf-8"), url)
    assert [c.name for c in edited.categories] == [c.name for c in original.categories[1::2]]


def test_the_proxy_serves_an_edited_page_on_its_path_only(recorded_sites_url: str) -> None:
    with FaultProxy(recorded_sites_url, by_path({IMDB_PATH: transform(drop_awards())})) as proxy:
        def get(path: str) -> bytes:
            with urllib.request.urlopen(proxy.url + path) as response:
                return response.read()

        assert parse_imdb_edition_page(get(IMDB_PATH).decode("utf-8"), proxy.url + IMDB_PATH).categories == ()
        assert get(OSCARS_PATH) == OSCARS_BODY
        assert proxy.faults_served() == {"transform": 1, "ok": 1}
