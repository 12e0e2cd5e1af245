"""Benchmark-only what-if (`benchmarks/run.py --whatif-enhance-fix`): with this folder on PYTHONPATH and
FESTIVAL_BENCH_WHATIF=enhance, every Python process of the run (CLI, Dagster step subprocesses, the direct
script) applies the suggested enhance fix in memory before it starts: memoised normalize helpers and
pruned category pairing (see benchmarks/enhance_whatif.py). No product file is changed."""

import os
import sys

if os.environ.get("FESTIVAL_BENCH_WHATIF") == "enhance":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import enhance_whatif

    enhance_whatif.memoise_normalize()
    enhance_whatif.prune_category_pairs()
