"""The compiled step's random numbers: its uniforms against numpy's SFC64, its
binomial and Poisson samplers against their exact laws.

Each binomial and Poisson branch (inversion, the flip above one half,
transformed rejection, tabled means and their remainders, the certain cases)
draws 200,000 counts, compared with the exact probabilities by a chi-square
test on bins of at least 20 expected counts. With fixed seeds the test is
deterministic; the threshold is the 99.99th percentile of the statistic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from simulator.engine.kernel import (
    _POISSON_CDFS,
    _POISSON_GUIDES,
    _POISSON_STARTS,
    POISSON_TABLE_STEP,
    POISSON_TABLE_TOP,
    binomial,
    binomial_known,
    keep_stream_state,
    log_rarer,
    poisson,
    standard_normal,
    stream_state,
    uniform,
)
from simulator.engine.streams import sfc64_state

DRAWS = 200_000


SITE = 1  # any row of the stream states


def _streams(seed: int) -> np.ndarray:
    """Stream states as the compiled step gets them, every row seeded apart."""
    children = np.random.SeedSequence(seed).spawn(3)
    return np.stack([sfc64_state(child) for child in children])


def _sampler(draw_one, dtype):  # type: ignore[no-untyped-def]
    """A compiled loop of ``size`` draws of ``draw_one(rng, *args)`` from the
    stream of row ``SITE``, whose state it threads through the draws and writes
    back, as the compiled step does."""

    @njit
    def draws(streams, size, *args):  # type: ignore[no-untyped-def]
        out = np.empty(size, dtype=dtype)
        rng = stream_state(streams, SITE)
        for i in range(size):
            value, rng = draw_one(rng, *args)
            out[i] = value
        keep_stream_state(streams, SITE, rng)
        return out

    return draws


# (uniform and the samplers' certain-result checks are inlined into their
# callers, which numba refuses under *args: each is wrapped in a plain function)
_uniforms = _sampler(njit(lambda rng: uniform(rng)), np.float64)
_normals = _sampler(standard_normal, np.float64)
_poissons = _sampler(njit(lambda rng, lam: poisson(rng, lam)), np.int64)
_binomials = _sampler(njit(lambda rng, n, p: binomial(rng, n, p)), np.int64)
_binomials_given_log = _sampler(
    njit(lambda rng, n, p, log_q: binomial_known(rng, n, p, log_q)), np.int64
)


def _binomials_known(streams, size, n, p):  # type: ignore[no-untyped-def]
    return _binomials_given_log(streams, size, n, p, log_rarer(p))


def test_uniforms_continue_numpys_sfc64_stream_exactly() -> None:
    """The inline generator is numpy's SFC64, bit for bit, from numpy's seeding."""
    streams = _streams(3)
    child = np.random.SeedSequence(3).spawn(3)[SITE]
    want = np.random.Generator(np.random.SFC64(child)).random(100_000)
    got = _uniforms(streams, 100_000)
    assert np.array_equal(got, want)
    others = _streams(3)
    assert np.array_equal(np.delete(streams, SITE, 0), np.delete(others, SITE, 0))


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
    pmf = _binomial_pmf(n, p, np.arange(n + 1))
    for sampler in (_binomials, _binomials_known):
        draws = sampler(_streams(n), DRAWS, n, p)
        assert draws.min() >= 0 and draws.max() <= n
        _assert_follows(draws, pmf)


@pytest.mark.parametrize(
    "lam",
    [
        0.3,  # a remainder alone
        1.0,  # a tabled mean alone
        3.6,  # a tabled mean and a remainder
        24.9,
        50.8,
        127.9,  # the last table
        128.0,  # transformed rejection
        150.0,
        250.0,
    ],
)
def test_poisson_follows_its_law(lam: float) -> None:
    draws = _poissons(_streams(int(lam * 10)), DRAWS, lam)
    top = int(lam + 12 * math.sqrt(lam) + 12)
    _assert_follows(draws, _poisson_pmf(lam, np.arange(top)))


def test_poisson_tables_hold_the_exact_probabilities() -> None:
    """Each tabled mean's cumulative probabilities, and its guide: the first
    count whose cumulative probability passes each ``i / size``."""
    starts = _POISSON_STARTS
    assert len(starts) == round(POISSON_TABLE_TOP / POISSON_TABLE_STEP) + 1
    for index in (1, 2, 7, 40, 101, len(starts) - 2):
        mean = index * POISSON_TABLE_STEP
        cdf = _POISSON_CDFS[starts[index] : starts[index + 1]]
        guide = _POISSON_GUIDES[starts[index] : starts[index + 1]]
        size = len(cdf)
        pmf = _poisson_pmf(mean, np.arange(size))
        # (within the rounding of sums of a few hundred terms)
        np.testing.assert_allclose(cdf, np.cumsum(pmf), rtol=0, atol=1e-13)
        assert cdf[-1] == 1.0 and 1.0 - math.fsum(pmf) < 1e-13  # the tail left out
        for i in range(size):
            first = guide[i]
            assert cdf[first] > i / size and (first == 0 or cdf[first - 1] <= i / size)


def test_certain_outcomes_draw_nothing() -> None:
    streams = _streams(1)
    before = streams.copy()
    assert _binomials(streams, 3, 0, 0.4).tolist() == [0, 0, 0]
    assert _binomials(streams, 3, 9, 0.0).tolist() == [0, 0, 0]
    assert _binomials(streams, 3, 9, 1.0).tolist() == [9, 9, 9]
    assert _binomials_known(streams, 3, 9, 1.0).tolist() == [9, 9, 9]
    assert _poissons(streams, 3, 0.0).tolist() == [0, 0, 0]
    assert np.array_equal(streams, before)


def test_a_nan_chance_or_mean_draws_nothing_rather_than_hanging() -> None:
    """Validation keeps NaN out of every scenario; should one slip through, the
    compiled step (which cannot be interrupted) must still return."""
    streams = _streams(2)
    assert _binomials(streams, 2, 10, math.nan).tolist() == [0, 0]
    assert _poissons(streams, 2, math.nan).tolist() == [0, 0]


def test_standard_normals_follow_their_law() -> None:
    """Kolmogorov-Smirnov against the normal law (the 1 % critical value), and
    no infinity from a uniform of zero."""
    draws = np.sort(_normals(_streams(4), DRAWS))
    assert np.isfinite(draws).all()
    cdf = 0.5 * (1 + np.vectorize(math.erf)(draws / math.sqrt(2)))
    ranks = np.arange(1, DRAWS + 1) / DRAWS
    distance = max(np.abs(cdf - ranks).max(), np.abs(cdf - ranks + 1 / DRAWS).max())
    assert distance <= 1.63 / math.sqrt(DRAWS)
