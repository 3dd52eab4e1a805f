"""The compiled step's binomial and Poisson samplers against their exact laws.

Each branch (inversion, the flip above one half, transformed rejection, the
certain cases) draws 200,000 counts, compared with the exact probabilities by a
chi-square test on bins of at least 20 expected counts. With fixed seeds the
test is deterministic; the threshold is the 99.99th percentile of the statistic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from simulator.kernel import binomial, poisson

DRAWS = 200_000


@njit
def _binomials(rng, n, p, size):  # type: ignore[no-untyped-def]
    out = np.empty(size, dtype=np.int64)
    for i in range(size):
        out[i] = binomial(rng, n, p)
    return out


@njit
def _poissons(rng, lam, size):  # type: ignore[no-untyped-def]
    out = np.empty(size, dtype=np.int64)
    for i in range(size):
        out[i] = poisson(rng, lam)
    return out


def _binomial_pmf(n: int, p: float, k: np.ndarray) -> np.ndarray:
    log = [
        math.lgamma(n + 1)
        - math.lgamma(int(x) + 1)
        - math.lgamma(n - int(x) + 1)
        + x * math.log(p)
        + (n - x) * math.log1p(-p)
        for x in k
    ]
    return np.exp(log)


def _poisson_pmf(lam: float, k: np.ndarray) -> np.ndarray:
    return np.exp([-lam + x * math.log(lam) - math.lgamma(int(x) + 1) for x in k])


def _chi_square_quantile(df: int, z: float = 3.719) -> float:
    """Wilson-Hilferty: the chi-square quantile at the normal quantile ``z``
    (3.719: one chance in 10,000 above)."""
    h = 2 / (9 * df)
    return df * (1 - h + z * math.sqrt(h)) ** 3


def _assert_follows(draws: np.ndarray, pmf: np.ndarray) -> None:
    """Chi-square goodness of fit over ``0 .. len(pmf) - 1``, pooling bins (and
    both tails) until each expects at least 20 counts."""
    observed = np.bincount(draws, minlength=len(pmf))[: len(pmf)].astype(float)
    observed[-1] += (draws >= len(pmf)).sum()
    expected = pmf * len(draws)
    expected[-1] += len(draws) - expected.sum()  # the upper tail
    bins_o, bins_e, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed, expected, strict=True):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 20:
            bins_o.append(acc_o)
            bins_e.append(acc_e)
            acc_o = acc_e = 0.0
    bins_o[-1] += acc_o
    bins_e[-1] += acc_e
    o, e = np.array(bins_o), np.array(bins_e)
    statistic = float(((o - e) ** 2 / e).sum())
    df = len(o) - 1
    assert df >= 2
    assert statistic <= _chi_square_quantile(df), (statistic, df)


@pytest.mark.parametrize(
    ("n", "p"),
    [
        (3, 0.4),  # trial by trial
        (4, 0.97),  # trial by trial, a near-certain success
        (12, 0.3),  # inversion
        (40, 0.05),  # inversion, small chance
        (25, 0.85),  # inversion of the failures
        (60, 0.5),  # transformed rejection at one half
        (5000, 0.027),  # transformed rejection, a large pool
        (200, 0.93),  # transformed rejection of the failures
    ],
)
def test_binomial_follows_its_law(n: int, p: float) -> None:
    draws = _binomials(np.random.default_rng(n), n, p, DRAWS)
    assert draws.min() >= 0 and draws.max() <= n
    _assert_follows(draws, _binomial_pmf(n, p, np.arange(n + 1)))


@pytest.mark.parametrize("lam", [0.3, 3.5, 9.9, 10.0, 31.0, 150.0, 250.0])
def test_poisson_follows_its_law(lam: float) -> None:
    draws = _poissons(np.random.default_rng(int(lam * 10)), lam, DRAWS)
    top = int(lam + 12 * math.sqrt(lam) + 12)
    _assert_follows(draws, _poisson_pmf(lam, np.arange(top)))


def test_certain_outcomes_draw_nothing() -> None:
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    assert _binomials(rng, 0, 0.4, 3).tolist() == [0, 0, 0]
    assert _binomials(rng, 9, 0.0, 3).tolist() == [0, 0, 0]
    assert _binomials(rng, 9, 1.0, 3).tolist() == [9, 9, 9]
    assert _poissons(rng, 0.0, 3).tolist() == [0, 0, 0]
    assert rng.bit_generator.state == before


def test_a_nan_chance_or_mean_draws_nothing_rather_than_hanging() -> None:
    """Validation keeps NaN out of every scenario; should one slip through, the
    compiled step (which cannot be interrupted) must still return."""
    rng = np.random.default_rng(2)
    assert _binomials(rng, 10, math.nan, 2).tolist() == [0, 0]
    assert _poissons(rng, math.nan, 2).tolist() == [0, 0]
