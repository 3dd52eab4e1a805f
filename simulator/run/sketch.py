"""Streaming per-week summaries, for runs too many to keep every trajectory.

A :class:`WeeklySketch` takes a ``(runs, weeks)`` series chunk by chunk and keeps,
per week, the count, mean and sum of squared deviations (merged exactly, Chan et
al.'s parallel update) and a histogram of :data:`BINS` equal bins whose range
grows by doubling when a chunk falls outside it. Its memory does not depend on
the number of runs.

Means, standard deviations and standard errors are exact up to rounding.
Percentiles are read off the histogram (see :meth:`WeeklySketch.percentile`), so
they lie within about one bin, 1/680 of the first chunk's range of that week, of
the exact percentiles.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
BINS = 1024


class WeeklySketch:
    """Per-week count, mean, spread and histogram of one weekly series."""

    def __init__(self, weeks: int) -> None:
        self.weeks = weeks
        self.count = 0
        self.mean = np.zeros(weeks)
        self.m2 = np.zeros(weeks)
        self.low = np.zeros(weeks)
        self.width = np.zeros(weeks)  # 0 until the first chunk sets the range
        # Bin 0 and bin BINS + 1 tally values below and above the range. Each
        # bin's sum and sum of squares place its values: one repeated value (a
        # week where most runs are equal) reads exactly.
        self.hist = np.zeros((weeks, BINS + 2), dtype=np.int64)
        self.sums = np.zeros((weeks, BINS + 2))
        self.squares = np.zeros((weeks, BINS + 2))

    def add(self, values: NDArray[np.floating]) -> None:
        """Fold in a ``(runs, weeks)`` chunk."""
        data = np.asarray(values, dtype=np.float64)
        n = data.shape[0]
        if n == 0:
            return
        if not np.isfinite(data).all():
            raise ValueError("weekly series must be finite to be summarised")
        chunk_mean = data.mean(axis=0)
        chunk_m2 = ((data - chunk_mean) ** 2).sum(axis=0)
        total = self.count + n
        delta = chunk_mean - self.mean
        self.mean += delta * n / total
        self.m2 += chunk_m2 + delta**2 * self.count * n / total
        self.count = total
        if not self.width.any():
            self._set_range(data.min(axis=0), data.max(axis=0))
        index = self._index(data)
        tails = (index == 0) | (index == BINS + 1)
        if tails.any():
            self._widen_if_tails_grow(data, tails)
            index = self._index(data)
        index += np.arange(self.weeks) * (BINS + 2)
        flat, size, shape = index.ravel(), self.weeks * (BINS + 2), self.hist.shape
        self.hist += np.bincount(flat, minlength=size).reshape(shape)
        values = data.ravel()
        self.sums += np.bincount(flat, values, minlength=size).reshape(shape)
        self.squares += np.bincount(flat, values**2, minlength=size).reshape(shape)

    def _index(self, data: F) -> NDArray[np.int64]:
        index = np.floor((data - self.low) / self.width).astype(np.int64) + 1
        np.clip(index, 0, BINS + 1, out=index)
        return index

    def _set_range(self, low: F, high: F) -> None:
        """The first chunk (a whole seed block of runs, drawn like every other)
        sets each week's range: its values, widened by a quarter of their span on
        each side. Later chunks come from the same distribution, so values beyond
        are rare; they are tallied below or above the range."""
        span = np.maximum(high - low, np.maximum(np.abs(low), 1.0) * 1e-9)
        self.low = low - span / 4
        self.width = span * 1.5 / BINS

    def _widen_if_tails_grow(self, data: F, tails: NDArray[np.bool_]) -> None:
        """Keep the tallies beyond the range under 1 % of the runs (percentiles 5
        to 95 must fall inside it) by doubling the range where they would not be.
        Values already tallied beyond the old range join its edge bin."""
        beyond = self.hist[:, 0] + self.hist[:, -1] + tails.sum(axis=0)
        for week in np.flatnonzero(beyond > 0.01 * self.count):
            values = data[:, week]
            while True:  # ends: the range doubles and the values are finite
                high = self.low[week] + BINS * self.width[week]
                downwards = (values < self.low[week]).sum() >= (values >= high).sum()
                for table in (self.hist, self.sums, self.squares):
                    table[week] = _doubled(table[week], downwards)
                if downwards:
                    self.low[week] -= BINS * self.width[week]
                self.width[week] *= 2
                high = self.low[week] + BINS * self.width[week]
                outside = (values < self.low[week]) | (values >= high)
                tallied = self.hist[week, 0] + self.hist[week, -1]
                if tallied + outside.sum() <= 0.01 * self.count:
                    break

    def percentile(self, q: float) -> F:
        """The ``q``-th percentile of each week with numpy's default convention:
        linear between the order statistics on either side of rank
        ``q/100 (n - 1)``, each read off the histogram."""
        rank = q / 100 * (self.count - 1)
        below = math.floor(rank)
        lower = self._order_statistic(below)
        upper = self._order_statistic(min(below + 1, self.count - 1))
        value: F = lower + (rank - below) * (upper - lower)
        return value

    def _order_statistic(self, k: int) -> F:
        """The ``k``-th smallest value (0-based) of each week. Within its bin the
        values are taken as spread evenly around the bin's mean with the bin's
        own spread (a uniform spread has sd = width / sqrt 12): one repeated value
        reads exactly, a smooth density as a straight line."""
        cumulative = np.cumsum(self.hist, axis=1)
        weeks = np.arange(self.weeks)
        b = np.argmax(cumulative > k, axis=1)
        before = np.where(b > 0, cumulative[weeks, np.maximum(b - 1, 0)], 0)
        inside = np.maximum(self.hist[weeks, b], 1)
        fraction = (k - before + 0.5) / inside
        mean = self.sums[weeks, b] / inside
        var = np.maximum(self.squares[weeks, b] / inside - mean**2, 0.0)
        spread = np.minimum(np.sqrt(12 * var), self.width)
        value: F = mean + (fraction - 0.5) * spread
        return value

    def summary(self, percentiles: tuple[int, ...]) -> dict[str, F]:
        """Mean, sd, se and ``p<q>`` for each of ``percentiles``: the keys of
        :func:`simulator.run.results.summarize_weekly`."""
        runs = self.count
        sd = np.sqrt(self.m2 / (runs - 1)) if runs > 1 else np.zeros(self.weeks)
        out: dict[str, F] = {
            "mean": self.mean.copy(),
            "sd": sd,
            "se": sd / math.sqrt(max(runs, 1)),
        }
        for q in percentiles:
            out[f"p{q}"] = self.percentile(q)
        return out


def _doubled(row: NDArray[Any], downwards: bool) -> NDArray[Any]:
    """A histogram row (with its two tallies) over a range twice as wide: bins
    merge in pairs, the range grows downwards or upwards, and the tally on the
    side that grew joins the new edge bin of the old range."""
    merged = row[1:-1].reshape(BINS // 2, 2).sum(axis=1)
    pad = np.zeros(BINS // 2, dtype=row.dtype)
    if downwards:
        inner = np.concatenate([pad, merged])
        inner[BINS // 2] += row[0]
        return np.concatenate([[0], inner, [row[-1]]]).astype(row.dtype)
    inner = np.concatenate([merged, pad])
    inner[BINS // 2 - 1] += row[-1]
    return np.concatenate([[row[0]], inner, [0]]).astype(row.dtype)
