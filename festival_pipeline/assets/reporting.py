"""Metadata shown in the Dagster UI, per year: counts, match rates and a short markdown preview.

Everything here is per partition (`context.add_asset_metadata(..., partition_key=…)`): a ranged run
materializes each year with that year's own numbers, never the range's totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from festival_pipeline.model import CeremonyRecord

PREVIEW_CATEGORIES = 30
RATE_KEYS = ("nomination_match_rate", "film_id_rate", "person_id_rate")


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


def ceremony_metadata(records: Sequence[CeremonyRecord]) -> dict[str, object]:
    """One year's parsed editions: counts, match rates (Oscars), and a preview of the first edition."""
    metadata: dict[str, object] = {
        "editions": len(records),
        "categories": sum(len(r.categories) for r in records),
        "nominations": sum(len(r.nominations) for r in records),
        "winners": sum(n.won for r in records for n in r.nominations),
    }
    if len(records) == 1:
        (record,) = records
        for key in RATE_KEYS:
            if (rate := _rate(record.match_stats, key)) is not None:
                metadata[key] = rate
        metadata["match_stats"] = MetadataValue.json(
            {k: v for k, v in record.match_stats.items() if not isinstance(v, list | dict)})
    if records:
        metadata["preview"] = MetadataValue.md(ceremony_preview(records[0]))
    return metadata


def column_schema(columns: Sequence[tuple[str, str, bool]]) -> TableSchema:
    """A table's `dagster/column_schema`: its (name, type, nullable) columns."""
    return TableSchema(columns=[TableColumn(name=name, type=data_type,
                                            constraints=TableColumnConstraints(nullable=nullable))
                                for name, data_type, nullable in columns])
