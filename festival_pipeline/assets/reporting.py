"""Metadata shown in the Dagster UI: counts, match rates and short markdown previews."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from dagster import MetadataValue

from festival_pipeline.model import CeremonyRecord

PREVIEW_CATEGORIES = 30


def _rate(stats: dict, key: str) -> float | None:
    value = stats.get(key)
    return round(float(value), 4) if isinstance(value, int | float) else None


def ceremony_preview(record: CeremonyRecord) -> str:
    """Categories in order with their winners (or '—' when none is awarded yet)."""
    winners: dict[tuple[str, str], list[str]] = defaultdict(list)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for nomination in record.nominations:
        counts[nomination.category_key] += 1
        if nomination.won:
            winners[nomination.category_key].append(nomination.film_title or nomination.nominee_names or "?")
    lines = [f"**{record.name or record.organization_slug} ({record.year})**", "",
             "| prize | category | nominations | winner |", "|---|---|---:|---|"]
    for category in record.categories[:PREVIEW_CATEGORIES]:
        won = "; ".join(winners.get(category.key, [])) or "—"
        lines.append(f"| {category.prize_name} | {category.name} | {counts.get(category.key, 0)} | {won} |")
    if len(record.categories) > PREVIEW_CATEGORIES:
        lines.append(f"| … | {len(record.categories) - PREVIEW_CATEGORIES} more | | |")
    return "\n".join(line.replace("\n", " ") for line in lines)


def range_summary(records: Mapping[str, CeremonyRecord]) -> dict[str, object]:
    """Totals over the run's editions (keyed "year" or "year/edition"), plus a table when there are several."""
    nominations = sum(len(r.nominations) for r in records.values())
    matched = sum(int(r.match_stats.get("nominations_matched", 0)) for r in records.values())
    # the match rate is over the nominations oscars.org lists (IMDb-only ones have nothing to match)
    matchable = sum(int(r.match_stats.get("oscars_org_nominations", 0)) for r in records.values())
    metadata: dict[str, object] = {
        "ceremonies": len(records),
        "categories": sum(len(r.categories) for r in records.values()),
        "nominations": nominations,
        "winners": sum(n.won for r in records.values() for n in r.nominations),
        "nomination_match_rate": round(matched / matchable, 4) if matchable else None,
    }
    if len(records) == 1:
        (record,) = records.values()
        for key in ("nomination_match_rate", "film_id_rate", "person_id_rate"):
            metadata[key] = _rate(record.match_stats, key)
        metadata["match_stats"] = MetadataValue.json(
            {k: v for k, v in record.match_stats.items() if not isinstance(v, list | dict)}
        )
    elif records:
        rows = ["| edition | categories | nominations | winners | match rate |", "|---:|---:|---:|---:|---:|"]
        for label, record in sorted(records.items()):
            rows.append(
                f"| {label} | {len(record.categories)} | {len(record.nominations)} | "
                f"{sum(n.won for n in record.nominations)} | {_rate(record.match_stats, 'nomination_match_rate')} |"
            )
        metadata["per_year"] = MetadataValue.md("\n".join(rows))
    return metadata
