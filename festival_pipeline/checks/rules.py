"""What makes an imported ceremony usable: pure rules over a CeremonyRecord.

Asset checks report these; the write step refuses a ceremony that breaks a blocking
rule, so an empty or half-parsed page can never replace good rows.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from festival_pipeline.model import CeremonyRecord, nomination_keys

TITLE_ID = re.compile(r"^tt\d{7,10}$")
NAME_ID = re.compile(r"^nm\d{7,10}$")


@dataclass(frozen=True)
class Rule:
    """One rule, declared once: its check's name, what it asserts, and whether a failure blocks the
    write (the asset check specs are made from these)."""

    name: str
    description: str
    blocking: bool = True

    def outcome(self, passed: bool, metadata: dict[str, Any]) -> RuleOutcome:
        return RuleOutcome(self.name, passed, self.blocking, self.description, metadata)


@dataclass(frozen=True)
class RuleOutcome:
    name: str
    passed: bool
    blocking: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


HAS_CATEGORIES = Rule("has_categories_and_nominations",
                      "The ceremony has categories and nominations, or the source lists no awards for the edition "
                      "at all (recorded as nothing to import).")
CATEGORY_NOMINATED = Rule("every_category_has_a_nomination", "Every category has at least one nomination.")
CATEGORY_AWARDED = Rule("every_category_has_a_winner",
                        "Every category has a winner unless the ceremony is announced, not awarded. Oscars only: "
                        "festivals may list a selection without a winner.")
NO_DUPLICATES = Rule("no_duplicate_nominations", "No nomination is listed twice.", blocking=False)
IDS_WELL_FORMED = Rule("ids_well_formed", "Every IMDb id looks like tt…/nm….")
MATCH_RATE = Rule("imdb_match_rate_above_floor", "Enough oscars.org nominations matched to IMDb (Oscars only).")
SITES_AGREE = Rule("sites_agree_on_categories",
                   "oscars.org and IMDb list the same competitive categories, so a page that lost categories is "
                   "not completed from the other site (Oscars only).")
# every parsed ceremony is checked against these, in this order, before anything is written
CEREMONY_RULES = (HAS_CATEGORIES, CATEGORY_NOMINATED, CATEGORY_AWARDED, NO_DUPLICATES, IDS_WELL_FORMED, MATCH_RATE,
                  SITES_AGREE)


def has_categories_and_nominations(record: CeremonyRecord) -> RuleOutcome:
    """An edition that lists awards must yield categories and nominations.

    An edition the source lists with no awards at all (IMDb's Actor Awards 1963-1994)
    passes with zero rows. It becomes 'nothing to import' only when the edition never had
    rows: for an edition with rows, the writer's shrink report refuses it (unless the
    shrink is accepted), so a page that lost its awards never empties a ceremony.
    """
    ok = record.nothing_to_import or (len(record.categories) > 0 and len(record.nominations) > 0)
    return HAS_CATEGORIES.outcome(ok, {"categories": len(record.categories), "nominations": len(record.nominations),
                                       "nothing_to_import": record.nothing_to_import})


def every_category_has_a_nomination(record: CeremonyRecord) -> RuleOutcome:
    used = {n.category_key for n in record.nominations}
    empty = sorted(f"{prize} / {name}" for prize, name in (c.key for c in record.categories)
                   if (prize, name) not in used)
    return CATEGORY_NOMINATED.outcome(not empty, {"empty_categories": empty[:20], "count": len(empty)})


def every_category_has_a_winner(record: CeremonyRecord, require: bool = True) -> RuleOutcome:
    """Oscars: every category has a winner unless the ceremony is announced-not-awarded.

    Festivals pass `require=False`: a selection without a listed winner is legitimate
    (Cannes 1968 was interrupted; IMDb lists competition films as nominees).
    """
    winners = {n.category_key for n in record.nominations if n.won}
    without = sorted(f"{p} / {n}" for p, n in {n.category_key for n in record.nominations} - winners)
    exempt = record.announced_not_awarded or not require
    return CATEGORY_AWARDED.outcome(exempt or not without, {
        "categories_without_winner": without[:20], "count": len(without),
        "announced_not_awarded": record.announced_not_awarded, "rule_applies": not exempt})


def no_duplicate_nominations(record: CeremonyRecord) -> RuleOutcome:
    identities = Counter(n.identity() for n in record.nominations)
    duplicates = [identity for identity, count in identities.items() if count > 1]
    keys = nomination_keys(list(record.nominations))
    return NO_DUPLICATES.outcome(not duplicates and len(set(keys)) == len(keys),
                                 {"duplicates": duplicates[:10], "count": len(duplicates)})


def ids_well_formed(record: CeremonyRecord) -> RuleOutcome:
    bad = sorted(
        {i for n in record.nominations for i in n.film_imdb_ids if not TITLE_ID.match(i)}
        | {i for n in record.nominations for i in n.person_imdb_ids if not NAME_ID.match(i)}
    )
    return IDS_WELL_FORMED.outcome(not bad, {"bad_ids": bad[:20]})


def imdb_match_rate(record: CeremonyRecord, floor: float) -> RuleOutcome:
    """Share of nominations matched to IMDb; skipped for IMDb-only sources."""
    rate = record.match_stats.get("nomination_match_rate")
    ok = rate is None or rate >= floor
    return MATCH_RATE.outcome(ok, {"rate": rate, "floor": floor,
                                   **{k: v for k, v in record.match_stats.items() if not isinstance(v, list | dict)}})


# at most this many competitive categories may be on oscars.org and not on IMDb (1932 and 1933 each
# have one "Sound Recording" IMDb does not list); any competitive category on IMDb only is suspect
MAX_OSCARS_ORG_ONLY_CATEGORIES = 1
COMPETITIVE_PRIZE = "Oscar"


def sites_agree_on_categories(record: CeremonyRecord) -> RuleOutcome:
    """Oscars: both sites list the same competitive categories.

    A page that lost part of its categories (cut, redesigned, half-rendered) is otherwise
    "completed" from the other site and would be written as a smaller or mixed ceremony.
    """
    by_source: dict[str, list[str]] = {"oscars.org": [], "imdb": []}
    if record.data_source == "oscars.org+imdb":
        for category in record.categories:
            source = category.metadata.get("source")
            if category.prize_name == COMPETITIVE_PRIZE and source in by_source:
                by_source[source].append(category.name)
    ok = not by_source["imdb"] and len(by_source["oscars.org"]) <= MAX_OSCARS_ORG_ONLY_CATEGORIES
    return SITES_AGREE.outcome(ok, {"imdb_only": by_source["imdb"], "oscars_org_only": by_source["oscars.org"]})


def evaluate(record: CeremonyRecord, *, match_rate_floor: float, require_winners: bool) -> list[RuleOutcome]:
    return [
        has_categories_and_nominations(record),
        every_category_has_a_nomination(record),
        every_category_has_a_winner(record, require=require_winners),
        no_duplicate_nominations(record),
        ids_well_formed(record),
        imdb_match_rate(record, match_rate_floor),
        sites_agree_on_categories(record),
    ]


def blocking_failures(outcomes: list[RuleOutcome]) -> list[RuleOutcome]:
    return [o for o in outcomes if o.blocking and not o.passed]
