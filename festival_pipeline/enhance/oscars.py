"""Academy Awards: oscars.org ceremony page + IMDb edition page -> one CeremonyRecord.

oscars.org is the reference for *what* was nominated and who won (category names,
nominee credits as printed); IMDb supplies the ids (tt / nm) and the awards the
ceremony page does not show (Honorary, Sci-Tech, Thalberg/Hersholt after the 85th ...).

Matching, in order:

1. **Categories** - every oscars.org category is scored against every IMDb category
   by name (`category_similarity`: canonical category equal = 100, else rapidfuzz
   token score of the names without IMDb's "Best ..." prefixes) and by content (share
   of its nominations that find a counterpart in the IMDb category); pairs are taken
   greedily best first. Left-overs are paired by position only when exactly one
   oscars.org category and one IMDb "Oscar" category remain and their content agrees.
2. **Multi-film nominations** - oscars.org splits a nomination naming several films into
   one honoree per film with the same credit (ceremonies 1-3, 8). Honorees of one
   category with the same credit and winner flag whose films are the titles of one
   IMDb nomination are merged back into one nomination.
3. **Nominations** within a category pair - each (oscars.org nomination, IMDb nomination)
   gets a score from the film titles (normalised, rapidfuzz), the people (IMDb names
   found in the printed credit), the song (IMDb notes ``For "..."``) and the country
   (International / Foreign Language Film: IMDb notes). Passes, each one-to-one and
   best score first: (a) combined score >= 80; (b) a film title that identifies exactly
   one left-over on each side; (c) a person that does; (d) the last left-over on each
   side when their films or people agree at least loosely.
4. IMDb nominations left over, and IMDb categories without an oscars.org counterpart,
   become nominations / categories of their own (``details["source"] = "imdb"``).

Prize and category names (stable across years, so one category is one row every year):

* oscars.org categories: ``name`` = the oscars.org text. ``prize_name`` = the IMDb award
  group the category belongs to: "Oscar" for the competitive categories (incl. Honorary
  Foreign Language Film Award, which IMDb lists as an Oscar category) and the award's own
  text for the honorary awards IMDb lists as separate award groups ("Special Award",
  "Irving G. Thalberg Memorial Award", "Jean Hersholt Humanitarian Award", "Special
  Achievement Award", "Special Foreign Language Film Award"). The prize is derived from
  the oscars.org name (`oscars_prize_name`), never from the pairing, so it does not
  change when IMDb lacks the category one year.
* IMDb-only categories: ``prize_name`` = the IMDb award text; ``name`` = the IMDb
  category text under "Oscar", else the award text when IMDb's category is null
  ("Honorary Award", "Irving G. Thalberg Memorial Award" - the same text oscars.org
  prints, so Thalberg is one row before and after the 85th ceremony) or
  "<award> (<category>)" ("Special Achievement Award (Visual Effects)", as oscars.org).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from ..model import CategoryRecord, CeremonyRecord, NominationRecord
from ..parsers.records import (
    ImdbCategory,
    ImdbEditionPage,
    ImdbEditionRef,
    ImdbNomination,
    OscarsCategory,
    OscarsCeremonyPage,
    OscarsHonoree,
)
from .category_types import classify_category
from .normalize import (
    best_title_score,
    canonical_category,
    category_similarity,
    fold,
    name_in_text,
    title_similarity,
)

__all__ = [
    "DEFAULT_ORGANIZATION_SLUG",
    "PARSER_VERSION",
    "enhance_oscars_ceremony",
    "imdb_category_display_name",
    "imdb_edition_for_ceremony",
    "oscars_prize_name",
]

DEFAULT_ORGANIZATION_SLUG = "academy-awards"
PARSER_VERSION = "oscars-enhance/1"
DATA_SOURCE = "oscars.org+imdb"
OSCAR_PRIZE = "Oscar"

# canonical special categories -> the IMDb award group they are listed under
_SPECIAL_PRIZES = {
    "Special Award": "Special Award",
    "Honorary Award": "Honorary Award",
    "Irving G. Thalberg Memorial Award": "Irving G. Thalberg Memorial Award",
    "Jean Hersholt Humanitarian Award": "Jean Hersholt Humanitarian Award",
    "Special Foreign Language Film Award": "Special Foreign Language Film Award",
    "Gordon E. Sawyer Award": "Gordon E. Sawyer Award",
    "John A. Bonner Medal of Commendation": "John A. Bonner Award",
    "Medal of Commendation": "Medal of Commendation",
    "Award of Commendation": "Award of Commendation",
    "Academy Award of Merit": "Academy Award of Merit",
    "Scientific and Engineering Award": "Scientific and Engineering Award",
    "Technical Achievement Award": "Technical Achievement Award",
    "Scientific and Technical Award": "Scientific and Technical Award",
}

CATEGORY_NAME_ACCEPT = 100.0  # canonical names equal
CATEGORY_COMBINED_ACCEPT = 70.0
STRICT_ACCEPT = 80.0
UNIQUE_ACCEPT = 88.0
LOOSE_ACCEPT = 60.0
MULTIFILM_TITLE_ACCEPT = 90.0
_SONG_NOTE = re.compile(r'For\s+"([^"]+)"')
_UNMATCHED_LIST_LIMIT = 5


# ---------------------------------------------------------------------------
# editions
# ---------------------------------------------------------------------------

def imdb_edition_for_ceremony(editions: Sequence[ImdbEditionRef], ceremony_number: int) -> ImdbEditionRef:
    """The IMDb edition of the n-th ceremony, taken from IMDb's own edition list.

    IMDb keys editions by the year held and an instance within the year (the 2nd and
    3rd ceremonies were both held in 1930: /1930/1 and /1930/2, and there is no 1933);
    the n-th edition in chronological order (year, instance) is ceremony n.
    """
    ordered = sorted({(e.year, e.instance): e for e in editions}.values(), key=lambda e: (e.year, e.instance))
    if not 1 <= ceremony_number <= len(ordered):
        raise ValueError(f"ceremony {ceremony_number} is not in IMDb's edition list ({len(ordered)} editions)")
    return ordered[ceremony_number - 1]


# ---------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------

def oscars_prize_name(category_name: str) -> str:
    """Prize of an oscars.org category: "Oscar", or the honorary award group's text."""
    canonical = canonical_category(category_name) or ""
    if canonical.startswith("Special Achievement Award"):
        return "Special Achievement Award"
    return _SPECIAL_PRIZES.get(canonical, OSCAR_PRIZE)


