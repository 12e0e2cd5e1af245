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
class RuleOutcome:
    name: str
    passed: bool
    blocking: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def has_categories_and_nominations(record: CeremonyRecord) -> RuleOutcome:
    """An edition that lists awards must yield categories and nominations.

    An edition the source lists with no awards at all (IMDb's Actor Awards 1963-1994)
    passes with zero rows. It becomes 'nothing to import' only when the edition never had
    rows: for an edition with rows, the writer's shrink report refuses it (unless the
    shrink is accepted), so a page that lost its awards never empties a ceremony.
    """
    ok = record.nothing_to_import or (len(record.categories) > 0 and len(record.nominations) > 0)
    return RuleOutcome(
        "has_categories_and_nominations",
        ok,
        True,
        "the ceremony has categories and nominations",
        {"categories": len(record.categories), "nominations": len(record.nominations),
         "nothing_to_import": record.nothing_to_import},
    )


def every_category_has_a_nomination(record: CeremonyRecord) -> RuleOutcome:
    used = {n.category_key for n in record.nominations}
    empty = sorted(f"{prize} / {name}" for prize, name in (c.key for c in record.categories)
                   if (prize, name) not in used)
    return RuleOutcome(
        "every_category_has_a_nomination", not empty, True, "every category has at least one nomination",
        {"empty_categories": empty[:20], "count": len(empty)},
    )


def every_category_has_a_winner(record: CeremonyRecord, require: bool = True) -> RuleOutcome:
    """Oscars: every category has a winner unless the ceremony is announced-not-awarded.

    Festivals pass `require=False`: a selection without a listed winner is legitimate
    (Cannes 1968 was interrupted; IMDb lists competition films as nominees).
    """
    winners = {n.category_key for n in record.nominations if n.won}
    without = sorted(f"{p} / {n}" for p, n in {n.category_key for n in record.nominations} - winners)
    exempt = record.announced_not_awarded or not require
    return RuleOutcome(
        "every_category_has_a_winner",
        exempt or not without,
        True,
        "every category has a winner (unless announced, not awarded)",
        {"categories_without_winner": without[:20], "count": len(without),
         "announced_not_awarded": record.announced_not_awarded, "rule_applies": not exempt},
    )


def no_duplicate_nominations(record: CeremonyRecord) -> RuleOutcome:
    identities = Counter(n.identity() for n in record.nominations)
    duplicates = [identity for identity, count in identities.items() if count > 1]
    keys = nomination_keys(list(record.nominations))
    return RuleOutcome(
        "no_duplicate_nominations",
        not duplicates and len(set(keys)) == len(keys),
        False,
        "no nomination appears twice",
        {"duplicates": duplicates[:10], "count": len(duplicates)},
    )


def ids_well_formed(record: CeremonyRecord) -> RuleOutcome:
    bad = sorted(
        {i for n in record.nominations for i in n.film_imdb_ids if not TITLE_ID.match(i)}
        | {i for n in record.nominations for i in n.person_imdb_ids if not NAME_ID.match(i)}
    )
    return RuleOutcome("ids_well_formed", not bad, True, "IMDb ids look like tt…/nm…", {"bad_ids": bad[:20]})


def imdb_match_rate(record: CeremonyRecord, floor: float) -> RuleOutcome:
    """Share of nominations matched to IMDb; skipped for IMDb-only sources."""
    rate = record.match_stats.get("nomination_match_rate")
    ok = rate is None or rate >= floor
    return RuleOutcome(
        "imdb_match_rate_above_floor", ok, True, f"at least {floor:.0%} of nominations matched to IMDb",
        {"rate": rate, "floor": floor,
         **{k: v for k, v in record.match_stats.items() if not isinstance(v, list | dict)}},
    )


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
    return RuleOutcome(
        "sites_agree_on_categories", ok, True,
        "oscars.org and IMDb list the same competitive categories (Oscars only)",
        {"imdb_only": by_source["imdb"], "oscars_org_only": by_source["oscars.org"]},
    )


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
