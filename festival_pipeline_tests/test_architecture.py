"""The layers hold by contract (.importlinter): nothing imports upward, the domain core is pure, the
I/O layers hold no Dagster, the asset layer no SQL, and no import cycle at any depth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from festival_pipeline_tests.conftest import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_import_contracts_hold() -> None:
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "5 kept, 0 broken" in result.stdout