def imdb_category_display_name(category: ImdbCategory) -> str:
    """Category name for an IMDb category: its text under "Oscar", else the award text
    (category null) or "<award> (<category>)"."""
    if category.category is None:
        return category.award
    if category.award == OSCAR_PRIZE:
        return category.category
    return f"{category.award} ({category.category})"


# ---------------------------------------------------------------------------
# oscars.org nominations (honorees merged back into nominations)
# ---------------------------------------------------------------------------

@dataclass
class _OscarsNomination:
    honorees: list[OscarsHonoree]
    won: bool
    films: list[str]
    nominees: str | None
    song: str | None
    country: str | None
    entities: tuple[str, ...]

    @classmethod
    def of(cls, honoree: OscarsHonoree) -> _OscarsNomination:
        return cls([honoree], honoree.won, list(honoree.films), honoree.nominees, honoree.song,
                   honoree.country, honoree.entities)

    def absorb(self, other: _OscarsNomination) -> None:
        self.honorees.extend(other.honorees)
        self.films.extend(f for f in other.films if f not in self.films)

    def label(self) -> str:
        parts = [p for p in (", ".join(self.films), self.nominees, self.song) if p]
        return " - ".join(parts)[:120]


def _imdb_titles(nom: ImdbNomination) -> list[str]:
    out = []
    for t in (*nom.titles, *nom.secondary_titles):
        out.append(t.title)
        if t.original_title and t.original_title != t.title:
            out.append(t.original_title)
    return out


def _imdb_names(nom: ImdbNomination) -> list[str]:
    return [n.name for n in (*nom.names, *nom.secondary_names)]


def _songs(nom: ImdbNomination) -> list[str]:
    return _SONG_NOTE.findall(nom.notes or "")


