"""An IMDb event's editions, from the source `IMDB_SOURCE` names: IMDb's GraphQL API, its event pages,
or (`auto`) the API until it refuses, then the pages.

Whichever source serves it, an edition is archived as served — a page, or the API answers it took
(one per page of a connection, in the order they were asked) — and the step later parses it from the
archive (`imdb_edition_from_archive`). Each edition comes with which source served it and why
(`Served`), for the step's metadata; a fallback is logged once.

The edition list is read once per backfill: from the API (`nominationEvent.editions`), or from the
event page, which is the latest edition's own page and so is never fetched twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from festival_pipeline.database.archive import GRAPHQL, PAGES, ArchivedPage
from festival_pipeline.parsers import ImdbEditionPage, ImdbEditionRef, PageParseError, parse_imdb_edition_page
from festival_pipeline.parsers.imdb_graphql import (
    AnswerError,
    EditionAnswers,
    GraphQLRequest,
    edition_request,
    event_editions_request,
    parse_event_editions,
    replay,
)
from festival_pipeline.sources.errors import PageNotFound
from festival_pipeline.sources.fetcher import Fetcher
from festival_pipeline.sources.imdb_api import ApiRefused, ImdbApiClient
from festival_pipeline.sources.page_store import PageStore


@dataclass(frozen=True)
class ImdbUrls:
    """Where the event pages are (IMDB_BASE_URL)."""

    base_url: str

    def event(self, event_id: str) -> str:
        """The event's own URL: IMDb redirects it to the latest edition, whose page lists every edition."""
        return f"{self.base_url.rstrip('/')}/event/{event_id}/"

    def edition(self, event_id: str, year: int, instance: int) -> str:
        return f"{self.base_url.rstrip('/')}/event/{event_id}/{year}/{instance}/"


@dataclass(frozen=True)
class Served:
    """An edition as its source served it: the archived pages (a page, or the API's answers in the
    order they were asked), and why this source when it is not the one asked for."""

    pages: tuple[ArchivedPage, ...]
    why: str | None = None

    @property
    def source(self) -> str:
        return self.pages[0].source

    def describe(self) -> str:
        return self.source if self.why is None else f"{self.source} ({self.why})"


class ImdbEventReader:
    """One event's edition list and editions, for one step. `source` is `auto`, `graphql` or `pages`;
    `pages` gives the page fetcher (built only when a page is needed); `warn` logs a fallback."""

    def __init__(self, event_id: str, *, source: str, api: ImdbApiClient, pages: Callable[[], Fetcher],
                 urls: ImdbUrls, store: PageStore, warn: Callable[[str], None]) -> None:
        self.event_id, self.source, self.api, self.pages, self.urls = event_id, source, api, pages, urls
        self.store, self.warn = store, warn
        self.refused: str | None = None  # why the API stopped serving this step (auto only)
        self._latest: ArchivedPage | None = None  # the event page (pages source): the latest edition's page
        self._latest_edition: tuple[int, int] | None = None
        self.editions: tuple[ImdbEditionRef, ...] = self._read_editions()

    # -- the edition list
    def _read_editions(self) -> tuple[ImdbEditionRef, ...]:
        if self._use_api():
            request = event_editions_request(self.event_id)
            try:
                answer = self.store.fetch_once_per_backfill(
                    request.locator(self.api.settings.url), lambda: self.api.post(request), source=GRAPHQL,
                    request=request.body())
                return parse_event_editions(answer.text, answer.url)
            except ApiRefused as exc:
                self._refuse(exc)
            except AnswerError as exc:
                if exc.not_found:
                    raise PageNotFound(exc.url, None, f"IMDb's API knows no event {self.event_id}: {exc.reason}") \
                        from None
                raise
        url = self.urls.event(self.event_id)
        self._latest = self.store.fetch_once_per_backfill(url, lambda: self.pages().fetch(url))
        latest = parse_imdb_edition_page(self._latest.text, self._latest.url)
        self._latest_edition = (latest.year, latest.instance)
        return latest.editions

    # -- one edition
    def edition(self, year: int, instance: int) -> Served:
        """The edition's archived page, or the API answers it was read from."""
        ref = next((r for r in self.editions if (r.year, r.instance) == (year, instance)), None)
        if self._use_api():
            if ref is not None and ref.edition_id:
                try:
                    answers = self._edition_answers(ref.edition_id)
                except ApiRefused as exc:
                    self._refuse(exc)
                else:
                    return Served(answers)
            elif self.source == GRAPHQL:
                raise PageNotFound(self.urls.edition(self.event_id, year, instance), None,
                                   f"IMDb's edition list has no id for {self.event_id} {year}/{instance}, so the API "
                                   "cannot be asked for it; set IMDB_SOURCE=auto or pages")
        if (year, instance) == self._latest_edition and self._latest is not None:
            return Served((self._latest,), self._why_pages())
        url = self.urls.edition(self.event_id, year, instance)
        return Served((self.store.fetch(lambda: self.pages().fetch(url)),), self._why_pages())

    def _edition_answers(self, edition_id: str) -> tuple[ArchivedPage, ...]:
        """Every answer the edition takes: the first, then one per page of each incomplete connection."""
        request: GraphQLRequest | None = edition_request(edition_id)
        assembled = EditionAnswers(edition_id, request.locator(self.api.settings.url))
        answers: list[ArchivedPage] = []
        while request is not None:
            answer = self.store.fetch(functools.partial(self.api.post, request), source=GRAPHQL,
                                      request=request.body())
            answers.append(answer)
            try:
                assembled.add(answer.text)
            except AnswerError as exc:
                if exc.not_found:
                    raise PageNotFound(answer.url, None, f"IMDb's API knows no edition {edition_id} of "
                                                         f"{self.event_id}: {exc.reason}") from None
                raise
            request = assembled.next_request()
        assembled.parse()  # complete: every connection followed to its end
        return tuple(answers)

    # -- the source
    def _use_api(self) -> bool:
        return self.source != PAGES and self.refused is None

    def _refuse(self, exc: ApiRefused) -> None:
        if self.source == GRAPHQL:
            raise exc
        self.refused = exc.reason
        self.warn(f"IMDb's GraphQL API refused ({exc}); reading {self.event_id} from the event pages for the rest "
                  "of this step (IMDB_SOURCE=auto)")

    def _why_pages(self) -> str | None:
        if self.source == PAGES:
            return None
        return f"the API refused: {self.refused}" if self.refused else "the edition list has no id for the API"


def imdb_edition_from_archive(pages: Sequence[ArchivedPage]) -> ImdbEditionPage:
    """An edition parsed from what its source served: one event page, or the API answers in order."""
    if not pages:
        raise ValueError("an edition without any archived page")
    first = pages[0]
    if first.source == GRAPHQL:
        edition_id = ((first.request or {}).get("variables") or {}).get("edition")
        if not edition_id:
            raise PageParseError(first.url, "the archived answer does not record which edition it asked for")
        return replay(str(edition_id), first.url, [page.text for page in pages])
    if len(pages) != 1:
        raise PageParseError(first.url, f"an edition page archived as {len(pages)} parts")
    return parse_imdb_edition_page(first.text, first.url)
