"""Day-to-day operations on top of the Dagster definitions: backfill and status.

Shared here: which festival a command means (`oscars` is the Academy Awards, `all` every
festival) and which of its partitions (years) a `--years` option selects.
"""

from __future__ import annotations

from typing import NamedTuple

from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, FESTIVALS, FESTIVALS_BY_SLUG, Festival
from festival_pipeline.years import years_since

ALL = "all"
ALIASES = {"oscars": ACADEMY_AWARDS_SLUG}


class SelectionError(ValueError):
    """A festival or year selection the command cannot run; the message says why."""


def festival_names() -> list[str]:
    """What a command takes as a festival: `oscars`, then every other registry slug."""
    return [festival_label(festival) for festival in FESTIVALS]


def resolve_festivals(target: str) -> list[Festival]:
    """`all`, a registry slug, `oscars`, or a slug written with '_' (the asset prefix)."""
    name = target.strip().lower()
    if name == ALL:
        return list(FESTIVALS)
    slug = ALIASES.get(name, name.replace("_", "-"))
    if slug not in FESTIVALS_BY_SLUG:
        raise SelectionError(f"unknown festival {target!r}; known: {', '.join([*festival_names(), ALL])}")
    return [FESTIVALS_BY_SLUG[slug]]


def parse_years(spec: str) -> list[int]:
    """`1929-2026`, `2024` or `1990,1995-1999` → sorted distinct years."""
    years: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise SelectionError(f"--years: {part!r} is not a year or a range like 1929-2026") from None
        if low > high:
            raise SelectionError(f"--years: {part!r} runs backwards")
        years.update(range(low, high + 1))
    if not years:
        raise SelectionError("--years selects no year")
    return sorted(years)


def partition_keys(festival: Festival) -> list[str]:
    """Every partition (year) of the festival, oldest first, up to the current year."""
    return [str(year) for year in years_since(festival.first_edition_year)]


def selected_keys(festival: Festival, years: list[int] | None) -> list[str]:
    """The festival's partition keys within `years` (all of them when `years` is None)."""
    keys = partition_keys(festival)
    if years is None:
        return keys
    wanted = {str(year) for year in years}
    return [key for key in keys if key in wanted]


class FestivalYears(NamedTuple):
    festival: Festival
    keys: list[str]  # the selected partitions
    all_keys: list[str]  # every partition of the festival


def plan(target: str, years: str | None) -> list[FestivalYears]:
    """The festivals and partitions `TARGET [--years …]` covers (backfill, status).

    For one festival, years outside its partitions are an error; for `all`, each festival
    takes the years it has.
    """
    festivals = resolve_festivals(target)
    wanted = set(parse_years(years)) if years else None
    selected = []
    for festival in festivals:
        keys = partition_keys(festival)
        chosen = keys if wanted is None else [key for key in keys if int(key) in wanted]
        outside = sorted(wanted - {int(key) for key in keys}) if wanted else []
        if outside and len(festivals) == 1:
            shown = ", ".join(str(year) for year in outside[:10]) + (" …" if len(outside) > 10 else "")
            raise SelectionError(f"{target} has partitions {keys[0]}-{keys[-1]}; outside them: {shown}")
        if chosen:
            selected.append(FestivalYears(festival, chosen, keys))
    if not selected:
        raise SelectionError("no festival has a partition in these years")
    return selected


def festival_label(festival: Festival) -> str:
    """The short name users type: `oscars` for the Academy Awards, else the slug."""
    return "oscars" if festival.is_oscars else festival.slug