def _merge_multifilm(noms: list[_OscarsNomination], imdb: Sequence[ImdbNomination]) -> list[_OscarsNomination]:
    """Merge honorees split per film back into the IMDb nomination naming all their films."""
    noms = list(noms)
    for imdb_nom in imdb:
        titles = [t.title for t in (*imdb_nom.titles, *imdb_nom.secondary_titles)]
        if len(titles) < 2:
            continue
        groups: dict[tuple, list[_OscarsNomination]] = {}
        for nom in noms:
            if len(nom.films) != 1 or best_title_score(nom.films, titles) < MULTIFILM_TITLE_ACCEPT:
                continue
            if not _people_agree(nom, imdb_nom):
                continue
            groups.setdefault((nom.entities, nom.won), []).append(nom)
        group = max(groups.values(), key=len, default=[])
        if len(group) < 2:
            continue
        head = group[0]
        for other in group[1:]:
            head.absorb(other)
            noms.remove(other)
    return noms


def _people_agree(nom: _OscarsNomination, imdb_nom: ImdbNomination) -> bool:
    names = _imdb_names(imdb_nom)
    if not names or not nom.nominees:
        return True
    return _person_score(nom, names) >= 80


# ---------------------------------------------------------------------------
# nomination scores
# ---------------------------------------------------------------------------

@dataclass
class _Score:
    total: float
    film: float | None = None
    person: float | None = None
    song: float | None = None
    country: float | None = None

    def method(self) -> str:
        parts = [k for k in ("film", "person", "song", "country") if (getattr(self, k) or 0) >= 80]
        return "+".join(parts) or "fuzzy"


def _person_score(nom: _OscarsNomination, names: list[str]) -> float:
    if not names or not nom.nominees:
        return 0.0
    return sum(name_in_text(n, nom.nominees) for n in names) / len(names)


def _country_score(country: str, notes: str) -> float:
    a, b = fold(country), fold(notes)
    if not a or not b:
        return 0.0
    if a == b or a.startswith(b + " ") or b.startswith(a + " "):
        return 100.0
    return float(fuzz.partial_ratio(a, b)) if min(len(a), len(b)) >= 4 else 0.0


def _nomination_score(nom: _OscarsNomination, imdb_nom: ImdbNomination) -> _Score:
    score = _Score(0.0)
    weighted: list[tuple[float, float]] = []
    titles = _imdb_titles(imdb_nom)
    if nom.films and titles:
        score.film = best_title_score(nom.films, titles)
        weighted.append((score.film, 1.0))
    names = _imdb_names(imdb_nom)
    if names and nom.nominees:
        score.person = _person_score(nom, names)
        weighted.append((score.person, 1.0))
    songs = _songs(imdb_nom)
    if nom.song and songs:
        score.song = max(title_similarity(nom.song, s) for s in songs)
        weighted.append((score.song, 1.5))
    if nom.country and imdb_nom.notes and not songs:
        score.country = _country_score(nom.country, imdb_nom.notes)
        weighted.append((score.country, 0.5))
    if weighted:
        score.total = sum(s * w for s, w in weighted) / sum(w for _, w in weighted)
    return score


# ---------------------------------------------------------------------------
# matching nominations within one category pair
# ---------------------------------------------------------------------------

@dataclass
class _Match:
    oscars: _OscarsNomination
    imdb: ImdbNomination | None
    method: str = ""
    score: float = 0.0
    reason: str = ""
    not_on_imdb: bool = False


def _match_nominations(noms: list[_OscarsNomination],
                       imdb: Sequence[ImdbNomination]) -> tuple[list[_Match], list[ImdbNomination]]:
    """One-to-one matches (in oscars.org order) and the IMDb nominations left over."""
    scores = {(i, j): _nomination_score(o, n) for i, o in enumerate(noms) for j, n in enumerate(imdb)}
    taken: dict[int, tuple[int, str, float]] = {}
    used: set[int] = set()

    def free() -> tuple[list[int], list[int]]:
        return ([i for i in range(len(noms)) if i not in taken], [j for j in range(len(imdb)) if j not in used])

    def take(i: int, j: int, method: str) -> None:
        taken[i] = (j, method, round(scores[i, j].total, 1))
        used.add(j)

    # (a) strict: best combined scores first
    for (i, j), s in sorted(scores.items(), key=lambda kv: -kv[1].total):
        if s.total >= STRICT_ACCEPT and i not in taken and j not in used:
            take(i, j, s.method())
    # (b)/(c) one component identifies exactly one left-over on each side
    for component in ("film", "person", "song"):
        _unique_component_pass(scores, free, take, component)
    # (d) last left-over on each side, loosely agreeing
    left_o, left_i = free()
    if len(left_o) == 1 and len(left_i) == 1:
        s = scores[left_o[0], left_i[0]]
        if max(s.film or 0, s.person or 0, s.song or 0, s.total) >= LOOSE_ACCEPT:
            take(left_o[0], left_i[0], "last-remaining")

    matches = []
    for i, nom in enumerate(noms):
        if i in taken:
            j, method, score = taken[i]
            matches.append(_Match(nom, imdb[j], method, score))
        else:
            reason, not_listed = _unmatched_reason(i, imdb, scores, used)
            matches.append(_Match(nom, None, reason=reason, not_on_imdb=not_listed))
    leftovers = [n for j, n in enumerate(imdb) if j not in used]
    return matches, leftovers


