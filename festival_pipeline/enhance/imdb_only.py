"""Festivals known from IMDb only (Cannes, Venice, Berlin, ...): IMDb edition page ->
CeremonyRecord, stored as IMDb gives it.

* every IMDb award group is a prize (``prize_name`` = the award text, "Palme d'Or",
  "Golden Lion"); every category under it a category (``name`` = the category text, or
  the award text when IMDb's category is null - "the award is the category");
* one NominationRecord per IMDb nomination: ``film_imdb_ids`` = primary and secondary
  title ids, ``person_imdb_ids`` = primary and secondary name ids, titles and names as
  given. Person-first nominations (AwardedNames with the film in secondaryAwardTitles)
  and titles-only nominations are stored alike; ``details["primary_kind"]`` says which;
* an edition IMDb lists with no category at all (Actor Awards 1963-1994: ``edition.awards``
  is empty) gives ``nothing_to_import=True`` and no categories. Categories listed with no
  nomination are kept as they are (and ``nothing_to_import`` stays False), so the blocking
  rules refuse the page instead of taking it for an edition without awards.
  ``nothing_to_import`` describes the page only: whether it may be written is the writer's
  decision (``database.ceremony_writer``), which refuses it as a shrink when the edition
  already has rows;
* ``announced_not_awarded`` = the edition lists nominations, no winner at all, and it is
  the newest edition of the event (Venice 2026 before the festival). An older edition
  without any winner is final, not pending: Cannes 1968 was interrupted and awarded
  nothing. A single category without a winner is legitimate too (prizes not given
  that year); both are reported in ``match_stats`` and never treated as errors.
"""

from __future__ import annotations

from typing import Any

from ..model import CategoryRecord, CeremonyRecord, NominationRecord
from ..parsers.records import ImdbCategory, ImdbEditionPage, ImdbName, ImdbNomination, ImdbTitle
from .category_types import classify_category

__all__ = ["PARSER_VERSION", "imdb_edition_to_ceremony"]

PARSER_VERSION = "imdb-only/1"
DATA_SOURCE = "imdb"
_LIST_LIMIT = 10


def imdb_edition_to_ceremony(
    page: ImdbEditionPage,
    organization_slug: str,
    *,
    page_hashes: dict[str, str] | None = None,
    imdb_source: str | None = None,
) -> CeremonyRecord:
    """One festival edition as IMDb lists it; see the module doc for the rules. `imdb_source` names
    what served it (IMDb's GraphQL API or its event page), for provenance."""
    categories: dict[tuple[str, str], CategoryRecord] = {}
    nominations: list[NominationRecord] = []
    for imdb_category in page.categories:
        record = _category_record(imdb_category)
        record = categories.setdefault(record.key, record)
        nominations.extend(_nomination_record(record, n) for n in imdb_category.nominations)
    has_winner = any(n.won for n in nominations)
    latest = _is_latest_edition(page)
    return CeremonyRecord(
        organization_slug=organization_slug,
        year=page.year,
        edition=page.instance,
        ceremony_number=None,
        name=_edition_name(page),
        date=page.start_date,
        location=page.location,
        data_source=DATA_SOURCE,
        source_urls=(page.url,),
        source_metadata={
            "page_sha256": dict(page_hashes or {}),
            "parser_version": PARSER_VERSION,
            "imdb_source": imdb_source,
            "imdb_event_id": page.event_id,
            "imdb_event_name": page.event_name,
            "imdb_edition_id": page.edition_id,
            "imdb_year": page.year,
            "imdb_instance": page.instance,
            "imdb_end_date": page.end_date,
            "latest_edition": latest,
        },
        categories=tuple(categories.values()),
        nominations=tuple(nominations),
        announced_not_awarded=bool(nominations) and not has_winner and latest,
        nothing_to_import=not page.categories,
        match_stats=_stats(page, nominations, has_winner),
    )


def _edition_name(page: ImdbEditionPage) -> str | None:
    if not page.event_name:
        return None
    suffix = f" #{page.instance}" if page.instance > 1 else ""
    return f"{page.event_name} {page.year}{suffix}"


def _is_latest_edition(page: ImdbEditionPage) -> bool:
    """True when no edition in IMDb's list is newer than this one (or there is no list)."""
    return all((e.year, e.instance) <= (page.year, page.instance) for e in page.editions)


def _category_record(category: ImdbCategory) -> CategoryRecord:
    name = category.name
    category_type, tracks_person = classify_category(category.award, name)
    return CategoryRecord(
        prize_name=category.award,
        name=name,
        category_type=category_type,  # type: ignore[arg-type]
        tracks_person=tracks_person,
        metadata={
            "source": "imdb",
            "imdb_award": category.award,
            "imdb_award_id": category.award_id,
            "imdb_category": category.category,
            "award_is_category": category.category is None,
        },
    )


def _nomination_record(category: CategoryRecord, nomination: ImdbNomination) -> NominationRecord:
    titles = (*nomination.titles, *nomination.secondary_titles)
    people = (*nomination.names, *nomination.secondary_names)
    details: dict[str, Any] = {
        "source": "imdb",
        "primary_kind": nomination.primary_kind,
        "films": [_film(t) for t in titles],
        "people": [_person(p) for p in people],
    }
    if nomination.secondary_companies:
        details["companies"] = list(nomination.secondary_companies)
    if nomination.notes:
        details["note"] = nomination.notes
    names = [p.name for p in people] or list(nomination.secondary_companies)
    return NominationRecord(
        prize_name=category.prize_name,
        category_name=category.name,
        won=nomination.is_winner,
        film_title=titles[0].title if titles else None,
        film_imdb_ids=nomination.all_title_ids,
        person_imdb_ids=nomination.all_name_ids,
        nominee_names=", ".join(names) or None,
        details=details,
    )


def _film(title: ImdbTitle) -> dict[str, Any]:
    entry: dict[str, Any] = {"title": title.title, "imdb_id": title.id}
    if title.original_title and title.original_title != title.title:
        entry["original_title"] = title.original_title
    return entry


def _person(person: ImdbName) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": person.name, "imdb_id": person.id}
    if person.note:
        entry["note"] = person.note
    return entry


def _stats(page: ImdbEditionPage, nominations: list[NominationRecord], has_winner: bool) -> dict[str, Any]:
    per_category: dict[tuple[str, str], list[bool]] = {}
    for n in nominations:
        per_category.setdefault(n.category_key, []).append(n.won)
    without_winner = [f"{p} / {c}" for (p, c), won in per_category.items() if not any(won)]
    films = sum(len(n.film_imdb_ids) for n in nominations)
    return {
        "nominations": len(nominations),
        "winners": sum(n.won for n in nominations),
        "categories": len(per_category),
        "imdb_categories": len(page.categories),
        "film_ids": films,
        "person_ids": sum(len(n.person_imdb_ids) for n in nominations),
        "nominations_without_film": sum(1 for n in nominations if not n.film_imdb_ids),
        "person_first_nominations": sum(1 for n in nominations if n.details.get("primary_kind") == "names"),
        "edition_without_winner": bool(nominations) and not has_winner,
        "categories_without_winner": len(without_winner),
        "categories_without_winner_list": without_winner[:_LIST_LIMIT],
    }
