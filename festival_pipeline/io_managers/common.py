"""What every festival IO manager needs from its context: the festival, and the years."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import InputContext, OutputContext

FESTIVAL_METADATA = "festival_pipeline/festival"  # the registry slug an asset belongs to
PAGE_ROLE_METADATA = "festival_pipeline/page_role"  # which page of a year a page asset holds


def definition_metadata(context: InputContext | OutputContext) -> Mapping[str, Any]:
    """The asset's definition metadata (of the upstream asset when loading an input)."""
    if isinstance(context, InputContext):
        return context.upstream_output.definition_metadata or {}
    return context.definition_metadata or {}


def festival_slug(context: InputContext | OutputContext) -> str:
    slug = definition_metadata(context).get(FESTIVAL_METADATA)
    if not slug:
        raise TypeError(f"asset {context.asset_key.to_user_string()} has no {FESTIVAL_METADATA} metadata")
    return str(slug)