def _unique_component_pass(scores: dict, free: Callable[[], tuple[list[int], list[int]]],
                           take: Callable[[int, int, str], None], component: str) -> None:
    left_o, left_i = free()
    candidates = []
    for i in left_o:
        good = [j for j in left_i if (getattr(scores[i, j], component) or 0) >= UNIQUE_ACCEPT]
        if len(good) == 1:
            j = good[0]
            rivals = [k for k in left_o if (getattr(scores[k, j], component) or 0) >= UNIQUE_ACCEPT]
            if rivals == [i]:
                candidates.append((i, j))
    for i, j in candidates:
        take(i, j, f"unique-{component}")


def _unmatched_reason(i: int, imdb: Sequence, scores: dict, used: set[int]) -> tuple[str, bool]:
    """(reason, IMDb does not list it): IMDb omits nominations without a linkable film or
    person, so an unmatched nomination with no IMDb nomination left in its category is
    simply not on IMDb; one with IMDb nominations left over is a matching failure."""
    left = [j for j in range(len(imdb)) if j not in used]
    if not left:
        return ("IMDb lists no further nomination in this category "
                "(IMDb omits nominations without a linkable film or person)"), True
    best = max(scores[i, j].total for j in left)
    return (f"no left-over IMDb nomination agrees on film/person/song "
            f"({len(left)} left, best score {best:.0f})"), False


# ---------------------------------------------------------------------------
# category pairing
# ---------------------------------------------------------------------------

@dataclass
class _CategoryPair:
    oscars: OscarsCategory | None
    imdb: ImdbCategory | None
    method: str = ""
    score: float = 0.0
    noms: list[_OscarsNomination] = field(default_factory=list)


def _content_score(noms: list[_OscarsNomination], imdb_cat: ImdbCategory) -> float:
    """0..100: share of oscars.org nominations with a good counterpart in the IMDb category."""
    if not noms or not imdb_cat.nominations:
        return 0.0
    hits = 0
    for nom in noms:
        if any(_nomination_score(nom, n).total >= STRICT_ACCEPT for n in imdb_cat.nominations):
            hits += 1
    return 100.0 * hits / len(noms)


def _pair_categories(oscars: Sequence[OscarsCategory], imdb: Sequence[ImdbCategory]) -> list[_CategoryPair]:
    base = [[_OscarsNomination.of(h) for h in cat.honorees] for cat in oscars]
    scored = []
    for i, cat in enumerate(oscars):
        for j, icat in enumerate(imdb):
            name = category_similarity(cat.name, imdb_category_display_name(icat))
            # content scores at most 100, so below this the pair can never be kept: skip scoring it
            if name < CATEGORY_NAME_ACCEPT and 0.6 * name + 40.0 < CATEGORY_COMBINED_ACCEPT:
                continue
            content = _content_score(base[i], icat)
            total = 0.6 * name + 0.4 * content
            if name >= CATEGORY_NAME_ACCEPT or total >= CATEGORY_COMBINED_ACCEPT:
                scored.append((total, name, i, j))
    pairs: dict[int, tuple[int, str, float]] = {}
    used: set[int] = set()
    for total, name, i, j in sorted(scored, key=lambda t: (-t[0], -t[1])):
        if i not in pairs and j not in used:
            pairs[i] = (j, "name" if name >= CATEGORY_NAME_ACCEPT else "name+content", round(total, 1))
            used.add(j)
    _pair_by_position(oscars, imdb, base, pairs, used)
    out = []
    for i, cat in enumerate(oscars):
        if i in pairs:
            j, method, score = pairs[i]
            out.append(_CategoryPair(cat, imdb[j], method, score, base[i]))
        else:
            out.append(_CategoryPair(cat, None, noms=base[i]))
    out.extend(_CategoryPair(None, icat, "imdb-only") for j, icat in enumerate(imdb) if j not in used)
    return out


