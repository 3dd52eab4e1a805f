"""One fitted or estimated figure with its 90 % interval and where it came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]

#: Bootstrap replicates and seed: fixed, so a fit is reproducible.
BOOTSTRAP_REPS = 400
BOOTSTRAP_SEED = 20251
LEVEL = 0.90


@dataclass
class Estimate:
    """A figure read off the data: value, 90 % interval, file, rows and columns."""

    value: float
    low: float
    high: float
    file: str
    rows: int
    columns: list[str] = field(default_factory=list)
    note: str = ""


def bootstrap_interval(
    statistic: Callable[[F], F], n: int, *, reps: int = BOOTSTRAP_REPS
) -> tuple[float, float]:
    """The 5th and 95th percentiles of ``statistic`` over bootstrap resamples of
    ``n`` records. ``statistic`` takes a ``(b, n)`` array of resampling weights
    (how often each record was drawn) and returns ``b`` values."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    values: list[F] = []
    batch = max(1, min(reps, 2_000_000 // max(n, 1)))
    done = 0
    while done < reps:
        b = min(batch, reps - done)
        draws = rng.integers(0, n, size=(b, n))
        weights = np.zeros((b, n))
        for i in range(b):
            weights[i] = np.bincount(draws[i], minlength=n)
        values.append(np.asarray(statistic(weights), dtype=np.float64))
        done += b
    all_values = np.concatenate(values)
    all_values = all_values[np.isfinite(all_values)]
    if all_values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(all_values, [tail, 100 - tail])
    return float(low), float(high)


def poisson_rate_interval(count: int, exposure: float) -> tuple[float, float]:
    """90 % interval of a rate from a Poisson count (normal approximation with a
    continuity term; the counts here are in the tens or more)."""
    z = 1.6449
    half = z * np.sqrt(count + 0.25)
    return max(0.0, (count + 0.5 - half) / exposure), (count + 0.5 + half) / exposure
