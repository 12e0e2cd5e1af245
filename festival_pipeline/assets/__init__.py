"""Dagster assets: the festival registry, each festival's pages → parse → tables, and the award
profiles over every festival."""

import warnings

from dagster import BetaWarning

# `backfill_policy` on @asset is beta in Dagster 1.13; we rely on it on purpose (a backfill of many
# years runs in a few ranged runs). This one warning, and nothing else, is silenced.
warnings.filterwarnings(
    "ignore", message=r"Parameter `backfill_policy` of function `asset` is currently in beta", category=BetaWarning
)