def _pair_by_position(oscars: Sequence[OscarsCategory], imdb: Sequence[ImdbCategory],
                      base: list[list[_OscarsNomination]], pairs: dict, used: set[int]) -> None:
    """Pair the last left-overs when unambiguous: one oscars.org "Oscar" category and one
    IMDb "Oscar" category remain, and at least half of the nominations agree."""
    left_o = [i for i, c in enumerate(oscars) if i not in pairs and oscars_prize_name(c.name) == OSCAR_PRIZE]
    left_i = [j for j, c in enumerate(imdb) if j not in used and c.award == OSCAR_PRIZE]
    if len(left_o) == 1 and len(left_i) == 1:
        i, j = left_o[0], left_i[0]
        content = _content_score(base[i], imdb[j])
        if content >= 50:
            pairs[i] = (j, "position", round(content, 1))
            used.add(j)


# ---------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------

def _film_details(nom: _OscarsNomination | None, imdb_nom: ImdbNomination | None) -> list[dict[str, Any]]:
    """[{title, imdb_id}] - oscars.org titles with the IMDb id of the most similar IMDb title."""
    imdb_titles = list((*imdb_nom.titles, *imdb_nom.secondary_titles)) if imdb_nom else []
    out: list[dict[str, Any]] = []
    left = list(imdb_titles)
    for film in (nom.films if nom else []):
        best = max(left, key=lambda t: max(title_similarity(film, t.title),
                                           title_similarity(film, t.original_title)), default=None)
        if best is not None and max(title_similarity(film, best.title),
                                    title_similarity(film, best.original_title)) >= 60:
            left.remove(best)
            out.append({"title": film, "imdb_id": best.id})
        else:
            out.append({"title": film, "imdb_id": None})
    if left and nom is not None and len(out) == len(left) == 1 and out[0]["imdb_id"] is None:
        # the one film of each side: the same film under another title
        out[0]["imdb_id"] = left.pop().id
    for t in left:
        out.append({"title": t.title, "imdb_id": t.id})
    return out


def _people_details(imdb_nom: ImdbNomination | None) -> list[dict[str, Any]]:
    if imdb_nom is None:
        return []
    seen: set[str] = set()
    out = []
    for person in (*imdb_nom.names, *imdb_nom.secondary_names):
        if person.id in seen:
            continue
        seen.add(person.id)
        entry: dict[str, Any] = {"name": person.name, "imdb_id": person.id}
        if person.note:
            entry["note"] = person.note
        out.append(entry)
    return out


def _note_details(imdb_nom: ImdbNomination | None, special: bool) -> dict[str, Any]:
    if imdb_nom is None or not imdb_nom.notes:
        return {}
    return {"citation": imdb_nom.notes} if special else {"note": imdb_nom.notes}


def _film_ids(films: list[dict[str, Any]], imdb_nom: ImdbNomination | None) -> tuple[str, ...]:
    ids = [f["imdb_id"] for f in films if f.get("imdb_id")]
    if imdb_nom is not None:
        ids.extend(imdb_nom.all_title_ids)
    return tuple(dict.fromkeys(ids))


def _matched_record(category: CategoryRecord, match: _Match, special: bool) -> NominationRecord:
    nom, imdb_nom = match.oscars, match.imdb
    films = _film_details(nom, imdb_nom)
    details: dict[str, Any] = {
        "source": "both" if imdb_nom is not None else "oscars.org",
        "films": films,
        "people": _people_details(imdb_nom),
        "entities": list(dict.fromkeys(e for h in nom.honorees for e in h.entities)),
    }
    if nom.song:
        details["song"] = nom.song
    if nom.country:
        details["country"] = nom.country
    details.update(_note_details(imdb_nom, special))
    if imdb_nom is not None:
        details["match"] = {"status": "matched", "method": match.method, "score": match.score}
        if imdb_nom.is_winner != nom.won:
            details["winner_conflict"] = {"oscars_org": nom.won, "imdb": imdb_nom.is_winner}
        if imdb_nom.secondary_companies:
            details["companies"] = list(imdb_nom.secondary_companies)
    else:
        details["match"] = {"status": "unmatched", "reason": match.reason, "not_on_imdb": match.not_on_imdb}
    film_title = nom.films[0] if nom.films else (films[0]["title"] if films else None)
    return NominationRecord(
        prize_name=category.prize_name,
        category_name=category.name,
        won=nom.won,
        film_title=film_title,
        film_imdb_ids=_film_ids(films, imdb_nom),
        person_imdb_ids=imdb_nom.all_name_ids if imdb_nom is not None else (),
        nominee_names=nom.nominees,
        details=details,
    )


