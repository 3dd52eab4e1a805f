"""``funnelsim bench``: engine speed measured against a numpy yardstick.

Speed is a measurement, not a test: machines differ, so the headline figure is a
ratio of two timings taken in the same process, the comparison of ``siloed`` with
``aligned`` over the time numpy takes to draw 20 million binomial variates.
Scaling runs (how time and peak memory grow with runs and weeks) each run in a
fresh subprocess, so that every peak-memory reading belongs to one size alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Literal

import numpy as np

from simulator.analysis.bridge import (
    INTERACTIVE_BOOTSTRAP,
    INTERACTIVE_RUNS,
    value_bridge,
)
from simulator.model.scenario_io import load_scenario, resolve_alternative
from simulator.run.memo import RunMemo
from simulator.run.runner import RunSettings, compare, default_threads

YARDSTICK_DRAWS = 20_000_000
#: Turns of yardstick and comparison the headline figures are the best of.
ROUNDS = 5


def yardstick_seconds() -> float:
    """Seconds for numpy's default generator to draw 20M Binomial(12, 0.3)."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    rng.binomial(12, 0.3, size=YARDSTICK_DRAWS)
    return time.perf_counter() - start


def comparison_seconds(
    runs: int,
    weeks: int,
    *,
    threads: int | None,
    warmup: int = 52,
    seed: int = 1,
    edit: Literal["alternative", "baseline deals"] | None = None,
) -> float:
    """Seconds for a comparison of ``siloed`` with ``aligned`` computed from
    scratch, or right after the unedited one with an ``edit``, as the app
    re-runs after one: of the alternative (a capacity), when the warm-up and
    the baseline's runs are remembered, or of the baseline's deal size, which
    reaches the alternative too, when the warm-up is (in a
    :class:`~simulator.run.memo.RunMemo`, as the app keeps one).
    """
    baseline, alternative = load_scenario("siloed"), load_scenario("aligned")
    settings = RunSettings(
        runs=runs, horizon_weeks=weeks, warmup_weeks=warmup, seed=seed
    )
    memo = RunMemo() if edit is not None else None
    if edit is not None:
        compare(
            baseline,
            [alternative],
            settings=settings,
            threads=threads,
            memo=memo,
            remember_alternatives=runs,
        )
        if edit == "alternative":
            alternative = resolve_alternative(
                baseline, "aligned", overrides={"follow_up.capacity_per_week": 90.0}
            )
        else:
            # The edit reaches the alternative too (an alternative is a set of
            # changes to the baseline): both are simulated, the warm-up is not.
            baseline = load_scenario("siloed", overrides={"deals.acv_median": 33_000.0})
            alternative = resolve_alternative(baseline, "aligned")
    start = time.perf_counter()
    # (a comparison from scratch, as the command line runs it, keeps nothing)
    compare(
        baseline,
        [alternative],
        settings=settings,
        threads=threads,
        memo=memo,
    )
    return time.perf_counter() - start


#: The command whose whole process (start, imports, loading the compiled step,
#: the comparison, JSON out, exit) the bench times.
WHOLE_PROCESS = ["compare", "siloed", "aligned", "--runs", "10000", "--json"]


