"""IMDb's GraphQL API (`api.graphql.imdb.com`): the queries for an event's editions and an edition's
awards, and the answers read into the records the event pages give.

IMDb's event pages take their `__NEXT_DATA__` from this API, so an edition's `awards` here have the
shape of the page's `props.pageProps.edition.awards`, and the same parser reads them
(`imdb_event.categories_of_awards`). What the API adds is paging: a connection
(`nominationCategories`, `nominations`) gives at most `first` edges per request, says so only through
`pageInfo.hasNextPage` and `total`, and a server may serve fewer edges than asked. `EditionAnswers`
follows every connection to its end, one request at a time, and fails when one cannot be completed,
so a category is never written from part of its nominations.

The API has no root field for one award or one category, so a follow-up request asks for the whole
edition again with the connection's cursor: `awards { nominationCategories(after: …) }` pages the
categories of every award at once (the answer's other awards are ignored), and the nominations of
category k are reached as the one category after the cursor of category k - 1.

Everything here is pure: a request is a `GraphQLRequest` (query and variables), an answer its JSON
text; the caller sends them (`festival_pipeline.sources.imdb_api`) and archives the answers, and
reparsing replays the archived answers in order through the same steps.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .errors import PageParseError
from .imdb_event import categories_of_awards, edition_refs
from .records import ImdbEditionPage, ImdbEditionRef

__all__ = [
    "PAGE_SIZE",
    "AnswerError",
    "EditionAnswers",
    "GraphQLRequest",
    "edition_request",
    "event_editions_request",
    "parse_event_editions",
    "replay",
]

# the most edges a connection may give per request (IMDb's pages ask for far fewer; a larger value is
# refused as a whole, so a server that caps lower still pages correctly)
PAGE_SIZE = 250
# a connection that needs more follow-up requests than this is not being completed (a server that
# keeps saying hasNextPage while giving nothing new)
MAX_FOLLOW_UPS = 2000

_TITLE = "title { id titleText { text } originalTitleText { text } }"
_NAME = "name { id nameText { text } } note { plainText }"
_COMPANY = "company { id companyText { text } }"
_NOMINATIONS = f"""fragment Nominations on NominationConnection {{
  total pageInfo {{ hasNextPage endCursor }}
  edges {{ cursor node {{
    isWinner notes {{ plainText }}
    awardedEntities {{
      __typename
      ... on AwardedTitles {{ awardTitles {{ {_TITLE} }} secondaryAwardNames {{ {_NAME} }}
                              secondaryAwardCompanies {{ {_COMPANY} }} }}
      ... on AwardedNames {{ awardNames {{ {_NAME} }} secondaryAwardTitles {{ {_TITLE} }}
                             secondaryAwardCompanies {{ {_COMPANY} }} }}
    }}
  }} }}
}}"""
_CATEGORIES = """fragment Categories on NominationsWithCategoryConnection {
  total pageInfo { hasNextPage endCursor }
  edges { cursor node { category { text } nominations(first: $first) { ...Nominations } } }
}"""

EVENT_EDITIONS_QUERY = """query EventEditions($event: ID!) {
  nominationEvent(id: $event) { id name { text } editions { id year instanceWithinYear } }
}"""
EDITION_QUERY = f"""query EditionAwards($edition: ID!, $first: Int!) {{
  nominationEventEdition(id: $edition) {{
    id year instanceWithinYear
    event {{ id name {{ text }} location {{ text }} editions {{ id year instanceWithinYear }} }}
    awards {{ id text nominationCategories(first: $first) {{ ...Categories }} }}
  }}
}}
{_CATEGORIES}
{_NOMINATIONS}"""
MORE_CATEGORIES_QUERY = f"""query AwardCategories($edition: ID!, $first: Int!, $after: String) {{
  nominationEventEdition(id: $edition) {{
    awards {{ id text nominationCategories(first: $first, after: $after) {{ ...Categories }} }}
  }}
}}
{_CATEGORIES}
{_NOMINATIONS}"""
MORE_NOMINATIONS_QUERY = f"""query CategoryNominations($edition: ID!, $category: String, $first: Int!,
                                                        $after: String) {{
  nominationEventEdition(id: $edition) {{
    awards {{ id text nominationCategories(first: 1, after: $category) {{
      edges {{ node {{ category {{ text }} nominations(first: $first, after: $after) {{ ...Nominations }} }} }}
    }} }}
  }}
}}
{_NOMINATIONS}"""


@dataclass(frozen=True)
class GraphQLRequest:
    """One POST to the API: `{"query": …, "variables": …}`. `operation` names it in URLs and logs."""

    operation: str
    query: str
    variables: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {"query": self.query, "variables": self.variables}

    def locator(self, endpoint: str) -> str:
        """What the request asked, as a URL the archive keys answers by: the endpoint, then the
        operation and its variables after `#` (`…/#EditionAwards?edition=ee0184841&first=250`)."""
        asked = urlencode(sorted((k, str(v)) for k, v in self.variables.items() if v is not None))
        return f"{endpoint}#{self.operation}?{asked}"


class AnswerError(PageParseError):
    """An answer that carries `errors`, or no data for the field asked. `not_found` when the API
    says the id does not exist (an unknown event or edition: handled like a missing page)."""

    def __init__(self, url: str, reason: str, not_found: bool = False) -> None:
        super().__init__(url, reason)
        self.not_found = not_found

    def __reduce__(self):  # keep picklable (multiprocess executors)
        return (type(self), (self.url, self.reason, self.not_found))


def event_editions_request(event_id: str) -> GraphQLRequest:
    return GraphQLRequest("EventEditions", EVENT_EDITIONS_QUERY, {"event": event_id})


def edition_request(edition_id: str, page_size: int = PAGE_SIZE) -> GraphQLRequest:
    """The first request for an edition: its event, its edition list and the first page of its awards."""
    return GraphQLRequest("EditionAwards", EDITION_QUERY, {"edition": edition_id, "first": page_size})


def parse_event_editions(text: str, url: str) -> tuple[ImdbEditionRef, ...]:
    """The event's editions (newest first, as IMDb lists them) from a `nominationEvent` answer."""
    event = _root(text, url, "nominationEvent")
    editions = event.get("editions")
    if not isinstance(editions, list):
        raise PageParseError(url, "unexpected JSON: data.nominationEvent.editions is not a list")
    return edition_refs(editions, url, "data.nominationEvent.editions")


