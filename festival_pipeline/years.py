"""The years a festival's partitions cover, without Dagster: the command line's year selection and
`status` stay light (importing Dagster alone takes about a second)."""

from __future__ import annotations

from datetime import UTC, datetime


def years_since(first_year: int) -> list[int]:
    """From `first_year` to the current year (UTC): the keys of partitions.yearly_partitions(first_year)."""
    return list(range(first_year, datetime.now(UTC).year + 1))
