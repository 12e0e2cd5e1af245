"""Typed, immutable records produced by the page parsers.

The parsers are pure functions from page text to these records; they hold the
page's facts as printed (whitespace-normalised, entities decoded) plus the
minimal interpretation the page layout dictates (which field is the film, the
song, the country).  Matching and merging happen downstream.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OscarsHonoree:
    """One ``div.paragraph--type--award-honoree`` block of an oscars.org page.

    ``entities`` and ``film_field`` are the two fields as printed; the rest is their
    reading under the category's layout:

    * standard (acting, crafts, Best Picture, specials): ``films`` = (film_field,) or ()
      when there is no film, ``nominees`` = the entities ("; "-joined if several);
    * International Feature Film / Foreign Language Film: ``country`` = film_field,
      ``films`` = the entities, ``nominees`` = None;
    * Music (Original Song) / Music (Song) / ...: ``song`` = film_field, the entity
      "from <Film>; <credit>" gives ``films`` = (<Film>,) and ``nominees`` = <credit>.

    A nomination naming several films is printed as several honorees (one per film,
    same entity); they are kept apart here and merged downstream.
    """

    won: bool
    entities: tuple[str, ...]  # texts of the award-entities field items, as printed
    film_field: str | None  # text of the award-film field, as printed
    # Interpreted by the category's layout:
    films: tuple[str, ...]  # film titles this honoree names
    nominees: str | None  # people/entity names as printed
    song: str | None  # song title (Original Song layouts)
    country: str | None  # International Feature / Foreign Language Film country


@dataclass(frozen=True)
class OscarsCategory:
    name: str  # display text, e.g. "Actor in a Leading Role"
    term_id: str | None
    honorees: tuple[OscarsHonoree, ...]

    @property
    def winners(self) -> tuple[OscarsHonoree, ...]:
        return tuple(h for h in self.honorees if h.won)


@dataclass(frozen=True)
class OscarsCeremonyPage:
    url: str
    page_year: int  # the year in the page heading/URL (1928 + ceremony number)
    ceremony_number: int  # from "The 96th Academy Awards"
    title: str  # "The 96th Academy Awards"
    honoring: str | None  # "Honoring movies released in 2023"
    date: str | None  # ISO date when the page carries one (live site), else None
    location: str | None
    categories: tuple[OscarsCategory, ...]  # page order


@dataclass(frozen=True)
class ImdbTitle:
    id: str
    title: str
    original_title: str | None


@dataclass(frozen=True)
class ImdbName:
    id: str
    name: str
    note: str | None


def _unique(ids: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


@dataclass(frozen=True)
class ImdbNomination:
    is_winner: bool
    notes: str | None  # plainText of notes
    primary_kind: str  # "titles", "names", or the raw __typename otherwise
    titles: tuple[ImdbTitle, ...]  # primary titles (awardTitles)
    names: tuple[ImdbName, ...]  # primary names (awardNames)
    secondary_titles: tuple[ImdbTitle, ...]
    secondary_names: tuple[ImdbName, ...]
    secondary_companies: tuple[str, ...]

    @property
    def all_title_ids(self) -> tuple[str, ...]:
        """Primary then secondary title ids, de-duplicated, order kept."""
        return _unique([t.id for t in self.titles] + [t.id for t in self.secondary_titles])

    @property
    def all_name_ids(self) -> tuple[str, ...]:
        """Primary then secondary name ids, de-duplicated, order kept."""
        return _unique([n.id for n in self.names] + [n.id for n in self.secondary_names])


@dataclass(frozen=True)
class ImdbCategory:
    award_id: str | None
    award: str  # the award group text = the prize ("Oscar", "Palme d'Or", ...)
    category: str | None  # None when IMDb gives category null (the award is the category)
    nominations: tuple[ImdbNomination, ...]  # complete: a paginated category fails the parse

    @property
    def name(self) -> str:
        return self.category if self.category is not None else self.award


@dataclass(frozen=True)
class ImdbEditionRef:
    year: int
    instance: int
    edition_id: str | None


@dataclass(frozen=True)
class ImdbEditionPage:
    url: str
    event_id: str | None  # "ev0000003" from the route/canonical/query where available
    event_name: str | None  # editionInfo.event.name.text
    edition_id: str | None
    year: int
    instance: int
    location: str | None
    start_date: str | None  # ISO only when day+month+year are all known, else None
    end_date: str | None
    categories: tuple[ImdbCategory, ...]  # page order, award by award
    editions: tuple[ImdbEditionRef, ...]  # historyEventEditions as given (newest first)

    @property
    def nomination_count(self) -> int:
        return sum(len(c.nominations) for c in self.categories)
