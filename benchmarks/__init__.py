"""Benchmarks: each one a module run as ``python -m benchmarks.NAME`` (docs/BENCHMARKS.md)."""

import os

# Every command a benchmark starts runs in its own process, as it does without a daemon: a
# daemon the caller may have running would otherwise take them (and the launcher would measure
# the caller, not the work). bench_cli's daemon rows name a daemon of their own explicitly.
os.environ["COMPLIANCE_DAEMON"] = "off"
