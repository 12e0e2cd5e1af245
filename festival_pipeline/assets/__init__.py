"""Dagster assets. `backfill_policy` is a beta parameter in Dagster 1.13; we rely on it on purpose
(single-run backfills), so its warning is silenced once here instead of in every run's log."""

import warnings

from dagster import BetaWarning

warnings.filterwarnings("ignore", category=BetaWarning)
