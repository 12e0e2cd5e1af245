"""benchmarks/run.py still measures what benchmarks/README says: a maintainer who runs it after a change
to the product (the database's URLs, the CLI, the sources) gets numbers and true checks, not a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from festival_pipeline_tests.conftest import PROJECT_ROOT, requires_shared


@pytest.mark.integration
def test_the_benchmark_runs_its_phases_on_one_year_and_every_check_holds(tmp_path: Path) -> None:
    requires_shared()
    report_file = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "benchmarks/run.py", "--years", "2024", "--skip", "bare,single",
                             "--json", str(report_file)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert set(report["phases"]) == {"direct", "backfill", "from-archive"}
    assert report["checks"] and all(report["checks"].values()), report["checks"]
    assert report["checks"]["backfill: rows equal to direct's"]  # the 2024 ceremony, row by row
    assert report["phases"]["from-archive"]["http"]["requests"] == 0
