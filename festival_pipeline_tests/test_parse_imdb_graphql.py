"""IMDb's GraphQL answers read into editions (pure): paging to the end, refusing what cannot be
completed, the API's errors, and the same records as the event page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from festival_pipeline.parsers import PageParseError, parse_imdb_edition_page
from festival_pipeline.parsers.imdb_graphql import (
    AnswerError,
    EditionAnswers,
    parse_event_editions,
    replay,
)
from festival_pipeline_tests.conftest import fixture_page
from festival_pipeline_tests.fault_proxy import next_data_of

URL = "https://api.graphql.imdb.com/#EditionAwards?edition=ee1"


def page_edition() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The recorded 2024 Oscars page's edition (as the API would serve it) and its edition list."""
    props = next_data_of(fixture_page("imdb_ev0000003_2024_1.html").encode())["props"]["pageProps"]
    info = props["editionInfo"]
    editions = [{"id": e.get("id"), "year": e["year"], "instanceWithinYear": e["instanceWithinYear"]}
                for e in props["historyEventEditions"]]
    edition = {"id": info["id"], "year": info["year"], "instanceWithinYear": info["instanceWithinYear"],
               "event": {"id": "ev0000003", "name": info["event"]["name"], "location": info["event"].get("location"),
                         "editions": editions},
               "awards": props["edition"]["awards"]}
    return edition, editions


class CappedApi:
    """Answers EditionAnswers' requests from one edition, at most `cap` edges per connection, with
    the simulator's index cursors (a stand-in for the API, to test paging without a server)."""

    def __init__(self, edition: dict[str, Any], cap: int) -> None:
        self.edition, self.cap, self.requests = edition, cap, 0

    def answer(self, request) -> str:
        self.requests += 1
        v = request.variables
        first = min(v["first"], self.cap)
        awards = []
        for award in self.edition["awards"]:
            if request.operation == "CategoryNominations":
                start = _index(v["category"])
                edges = award["nominationCategories"]["edges"][start:start + 1]
                edges = [{"cursor": _cursor(start), "node": {
                    "category": e["node"]["category"],
                    "nominations": self.page(e["node"]["nominations"]["edges"], first, _index(v["after"]))}}
                    for e in edges]
                categories = {"edges": edges}
            else:
                after = _index(v.get("after"))
                categories = self.page(award["nominationCategories"]["edges"], first, after)
                for edge in categories["edges"]:
                    noms = edge["node"]["nominations"]["edges"]
                    edge["node"] = {**edge["node"], "nominations": self.page(noms, first, 0)}
            awards.append({"id": award.get("id"), "text": award["text"], "nominationCategories": categories})
        body = {**self.edition, "awards": awards} if request.operation == "EditionAwards" else {"awards": awards}
        return json.dumps({"data": {"nominationEventEdition": body}})

    @staticmethod
    def page(edges: list, first: int, start: int) -> dict[str, Any]:
        window = edges[start:start + first]
        end = start + len(window)
        return {"total": len(edges), "edges": [dict(e, cursor=_cursor(start + i)) for i, e in enumerate(window)],
                "pageInfo": {"hasNextPage": end < len(edges), "endCursor": _cursor(end - 1) if window else None}}


def _cursor(index: int) -> str:
    return f"c{index}"


def _index(cursor: str | None) -> int:
    return 0 if cursor is None else int(cursor[1:]) + 1


def read(api: CappedApi, edition_id: str = "ee1") -> tuple[EditionAnswers, list[str]]:
    answers = EditionAnswers(edition_id, URL)
    texts = []
    request = answers.first_request()
    while request is not None:
        texts.append(api.answer(request))
        answers.add(texts[-1])
        request = answers.next_request()
    return answers, texts


@pytest.mark.parametrize("cap", [1, 2, 3, 500])
def test_an_edition_paged_to_its_end_equals_the_page(cap: int) -> None:
    edition, _ = page_edition()
    page = parse_imdb_edition_page(fixture_page("imdb_ev0000003_2024_1.html"), "page")
    api = CappedApi(edition, cap)
    answers, texts = read(api)
    parsed = answers.parse()
    assert parsed.categories == page.categories  # every nomination of every category, in order
    assert (parsed.year, parsed.instance, parsed.editions) == (page.year, page.instance, page.editions)
    assert (api.requests > 20) == (cap < 5)  # a small cap takes a request per page of each connection
    assert replay("ee1", URL, texts) == parsed  # the archived answers rebuild it without a request


def test_an_answer_that_stops_short_of_its_total_fails_the_edition() -> None:
    edition, _ = page_edition()
    api = CappedApi(edition, 500)
    answer = json.loads(api.answer(EditionAnswers("ee1", URL).first_request()))
    category = answer["data"]["nominationEventEdition"]["awards"][0]["nominationCategories"]["edges"][0]["node"]
    category["nominations"]["edges"].pop()  # total says one more, and no next page
    answers = EditionAnswers("ee1", URL)
    with pytest.raises(PageParseError, match=r"cannot be completed: the API says \d+ and gave \d+"):
        answers.add(json.dumps(answer))
        answers.next_request()


def test_a_next_page_that_brings_nothing_fails_instead_of_looping() -> None:
    edition, _ = page_edition()
    api = CappedApi(edition, 2)
    answers = EditionAnswers("ee1", URL)
    answers.add(api.answer(answers.first_request()))
    request = answers.next_request()
    empty = json.loads(api.answer(request))
    for award in empty["data"]["nominationEventEdition"]["awards"]:
        award["nominationCategories"]["edges"] = []
    with pytest.raises(PageParseError, match="gave no edge on it"):
        answers.add(json.dumps(empty))


def test_an_unfinished_edition_does_not_parse() -> None:
    edition, _ = page_edition()
    answers = EditionAnswers("ee1", URL)
    answers.add(CappedApi(edition, 2).answer(answers.first_request()))
    with pytest.raises(PageParseError, match="its next page was never fetched"):
        answers.parse()


def test_errors_fail_with_the_apis_message_and_the_edition() -> None:
    answers = EditionAnswers("ee7", URL)
    failing = {"data": {"nominationEventEdition": None},
               "errors": [{"message": "Internal failure in awards", "extensions": {"code": "INTERNAL"}}]}
    with pytest.raises(AnswerError, match=r"nominationEventEdition\(ee7\) with errors: Internal failure") as caught:
        answers.add(json.dumps(failing))
    assert not caught.value.not_found
    missing = {"data": {"nominationEventEdition": None},
               "errors": [{"message": "No nominationEventEdition with id 'ee7'.", "extensions": {"code": "NOT_FOUND"}}]}
    with pytest.raises(AnswerError) as caught:
        EditionAnswers("ee7", URL).add(json.dumps(missing))
    assert caught.value.not_found
    with pytest.raises(AnswerError, match="with no data"):
        EditionAnswers("ee7", URL).add(json.dumps({"data": None}))


def test_the_event_editions_are_the_pages_edition_list() -> None:
    _, editions = page_edition()
    page = parse_imdb_edition_page(fixture_page("imdb_ev0000003_2024_1.html"), "page")
    answer = {"data": {"nominationEvent": {"id": "ev0000003", "editions": editions}}}
    assert parse_event_editions(json.dumps(answer), URL) == page.editions
    with pytest.raises(PageParseError, match="is empty"):
        parse_event_editions(json.dumps({"data": {"nominationEvent": {"editions": []}}}), URL)