def _imdb_only_record(category: CategoryRecord, imdb_nom: ImdbNomination, special: bool,
                      reason: str) -> NominationRecord:
    films = _film_details(None, imdb_nom)
    people = _people_details(imdb_nom)
    names = [p["name"] for p in people] or list(imdb_nom.secondary_companies)
    details: dict[str, Any] = {
        "source": "imdb",
        "films": films,
        "people": people,
        "match": {"status": "imdb_only", "reason": reason},
    }
    songs = _songs(imdb_nom)
    if songs:
        details["song"] = songs[0]
    if imdb_nom.secondary_companies:
        details["companies"] = list(imdb_nom.secondary_companies)
    details.update(_note_details(imdb_nom, special))
    return NominationRecord(
        prize_name=category.prize_name,
        category_name=category.name,
        won=imdb_nom.is_winner,
        film_title=films[0]["title"] if films else None,
        film_imdb_ids=imdb_nom.all_title_ids,
        person_imdb_ids=imdb_nom.all_name_ids,
        nominee_names=", ".join(names) or None,
        details=details,
    )


def _category_record(pair: _CategoryPair) -> CategoryRecord:
    if pair.oscars is not None:
        prize, name = oscars_prize_name(pair.oscars.name), pair.oscars.name
    else:
        assert pair.imdb is not None
        prize, name = pair.imdb.award, imdb_category_display_name(pair.imdb)
    category_type, tracks_person = classify_category(prize, name)
    imdb_name = imdb_category_display_name(pair.imdb) if pair.imdb is not None else None
    metadata: dict[str, Any] = {
        "source": "both" if pair.oscars and pair.imdb else ("oscars.org" if pair.oscars else "imdb"),
        "oscars_org_name": pair.oscars.name if pair.oscars else None,
        "imdb_name": imdb_name,
        "imdb_award": pair.imdb.award if pair.imdb else None,
        "imdb_award_id": pair.imdb.award_id if pair.imdb else None,
        "term_id": pair.oscars.term_id if pair.oscars else None,
        "canonical": canonical_category(name) or canonical_category(imdb_name) or name,
    }
    if pair.oscars is not None and pair.imdb is not None:
        metadata["pairing"] = {"method": pair.method, "score": pair.score}
        if pair.imdb.award != prize:
            metadata["imdb_award_differs"] = True
    return CategoryRecord(prize, name, category_type, tracks_person, metadata)  # type: ignore[arg-type]


def _is_special(category: CategoryRecord) -> bool:
    return category.prize_name != OSCAR_PRIZE


# ---------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------

@dataclass
class _Tally:
    oscars_noms: int = 0
    matched: int = 0
    imdb_only: int = 0
    imdb_only_in_paired: int = 0
    winner_conflicts: int = 0
    not_on_imdb: int = 0
    unmatched: dict[str, list[str]] = field(default_factory=dict)


def enhance_oscars_ceremony(
    oscars_page: OscarsCeremonyPage,
    imdb_page: ImdbEditionPage,
    *,
    page_hashes: dict[str, str] | None = None,
    organization_slug: str = DEFAULT_ORGANIZATION_SLUG,
    imdb_source: str | None = None,
) -> CeremonyRecord:
    """Merge one ceremony's oscars.org page and IMDb edition (page or API answers: `imdb_source`, for
    provenance) into a CeremonyRecord."""
    categories: dict[tuple[str, str], CategoryRecord] = {}
    nominations: list[NominationRecord] = []
    tally = _Tally()
    for pair in _pair_categories(oscars_page.categories, imdb_page.categories):
        category = categories.setdefault(_category_record(pair).key, _category_record(pair))
        nominations.extend(_pair_nominations(pair, category, tally))
    match_stats = _match_stats(nominations, imdb_page, categories, tally)
    return CeremonyRecord(
        organization_slug=organization_slug,
        year=oscars_page.page_year,
        edition=1,
        ceremony_number=oscars_page.ceremony_number,
        name=oscars_page.title,
        date=oscars_page.date or imdb_page.start_date,
        location=oscars_page.location or imdb_page.location,
        data_source=DATA_SOURCE,
        source_urls=(oscars_page.url, imdb_page.url),
        source_metadata={
            "page_sha256": dict(page_hashes or {}),
            "parser_version": PARSER_VERSION,
            "imdb_source": imdb_source,
            "imdb_edition_id": imdb_page.edition_id,
            "imdb_year": imdb_page.year,
            "imdb_instance": imdb_page.instance,
            "honoring": oscars_page.honoring,
        },
        categories=tuple(categories.values()),
        nominations=tuple(nominations),
        announced_not_awarded=bool(nominations) and not any(n.won for n in nominations),
        match_stats=match_stats,
    )