class EditionAnswers:
    """An edition's awards, assembled from its answers: the first (`first_request`), then each
    `next_request()` until it returns None. `add` takes the answers in the order they were asked;
    `parse` gives the edition once every connection is complete.

    The follow-ups depend only on the answers so far, so the archived answers replayed through `add`
    rebuild the same edition without a request.
    """

    def __init__(self, edition_id: str, url: str, page_size: int = PAGE_SIZE) -> None:
        self.edition_id, self.url, self.page_size = edition_id, url, page_size
        self._edition: dict[str, Any] | None = None
        self._asked: tuple | None = None  # the connection the next answer completes
        self.answers = 0

    def first_request(self) -> GraphQLRequest:
        return edition_request(self.edition_id, self.page_size)

    def add(self, text: str) -> None:
        """Merge one answer: the first request's, or the one `next_request` asked for last."""
        edition = _root(text, self.url, "nominationEventEdition", self.edition_id)
        self.answers += 1
        if self._edition is None:
            self._edition = edition
            awards = edition.get("awards")
            if not isinstance(awards, list):
                raise PageParseError(self.url, "unexpected JSON: data.nominationEventEdition.awards is not a list")
            return
        target, self._asked = self._asked or self._next_target(), None
        if target[0] == "categories":
            _, a = target
            page = _connection_of(self._award_in(edition, a), "nominationCategories", self.url)
            self._extend(self._awards()[a]["nominationCategories"], page, self._label(a))
        else:
            _, a, c = target
            connection = _connection_of(self._award_in(edition, a), "nominationCategories", self.url)
            edges = connection.get("edges") or []
            if len(edges) != 1 or not isinstance(edges[0], dict) or not isinstance(edges[0].get("node"), dict):
                raise self._incomplete(self._label(a, c), "the API did not give the category back")
            node = self._category(a, c)
            given = edges[0]["node"]
            if _text(given.get("category")) != _text(node.get("category")):
                raise self._incomplete(self._label(a, c), "the API gave another category back "
                                                          f"({_text(given.get('category'))!r})")
            self._extend(node["nominations"], _connection_of(given, "nominations", self.url), self._label(a, c))

    def next_request(self) -> GraphQLRequest | None:
        """The request that continues the first incomplete connection, or None when all are complete."""
        target = self._next_target()
        self._asked = target
        if target is None:
            return None
        if self.answers > MAX_FOLLOW_UPS:
            raise self._incomplete(self._label(*target[1:]), f"still incomplete after {self.answers} answers")
        variables: dict[str, Any] = {"edition": self.edition_id, "first": self.page_size}
        if target[0] == "categories":
            connection = self._awards()[target[1]]["nominationCategories"]
            return GraphQLRequest("AwardCategories", MORE_CATEGORIES_QUERY,
                                  {**variables, "after": connection["pageInfo"]["endCursor"]})
        _, a, c = target
        categories = self._awards()[a]["nominationCategories"]["edges"]
        nominations = categories[c]["node"]["nominations"]
        return GraphQLRequest("CategoryNominations", MORE_NOMINATIONS_QUERY, {
            **variables, "category": categories[c - 1].get("cursor") if c else None,
            "after": nominations["pageInfo"]["endCursor"]})

    def parse(self) -> ImdbEditionPage:
        """The edition, as `parse_imdb_edition_page` reads a page; fails when a connection is incomplete."""
        if self._edition is None:
            raise PageParseError(self.url, "no answer for the edition")
        if (target := self._next_target()) is not None:
            raise self._incomplete(self._label(*target[1:]), "its next page was never fetched")
        return _edition_page(self._edition, self.url)

    # -- the connections
    def _awards(self) -> list[dict[str, Any]]:
        assert self._edition is not None
        return self._edition["awards"]

    def _category(self, a: int, c: int) -> dict[str, Any]:
        return self._awards()[a]["nominationCategories"]["edges"][c]["node"]

    def _next_target(self) -> tuple | None:
        """The first connection with more to fetch: an award's categories before its categories'
        nominations, awards in order (so replaying the answers asks in the same order)."""
        if self._edition is None:
            return None
        for a, award in enumerate(self._awards()):
            categories = _connection_of(award, "nominationCategories", self.url)
            if self._needs_more(categories, self._label(a)):
                return ("categories", a)
            for c, edge in enumerate(categories.get("edges") or []):
                node = edge.get("node") if isinstance(edge, dict) else None
                if not isinstance(node, dict):
                    raise PageParseError(self.url, f"unexpected JSON: {self._label(a)} has an edge without a node")
                if self._needs_more(_connection_of(node, "nominations", self.url), self._label(a, c)):
                    return ("nominations", a, c)
        return None

    def _needs_more(self, connection: dict[str, Any], label: str) -> bool:
        edges = connection.get("edges")
        if not isinstance(edges, list):
            raise PageParseError(self.url, f"unexpected JSON: the edges of {label} are not a list")
        info = connection.get("pageInfo") or {}
        total = connection.get("total")
        if info.get("hasNextPage"):
            if not info.get("endCursor"):
                raise self._incomplete(label, "the API says there is a next page but gives no cursor to it")
            return True
        if isinstance(total, int) and not isinstance(total, bool) and total != len(edges):
            raise self._incomplete(label, f"the API says {total} and gave {len(edges)}, with no next page")
        return False

    def _extend(self, connection: dict[str, Any], page: dict[str, Any], label: str) -> None:
        """Append a follow-up page to a connection; a page that brings nothing new fails."""
        new = page.get("edges")
        if not isinstance(new, list) or not new:
            raise self._incomplete(label, "the API says there is a next page but gave no edge on it")
        connection["edges"] = [*connection["edges"], *new]
        connection["pageInfo"] = page.get("pageInfo") or {}
        if "total" in page:
            connection["total"] = page["total"]

    def _award_in(self, edition: dict[str, Any], a: int) -> dict[str, Any]:
        """Award `a` of the edition in a follow-up answer (by id; by position when IMDb gives none)."""
        wanted = self._awards()[a]
        awards = edition.get("awards")
        if not isinstance(awards, list):
            raise self._incomplete(self._label(a), "a follow-up answer has no awards")
        if wanted.get("id"):
            found = [x for x in awards if isinstance(x, dict) and x.get("id") == wanted["id"]]
        else:
            found = [awards[a]] if a < len(awards) and isinstance(awards[a], dict) else []
        if len(found) != 1:
            raise self._incomplete(self._label(a), "a follow-up answer no longer lists the award")
        return found[0]

    def _label(self, a: int, c: int | None = None) -> str:
        award = self._awards()[a]
        label = f"award {award.get('text')!r}"
        if c is not None:
            label = f"category {_text(self._category(a, c).get('category')) or award.get('text')!r} of {label}"
        return f"{label} of edition {self.edition_id}"

    def _incomplete(self, label: str, why: str) -> PageParseError:
        return PageParseError(self.url, f"{label} cannot be completed: {why}; a partial category is never written")


