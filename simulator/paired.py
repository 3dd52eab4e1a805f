"""Many variants of one baseline, run with common random numbers, in bounded memory.

The value bridge and the tornado both need one figure for dozens or hundreds of
variants of a scenario, paired run by run. :func:`simulate_variants` runs them in
batches of :func:`simulator.runner.compare` calls that all share the baseline (so
every batch warms up identically from the same seed) and keeps only the per-run
figures, not the weekly series. Because a comparison's streams depend only on the
seed and the run's seed block, run ``i`` of every variant sees the same random
numbers whichever batch it ran in: batching changes memory, not numbers.

:func:`bootstrap_statistic` then resamples run indices *jointly* across variants,
so the standard error of any difference between variants keeps the pairing.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from simulator.errors import ScenarioError
from simulator.figures import FIGURE_UNITS
from simulator.runner import RunSettings, compare
from simulator.schema import Scenario

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


def simulate_variants(
    baseline: Scenario,
    variants: Sequence[Scenario],
    *,
    settings: RunSettings,
    figures: Sequence[str] | None = None,
    threads: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> VariantRuns:
    """Run ``baseline`` and every variant with one warm-up state and common random
    numbers; return the per-run figures stacked as ``(1 + len(variants), runs)``.

    Parameters
    ----------
    baseline
        Warms up every batch and is row 0 of the result.
    variants
        The other scenarios (rows 1..).
    settings
        Runs, horizon, warm-up and seed, shared by all.
    figures
        Figure names to keep (all by default).
    threads, progress, should_stop
        Passed to :func:`simulator.runner.compare`; ``progress`` receives the
        fraction of all variants done.
    batch_size
        Variants per compare() call (memory, not numbers).
    """
    start = time.perf_counter()
    batch_size = max(1, batch_size)
    batches = [
        list(variants[i : i + batch_size]) for i in range(0, len(variants), batch_size)
    ] or [[]]
    # Each batch also re-runs the baseline (row 0); weight progress by scenarios.
    total = sum(len(b) + 1 for b in batches)
    done = 0
    rows: dict[str, list[F]] = {}
    for index, batch in enumerate(batches):
        offset = done

        def report(
            fraction: float, offset: int = offset, size: int = len(batch)
        ) -> None:
            if progress is not None:
                progress((offset + fraction * (size + 1)) / total)

        comparison = compare(
            baseline,
            batch,
            settings=settings,
            threads=threads,
            progress=report,
            should_stop=should_stop,
        )
        keep = (
            list(figures) if figures is not None else list(comparison.baseline.figures)
        )
        results = comparison.alternatives if index else comparison.results
        for name in keep:
            rows.setdefault(name, []).extend(r.figures[name] for r in results)
        done += len(batch) + 1
        del comparison
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