def _pair_nominations(pair: _CategoryPair, category: CategoryRecord, tally: _Tally) -> list[NominationRecord]:
    special = _is_special(category)
    if pair.oscars is None:
        assert pair.imdb is not None
        tally.imdb_only += len(pair.imdb.nominations)
        reason = "category not on the oscars.org ceremony page"
        return [_imdb_only_record(category, n, special, reason) for n in pair.imdb.nominations]
    imdb_noms = pair.imdb.nominations if pair.imdb is not None else ()
    noms = _merge_multifilm(pair.noms, imdb_noms)
    tally.oscars_noms += len(noms)
    if pair.imdb is None:
        reason = "IMDb lists no category matching this oscars.org category"
        matches = [_Match(n, None, reason=reason, not_on_imdb=True) for n in noms]
        leftovers: list[ImdbNomination] = []
    else:
        matches, leftovers = _match_nominations(noms, imdb_noms)
    out = []
    for match in matches:
        record = _matched_record(category, match, special)
        if match.imdb is None:
            tally.unmatched.setdefault(category.name, []).append(match.oscars.label())
            tally.not_on_imdb += match.not_on_imdb
        else:
            tally.matched += 1
            tally.winner_conflicts += "winner_conflict" in record.details
        out.append(record)
    tally.imdb_only += len(leftovers)
    tally.imdb_only_in_paired += len(leftovers)
    reason = "IMDb nomination without a counterpart on the oscars.org page"
    out.extend(_imdb_only_record(category, n, special, reason) for n in leftovers)
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _match_stats(nominations: list[NominationRecord], imdb_page: ImdbEditionPage,
                 categories: dict, tally: _Tally) -> dict[str, Any]:
    films = [f for n in nominations for f in n.details.get("films", [])]
    films_with_ids = sum(1 for f in films if f.get("imdb_id"))
    imdb_people = sum(len(n.all_name_ids) for c in imdb_page.categories for n in c.nominations)
    people_with_ids = sum(len(n.person_imdb_ids) for n in nominations)
    imdb_total = imdb_page.nomination_count
    sources = [c.metadata.get("source") for c in categories.values()]
    unmatched_total = sum(len(v) for v in tally.unmatched.values())
    return {
        "nominations": len(nominations),
        "oscars_org_nominations": tally.oscars_noms,
        "nominations_matched": tally.matched,
        "nominations_unmatched": unmatched_total,
        "nominations_not_on_imdb": tally.not_on_imdb,
        # matched / oscars.org nominations IMDb could have listed (see _unmatched_reason)
        "nomination_match_rate": _rate(tally.matched, tally.oscars_noms - tally.not_on_imdb),
        "raw_match_rate": _rate(tally.matched, tally.oscars_noms),
        "imdb_nominations": imdb_total,
            "imdb_only": tally.imdb_only,
        "imdb_only_in_paired_categories": tally.imdb_only_in_paired,
        "films": len(films),
        "films_with_ids": films_with_ids,
        "film_id_rate": _rate(films_with_ids, len(films)),
        "people_imdb_lists": imdb_people,
        "people_with_ids": people_with_ids,
        "person_id_rate": _rate(people_with_ids, imdb_people),
        "winner_conflicts": tally.winner_conflicts,
        "categories": len(categories),
        "categories_paired": sources.count("both"),
        "categories_oscars_org_only": sources.count("oscars.org"),
        "categories_imdb_only": sources.count("imdb"),
        "unmatched_by_category": {k: v[:_UNMATCHED_LIST_LIMIT] for k, v in tally.unmatched.items()},
    }