def whole_process_seconds(threads: int | None) -> float:
    """Wall-clock seconds of ``funnelsim compare siloed aligned --runs 10000
    --json`` in a process of its own, as a user or a script runs it."""
    command = [sys.executable, "-m", "simulator.cli", *WHOLE_PROCESS]
    if threads:
        command += ["--threads", str(threads)]
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def bridge_seconds(figure: str, *, threads: int | None) -> tuple[float, float]:
    """Wall and CPU seconds of the app's value bridge from ``siloed`` to
    ``aligned`` (8 levers, 256 scenarios, :data:`INTERACTIVE_RUNS` runs of the
    scenarios' own 104-week settings), with nothing remembered beforehand."""
    baseline, alternative = load_scenario("siloed"), load_scenario("aligned")
    settings = RunSettings.from_scenario(baseline, runs=INTERACTIVE_RUNS)
    wall, cpu = time.perf_counter(), time.process_time()
    value_bridge(
        baseline,
        alternative,
        figure=figure,
        settings=settings,
        bootstrap=INTERACTIVE_BOOTSTRAP,
        threads=threads,
    )
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_memory_mb() -> float:
    """Peak resident memory of this process: its worker threads, the chunks
    they hold, and the results assembled from them.

    Read from VmHWM, which starts afresh at ``exec``; ``ru_maxrss`` does not, so
    a measuring subprocess would report its parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure_in_subprocess(
    runs: int, weeks: int, threads: int | None
) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "simulator.cli.bench",
        "--one",
        str(runs),
        str(weeks),
    ]
    if threads:
        command += ["--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help=f"worker threads (default: {default_threads()})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="skip the 100,000-run scaling point"
    )
    parser.add_argument(
        "--million",
        action="store_true",
        help="add a 1,000,000-run point (streamed weekly series; about 10 minutes)",
    )


def main_bench(args: argparse.Namespace) -> int:
    threads = args.threads or default_threads()
    print(f"funnelsim bench: numpy {np.__version__}, {threads} worker(s)")
    # Warm imports and the compiled step (loaded from numba's cache, or compiled
    # on a first run).
    comparison_seconds(2_000, 8, threads=threads)
    # Best of several, taken in turns: on a shared machine the slower repeats
    # measure the neighbours, and the machine's speed drifts, which turns would
    # otherwise read as a change of ratio. The yardstick is read twice a turn,
    # before and after the comparison: it alone swings between two speeds (0.85
    # and 1.4 s here) from read to read, as its 160 MB of output is or is not
    # handed fresh memory.
    yards, comps, in_turn, wholes = [], [], [], []
    for _ in range(ROUNDS):
        before = yardstick_seconds()
        comps.append(comparison_seconds(10_000, 104, threads=threads))
        after = yardstick_seconds()
        yards += [before, after]
        in_turn.append(comps[-1] / min(before, after))
        wholes.append(whole_process_seconds(args.threads))
    yard, comp, whole = min(yards), min(comps), min(wholes)
    in_turn.sort()
    one_thread = comparison_seconds(10_000, 104, threads=1)
    preview = min(comparison_seconds(1_000, 104, threads=threads) for _ in range(3))
    after_edit = min(
        comparison_seconds(1_000, 104, threads=threads, edit="alternative")
        for _ in range(3)
    )
    after_deals = min(
        comparison_seconds(1_000, 104, threads=threads, edit="baseline deals")
        for _ in range(3)
    )
    run_weeks = 10_000 * (52 + 2 * 104)
    print(
        f"  best of {2 * ROUNDS} and of {ROUNDS}, taken in turns "
        "(comparisons each from scratch):"
    )
    print(f"  yardstick: {YARDSTICK_DRAWS:,} binomial(12, 0.3) draws   {yard:7.2f} s")
    print(f"  siloed vs aligned, 10,000 runs x 104 weeks      {comp:7.2f} s")
    print(f"  ratio (comparison / yardstick)                  {comp / yard:7.2f}")
    print(
        f"    each turn's ratio: {in_turn[0]:.2f} to {in_turn[-1]:.2f}, "
        f"median {in_turn[len(in_turn) // 2]:.2f}"
    )
    print(
        f"    {comp / run_weeks * threads * 1e6:.2f} us of work per run-week "
        "(warm-up and both scenarios)"
    )
    print(f"  whole process: funnelsim {' '.join(WHOLE_PROCESS)}")
    print(
        f"    best of {ROUNDS} fresh processes (slowest {max(wholes):.2f} s)"
        f"      {whole:7.2f} s"
    )
    print(f"    ratio (whole process / yardstick)             {whole / yard:7.2f}")
    print(f"    the same comparison in one thread             {one_thread:7.2f} s")
    print(f"  1,000-run preview of that comparison            {preview:7.2f} s")
    print(f"    after an edit of the alternative (as the app) {after_edit:7.2f} s")
    print(f"    after an edit of the baseline's deal size     {after_deals:7.2f} s")
    print(
        f"\n  value bridge siloed -> aligned, 8 levers, 256 scenarios x "
        f"{INTERACTIVE_RUNS} runs (the app's Bridge), best of 3, wall (CPU) seconds:"
    )
    for figure, label in (
        ("arr_growth_y1", "ARR growth over year 1 (the app's default)"),
        ("arr_end", "ARR at the end of 104 weeks"),
    ):
        timings = [bridge_seconds(figure, threads=threads) for _ in range(3)]
        wall, cpu = min(timings)
        print(f"    {label:<44} {wall:5.2f} s   ({cpu:.2f} s CPU)")
    print("\n  scaling (each in a fresh process): runs x weeks -> seconds, peak memory")
    sizes = [(1_000, 104), (10_000, 104)] + ([] if args.quick else [(100_000, 104)])
    sizes += [(10_000, 52), (10_000, 208)]
    sizes += [(1_000_000, 104)] if args.million else []
    for runs, weeks in sizes:
        point = _measure_in_subprocess(runs, weeks, threads)
        print(
            f"  {runs:>9,} x {weeks:>3}   {point['seconds']:8.2f} s   "
            f"{point['peak_mb']:6.0f} MB   "
            f"{point['seconds'] / (runs * weeks) * 1e6:6.2f} us per run-week"
        )
    return 0


def _one(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=2, type=int, required=True)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    runs, weeks = args.one
    seconds = comparison_seconds(runs, weeks, threads=args.threads)
    json.dump({"seconds": seconds, "peak_mb": peak_memory_mb()}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(_one(sys.argv[1:]))