def _edition_page(edition: dict[str, Any], url: str) -> ImdbEditionPage:
    event = edition.get("event") if isinstance(edition.get("event"), dict) else {}
    for key in ("year", "instanceWithinYear"):
        if not isinstance(edition.get(key), int) or isinstance(edition.get(key), bool):
            raise PageParseError(url, f"unexpected JSON: data.nominationEventEdition.{key} is not an integer")
    editions = event.get("editions")
    if not isinstance(editions, list):
        raise PageParseError(url, "no edition list: data.nominationEventEdition.event.editions is missing "
                                  "(the event's editions cannot be known from this answer)")
    return ImdbEditionPage(
        url=url,
        event_id=event.get("id") if isinstance(event.get("id"), str) else None,
        event_name=_text(event.get("name")),
        edition_id=edition.get("id") if isinstance(edition.get("id"), str) else None,
        year=edition["year"],
        instance=edition["instanceWithinYear"],
        location=_text(event.get("location")),
        start_date=None,  # the API's editions carry the year only, as the pages do
        end_date=None,
        categories=categories_of_awards(edition["awards"], url, "data.nominationEventEdition.awards"),
        editions=edition_refs(editions, url, "data.nominationEventEdition.event.editions"),
    )


def _root(text: str, url: str, field: str, ident: str | None = None) -> dict[str, Any]:
    """`data.<field>` of an answer; `errors`, or no data for it, raise AnswerError with the API's message."""
    try:
        answer = json.loads(text)
    except ValueError as exc:
        raise PageParseError(url, f"the answer is not JSON ({exc})") from exc
    if not isinstance(answer, dict):
        raise PageParseError(url, f"the answer is a JSON {type(answer).__name__}, expected an object")
    errors = answer.get("errors") or []
    data = answer.get("data")
    value = data.get(field) if isinstance(data, dict) else None
    what = f"{field}({ident or ''})" if ident else field
    if errors:
        messages = "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)[:500]
        not_found = value is None and all(
            isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "NOT_FOUND" for e in errors)
        raise AnswerError(url, f"the API answered {what} with errors: {messages}", not_found=not_found)
    if not isinstance(value, dict):
        raise AnswerError(url, f"the API answered {what} with no data")
    return value


def _connection_of(node: dict[str, Any], key: str, url: str) -> dict[str, Any]:
    connection = node.get(key)
    if not isinstance(connection, dict):
        raise PageParseError(url, f"unexpected JSON: {key} is {type(connection).__name__}, expected an object")
    return connection


def _text(holder: Any) -> str | None:
    return holder.get("text") if isinstance(holder, dict) and isinstance(holder.get("text"), str) else None


def replay(edition_id: str, url: str, answers: Sequence[str]) -> ImdbEditionPage:
    """An edition from its archived answers, in the order they were asked (no request)."""
    edition = EditionAnswers(edition_id, url)
    for text in answers:
        edition.add(text)
    return edition.parse()
