"""Day-to-day operations on top of the Dagster definitions: backfill and status.

Shared here: which festival a command means (`oscars` is the Academy Awards, `all` every
festival) and which of its partitions (years) a `--years` option selects.
"""

from __future__ import annotations

from festival_pipeline.groups import festival_partitions_def
from festival_pipeline.registry import ACADEMY_AWARDS_SLUG, FESTIVALS, FESTIVALS_BY_SLUG, Festival

ALL = "all"
ALIASES = {"oscars": ACADEMY_AWARDS_SLUG}


class SelectionError(ValueError):
    """A festival or year selection the command cannot run; the message says why."""


def resolve_festivals(target: str) -> list[Festival]:
    """`all`, a registry slug, `oscars`, or a slug written with '_' (the asset prefix)."""
    name = target.strip().lower()
    if name == ALL:
        return list(FESTIVALS)
    slug = ALIASES.get(name, name.replace("_", "-"))
    if slug not in FESTIVALS_BY_SLUG:
        known = ", ".join(["oscars", *(f.slug for f in FESTIVALS if not f.is_oscars), ALL])
        raise SelectionError(f"unknown festival {target!r}; known: {known}")
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
    return list(festival_partitions_def(festival).get_partition_keys())


def selected_keys(festival: Festival, years: list[int] | None) -> list[str]:
    """The festival's partition keys within `years` (all of them when `years` is None)."""
    keys = partition_keys(festival)
    if years is None:
        return keys
    wanted = {str(year) for year in years}
    return [key for key in keys if key in wanted]


def festival_label(festival: Festival) -> str:
    """The short name users type: `oscars` for the Academy Awards, else the slug."""
    return "oscars" if festival.is_oscars else festival.slug
