"""Per-week summaries are numpy's own statistics of each week's runs."""

from __future__ import annotations

import numpy as np

from simulator.run.results import PERCENTILES, summarize_weekly


def test_weekly_percentiles_are_numpys_of_the_runs_as_recorded() -> None:
    """Taken of sorted runs for speed, they equal numpy's percentiles of the
    runs as they are: counts with ties, money, weeks with NaN, and zeros of
    both signs (read as 0, never "-0")."""
    rng = np.random.default_rng(8)
    # (502 runs: the median falls between two, where numpy keeps a zero's sign)
    record = rng.gamma(2.0, 1e5, size=(30, 3, 502)).astype(np.float32)
    record[:, 1] = np.round(record[:, 1] / 1e5)
    record[:4, 2] = np.nan
    record[5, 0] = -0.0  # (a week of negative zeros, and weeks of both signs)
    record[6:8, 0, ::2] = -0.0
    record[6:8, 0, 1::2] = 0.0
    for series in range(3):
        runs_by_week = record[:, series, :].T  # as a result's weekly series
        got = summarize_weekly(runs_by_week)
        data = np.asarray(runs_by_week, dtype=np.float64)
        want = np.percentile(data, PERCENTILES, axis=0)
        for q, row in zip(PERCENTILES, want, strict=True):
            np.testing.assert_array_equal(got[f"p{q}"], row)
        np.testing.assert_allclose(got["mean"], data.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(got["sd"], data.std(axis=0, ddof=1), rtol=1e-12)
        only = summarize_weekly(runs_by_week, ("mean", "p50"))
        assert only.keys() == {"mean", "p50"}
        np.testing.assert_array_equal(only["p50"], got["p50"])
    signed = summarize_weekly(record[:, 0, :].T)
    assert not any(np.signbit(signed[f"p{q}"][5:8]).any() for q in PERCENTILES)
