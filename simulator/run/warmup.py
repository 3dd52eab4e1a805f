"""Compile the engine ahead of its first use: ``python -m simulator.run.warmup``.

numba compiles the weekly step the first time a process needs it (15-25 s) and
keeps it in its disk cache, from which later processes load it in a fraction of a
second. Set-up runs this once after an install or an update of the engine, so
that the first comparison a user starts is as fast as any later one. A small
comparison of two bundled scenarios, one kept and one streamed, calls every
compiled function with the argument types the app and the command line use.
"""

from __future__ import annotations

import sys
import time

from simulator.model.scenario_io import load_scenario
from simulator.run.runner import RunSettings, compare

#: Small, but with a horizon past week 52 (the year-1 ARR figure).
WARMUP_SETTINGS = RunSettings(runs=64, horizon_weeks=60, warmup_weeks=8, seed=1)


def warm_up() -> float:
    """Compile (or load) every compiled function; returns the seconds taken."""
    start = time.perf_counter()
    baseline = load_scenario("siloed")
    alternative = load_scenario("aligned")
    for keep_weekly in (True, False):
        compare(
            baseline,
            [alternative],
            settings=WARMUP_SETTINGS,
            threads=1,
            keep_weekly=keep_weekly,
        )
    return time.perf_counter() - start


def main() -> int:
    seconds = warm_up()
    print(f"funnelsim: simulation engine ready ({seconds:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
