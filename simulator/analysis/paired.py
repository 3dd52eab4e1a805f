"""Many variants of one baseline, run with common random numbers, in bounded memory.

The value bridge and the tornado both need one figure for dozens or hundreds of
variants of a scenario, paired run by run. :func:`simulate_variants` runs them in
batches of :func:`simulator.run.runner.compare` calls that all share the baseline (so
every batch warms up identically from the same seed) and keeps only the per-run
figures, not the weekly series. Because a comparison's streams depend only on the
seed and the run's seed block, run ``i`` of every variant sees the same random
numbers whichever batch it ran in: batching changes memory, not numbers.

:func:`bootstrap_statistic` then resamples run indices *jointly* across variants,
so the standard error of any difference between variants keeps the pairing.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from simulator.engine.streams import BLOCK_RUNS, block_bounds
from simulator.model.errors import ScenarioError, SimulationCancelled
from simulator.model.schema import Scenario
from simulator.run.figures import FIGURE_UNITS
from simulator.run.memo import RunMemo
from simulator.run.results import estimated_result_bytes
from simulator.run.runner import (
    CHUNK_MAX_RUNS,
    MEMORY_SHARE,
    RunSettings,
    available_memory_bytes,
    compare,
    default_threads,
)

F = NDArray[np.float64]
Statistic = Literal["median", "mean"]
STATISTICS: tuple[str, ...] = ("median", "mean")
#: Scenarios per compare() call: bounds the weekly series held at once
#: (18 series x runs x weeks x 4 bytes per scenario).
DEFAULT_BATCH = 24


@dataclass(frozen=True)
class VariantRuns:
    """Per-run figures of a baseline and its variants (rows), paired by column."""

    figures: dict[str, F]  # name -> (variants, runs); row 0 is the baseline itself
    settings: RunSettings
    seconds: float

    @property
    def variants(self) -> int:
        return int(next(iter(self.figures.values())).shape[0])


def check_figure(figure: str, settings: RunSettings) -> str:
    """The figure's unit; a :class:`ScenarioError` if the figure is unknown or
    undefined for the horizon."""
    if figure not in FIGURE_UNITS:
        known = ", ".join(sorted(FIGURE_UNITS))
        raise ScenarioError(f"unknown figure {figure!r}; choose one of {known}")
    if figure == "arr_growth_y1" and settings.horizon_weeks < 52:
        raise ScenarioError(
            f"arr_growth_y1 needs a horizon of at least 52 weeks, got "
            f"{settings.horizon_weeks}"
        )
    return FIGURE_UNITS[figure]


def check_statistic(statistic: str) -> Statistic:
    if statistic == "median":
        return "median"
    if statistic == "mean":
        return "mean"
    raise ScenarioError(f"unknown statistic {statistic!r}; choose median or mean")


#: Figures that the first 52 reported weeks decide: a variant run for them needs
#: no more weeks than that (a run's first weeks do not depend on the horizon).
YEAR_ONE_FIGURES = frozenset({"arr_growth_y1"})


def weeks_needed(figures: Sequence[str] | None, settings: RunSettings) -> int:
    """The reported weeks a run must simulate to give ``figures``: 52 when all
    of them are year-1 figures, else the whole horizon."""
    if figures and set(figures) <= YEAR_ONE_FIGURES and settings.horizon_weeks >= 52:
        return 52
    return settings.horizon_weeks


def simulate_variants(
    baseline: Scenario,
    variants: Sequence[Scenario | Callable[[], Scenario]],
    *,
    settings: RunSettings,
    figures: Sequence[str] | None = None,
    threads: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    memo: RunMemo | None = None,
) -> VariantRuns:
    """Run ``baseline`` and every variant with one warm-up state and common random
    numbers; return the per-run figures stacked as ``(1 + len(variants), runs)``.

    The baseline runs first, alone, which warms the runs up once and keeps the
    warmed-up state and the baseline's runs in ``memo``;
    the variants then run in batches that take both from there, several batches
    at once when there are fewer chunks of runs than workers (a bridge of a few
    hundred runs is one or two chunks, but hundreds of variants). Every batch
    cuts the runs into the same chunks, so that it finds the remembered
    warm-up. Run ``i`` of every variant sees the same random numbers whichever
    batch ran it: batching and threads change time and memory, not numbers.

    Parameters
    ----------
    baseline
        Warms up every batch and is row 0 of the result.
    variants
        The other scenarios (rows 1..), or functions that make them: those are
        called by the batch that runs them, in its own thread, so that hundreds
        of variants are validated beside the simulation rather than before it.
    settings
        Runs, horizon, warm-up and seed, shared by all. When every figure asked
        for is decided within year 1 (:data:`YEAR_ONE_FIGURES`), only 52 weeks
        are simulated: the same values in half the time.
    figures
        Figure names to keep (all by default).
    threads
        Workers in all (all cores, up to 8, by default).
    progress, should_stop
        ``progress`` receives the fraction of all scenarios done (from worker
        threads); ``should_stop`` is polled by every batch, which then raises
        :class:`~simulator.model.errors.SimulationCancelled`.
    batch_size
        Variants per compare() call (memory, not numbers).
    memo
        Where the warm-up and the baseline's runs are kept for the batches: the
        caller's (the app's, which may hold them already), or one of this
        call's own.
    """
    start = time.perf_counter()
    memo = memo if memo is not None else RunMemo()
    run_settings = replace(settings, horizon_weeks=weeks_needed(figures, settings))
    workers = threads or default_threads()
    batch_size = max(1, batch_size)
    batches = [
        list(variants[i : i + batch_size]) for i in range(0, len(variants), batch_size)
    ]
    # Batches run side by side, one worker each, when there are enough of them
    # (a few hundred runs make one or two uneven chunks: 250 + 50 runs for 300);
    # else each batch's runs are shared out among the workers.
    at_once = max(1, min(len(batches), workers))
    # ...as long as their records fit in memory side by side (a bridge of
    # 10,000 runs keeps gigabytes a batch): else one batch at a time.
    batch_bytes = estimated_result_bytes(
        settings.runs, weeks_needed(figures, settings), batch_size + 1, sources=8
    )
    if at_once * batch_bytes > available_memory_bytes() * MEMORY_SHARE:
        at_once = 1
    per_batch = max(1, workers // at_once)
    blocks = len(block_bounds(settings.runs))
    chunk_blocks = min(-(-blocks // per_batch), max(1, CHUNK_MAX_RUNS // BLOCK_RUNS))
    total = 1 + len(variants)
    lock = threading.Lock()
    fractions: dict[int, float] = {}
    stop = threading.Event()

    def report(key: int, size: int, fraction: float) -> None:
        with lock:  # (one report at a time: a terminal bar is not thread safe)
            fractions[key] = fraction * size
            if progress is not None:
                progress(min(1.0, sum(fractions.values()) / total))

    def stopped() -> bool:
        if stop.is_set():
            return True
        if should_stop is not None and should_stop():
            stop.set()
            return True
        return False

    def run_batch(
        index: int, batch: list[Scenario | Callable[[], Scenario]]
    ) -> dict[str, list[F]]:
        scenarios = [v if isinstance(v, Scenario) else v() for v in batch]
        if stopped():
            raise SimulationCancelled("cancelled")
        comparison = compare(
            baseline,
            scenarios,
            settings=run_settings,
            threads=per_batch,
            chunk_blocks=chunk_blocks,
            progress=lambda f: report(index + 1, len(scenarios), f),
            should_stop=stopped,
            memo=memo,
        )
        keep = (
            list(figures) if figures is not None else list(comparison.baseline.figures)
        )
        return {
            name: [r.figures[name] for r in comparison.alternatives] for name in keep
        }

    first = compare(
        baseline,
        (),
        settings=run_settings,
        threads=workers,
        chunk_blocks=chunk_blocks,
        progress=lambda f: report(0, 1, f),
        should_stop=stopped,
        memo=memo,
    )
    keep = list(figures) if figures is not None else list(first.baseline.figures)
    rows: dict[str, list[F]] = {name: [first.baseline.figures[name]] for name in keep}
    del first
    pool = ThreadPoolExecutor(
        max_workers=at_once, thread_name_prefix="funnelsim-variants"
    )
    try:
        futures = [pool.submit(run_batch, i, b) for i, b in enumerate(batches)]
        done = [future.result() for future in futures]
    except BaseException:
        stop.set()  # running batches stop within a few weeks; queued ones never start
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    for batch_rows in done:
        for name in keep:
            rows[name].extend(batch_rows[name])
    stacked = {name: np.vstack(values) for name, values in rows.items()}
    return VariantRuns(
        figures=stacked, settings=settings, seconds=time.perf_counter() - start
    )


def statistic_rows(values: F, statistic: Statistic) -> F:
    """The statistic of each row over its defined (non-NaN) runs."""
    if not np.isnan(values).any():
        return (
            np.median(values, axis=-1)
            if statistic == "median"
            else values.mean(axis=-1)
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        if statistic == "median":
            return np.asarray(np.nanmedian(values, axis=-1), dtype=np.float64)
        return np.asarray(np.nanmean(values, axis=-1), dtype=np.float64)


def bootstrap_statistic(
    values: F, statistic: Statistic, *, resamples: int, seed: int
) -> F:
    """``(resamples, rows)``: the statistic of each row on bootstrap resamples of
    the runs, the same resampled run indices for every row (keeps CRN pairing)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB0075]))
    runs = values.shape[1]
    out = np.empty((resamples, values.shape[0]))
    for b in range(resamples):
        index = rng.integers(0, runs, size=runs)
        out[b] = statistic_rows(values[:, index], statistic)
    return out


def bootstrap_se(samples: F) -> F:
    """Standard deviation over resamples (axis 0), NaN-safe."""
    if samples.shape[0] < 2:
        return np.full(samples.shape[1:], math.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanstd(samples, axis=0, ddof=1), dtype=np.float64)


def jsonable(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null; tuples become lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
