"""The festivals, and the records every source is turned into before it is written.

Both the Oscars path (oscars.org + IMDb) and the IMDb-only festival path produce a
`CeremonyRecord`; the database layer writes exactly that, so one writer serves all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal

ACADEMY_AWARDS_SLUG = "academy-awards"


@dataclass(frozen=True)
class Festival:
    """One festival (organization): its names, where IMDb lists it, and when its editions happen.
    `usual_month` is the month an edition usually takes place; its yearly schedule runs after it."""

    slug: str
    name: str
    abbreviation: str
    country: str
    founded_year: int
    website: str
    imdb_event_id: str
    usual_month: int
    first_edition_year: int  # first IMDb edition (the partition start)
    source: str = "imdb"  # "oscars.org+imdb" for the Academy Awards

    @property
    def is_oscars(self) -> bool:
        return self.slug == ACADEMY_AWARDS_SLUG


CategoryType = Literal["film", "person", "technical", "special"]
CATEGORY_TYPES: tuple[str, ...] = ("film", "person", "technical", "special")


@dataclass(frozen=True)
class CategoryRecord:
    """One category under one prize ("Oscar" / "Best Director", "Silver Lion" / "Best Director")."""

    prize_name: str
    name: str
    category_type: CategoryType
    tracks_person: bool
    # canonical name, the name on each site, IMDb award id, oscars.org term id, ...
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.prize_name, self.name)


@dataclass(frozen=True)
class NominationRecord:
    """One nomination: every nominee of it, the film(s) and the ids found for them."""

    prize_name: str
    category_name: str
    won: bool
    film_title: str | None
    film_imdb_ids: tuple[str, ...]
    person_imdb_ids: tuple[str, ...]
    nominee_names: str | None
    # films, people, character/song, note, citation, match information
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def category_key(self) -> tuple[str, str]:
        return (self.prize_name, self.category_name)

    def identity(self) -> str:
        """What distinguishes this nomination from its neighbours in the same category.

        Several nominations may share category and film (three Godfather Part II
        supporting actors), so the nominees, the song and the citation are part of it.
        """
        return json.dumps(
            [
                self.prize_name,
                self.category_name,
                self.film_title or "",
                sorted(self.film_imdb_ids),
                self.nominee_names or "",
                self.details.get("song") or "",
                # two special awards to one person with no film differ only by citation
                self.details.get("citation") or "",
            ],
            ensure_ascii=False,
        )


def _fields_of(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def nomination_keys(nominations: list[NominationRecord]) -> list[str]:
    """Stable keys for nominations of one ceremony: a hash of the identity, plus an
    ordinal for identical twins, so a rerun of the same page yields the same keys."""
    seen: dict[str, int] = {}
    keys = []
    for nomination in nominations:
        digest = hashlib.sha1(nomination.identity().encode("utf-8")).hexdigest()[:20]
        ordinal = seen.get(digest, 0)
        seen[digest] = ordinal + 1
        keys.append(f"{digest}-{ordinal}")
    return keys


@dataclass(frozen=True)
class CeremonyRecord:
    """One edition of one festival, ready to be written as one partition."""

    organization_slug: str
    year: int
    edition: int
    ceremony_number: int | None
    name: str | None
    date: str | None  # ISO date when the source gives one
    location: str | None
    data_source: str  # "oscars.org+imdb", "imdb"
    source_urls: tuple[str, ...]
    source_metadata: dict[str, Any]  # page hashes, parser version, IMDb edition id, ...
    categories: tuple[CategoryRecord, ...]
    nominations: tuple[NominationRecord, ...]
    # nominations listed but no winner yet ("announced, not awarded")
    announced_not_awarded: bool = False
    # the source lists the edition but no awards at all (IMDb Actor Awards 1963-1994)
    nothing_to_import: bool = False
    # matched / total counts and rates, for metadata and checks
    match_stats: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The JSON form stored in festival_ceremonies.data and the enhanced snapshot.

        Shallow on purpose: `dataclasses.asdict` deep-copies every details dict, which cost
        more than the database write it feeds. The result shares those dicts with the
        (frozen) record, so serialise it; do not mutate it.
        """
        data = _fields_of(self)
        data["categories"] = [_fields_of(category) for category in self.categories]
        data["nominations"] = [_fields_of(nomination) for nomination in self.nominations]
        return data

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CeremonyRecord:
        data = dict(payload)
        data["source_urls"] = tuple(data["source_urls"])
        data["categories"] = tuple(CategoryRecord(**c) for c in data["categories"])
        data["nominations"] = tuple(
            NominationRecord(
                **{
                    **n,
                    "film_imdb_ids": tuple(n["film_imdb_ids"]),
                    "person_imdb_ids": tuple(n["person_imdb_ids"]),
                }
            )
            for n in data["nominations"]
        )
        return cls(**data)


@dataclass(frozen=True)
class Provenance:
    """Which run produced a stored value, and the backfill it belongs to.

    `lineage` is the backfill a run belongs to, followed back through re-executions ("re-execute
    failed" makes a new backfill whose root is the original), so a re-execution can write what the
    run it completes parsed.
    """

    run_id: str
    lineage: str | None = None


@dataclass(frozen=True)
class ParsedYear:
    """Every edition of one festival-year as parsed, and by which run: what the write step writes.

    `ceremonies` is empty when the source lists no edition that year.
    """

    year: int
    ceremonies: tuple[CeremonyRecord, ...]
    provenance: Provenance
