"""Dagster resources: the festival database and the source websites (plain config fields;
`festival_pipeline.settings` fills them from the environment)."""

from festival_pipeline.resources.database import FestivalDatabase
from festival_pipeline.resources.websites import SourceWebsites

__all__ = ["FestivalDatabase", "SourceWebsites"]
