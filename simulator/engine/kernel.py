"""The weekly step of one seed block, compiled (docs/model.md, 2.1-2.8).

The vectorised numpy step spent about half its time in a hundred small array
operations a week, each paying Python's and numpy's fixed cost per call, and
drew every count, zero or not. Here one compiled loop walks the weeks and,
within a week, the runs of a block, drawing only counts that are not certain;
:mod:`simulator.engine.chunk` keeps the state, the budget reviews (a few times a
quarter, vectorised) and the structure around it.

Draws come from the block's streams, one per site (:mod:`simulator.engine.streams`),
consumed in a fixed order (week by week, run by run), so a block's numbers
depend only on its seed, never on how blocks are grouped into chunks or run in
threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

Array = NDArray[Any]


def compiled(
    func: Callable[..., Any], inline: Literal["never", "always"] = "never"
) -> Any:
    """Compile ``func`` without Python's lock and with numpy's error model (no
    zero-division checks), cached on disk where numba finds a writable folder
    (next to this file, or the user's cache). Without one numba refuses to
    cache, and the step is compiled afresh in each process instead."""
    try:
        return njit(func, cache=True, nogil=True, error_model="numpy", inline=inline)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return njit(func, nogil=True, error_model="numpy", inline=inline)


def inlined(func: Callable[..., Any]) -> Any:
    """:func:`compiled`, and copied into its callers before they are optimised:
    the samplers' small steps, which the compiler then keeps in registers."""
    return compiled(func, inline="always")


# Layout constants, written out rather than computed from the lists in
# params.py and series.py: numba's disk cache is refreshed only when this file
# changes, so a constant computed from another file could go stale in the cached
# step. tests/test_architecture.py checks each against the list it indexes.
#
# Queue classes (params.READY ...).
READY, NURTURE, FUTURE, JUNK = 0, 1, 2, 3
N_CLASSES = 4
# Rows of Params.per_run (params.PER_RUN_FIELDS).
IGNORE_BASE = 0
TRUST_SENSITIVITY = 1
TRUST_REFERENCE = 2
TRUST_SMOOTHING = 3
RECYCLE_CAPTURE = 4
CAPACITY = 5
NURTURE_LEAVE = 6
SHARE_MATURING = 7
WEEKLY_CHURN = 8
WEEKLY_EXPANSION = 9
WEEKLY_BUDGET = 10
NURTURE_COST = 11
FIXED_WEEKLY_COST = 12
ACV_MU = 13
ACV_SIGMA = 14
# Entries of Params.switches (params.SWITCHES).
NURTURE_ENABLED = 0
SCORES_QUALIFIED = 1
COUNTS_MQLS = 2
# Rows of a week of the recorder (series.RECORDED), then one budget share per
# source.
S_LEADS = 0
S_MQLS = 1
S_IGNORED = 2
S_CONTACTED = 3
S_QUALIFIED = 4
S_STALE = 5
S_OPPORTUNITIES = 6
S_WON = 7
S_BOOKINGS = 8
S_REVENUE = 9
S_ARR = 10
S_CUSTOMERS = 11
S_CHURNED = 12
S_NURTURE = 13
S_IGNORE_RATE = 14
S_QUEUE = 15
S_SPEND = 16
S_COST = 17
S_MATURED = 18
S_SHARES = 19
#: The rows that are flows (series.FLOWS), summed into the run's totals; the
#: others are levels, whose sums nothing reads.
FLOW_ROWS = (
    S_LEADS,
    S_MQLS,
    S_IGNORED,
    S_CONTACTED,
    S_QUALIFIED,
    S_STALE,
    S_WON,
    S_BOOKINGS,
    S_REVENUE,
    S_CHURNED,
    S_SPEND,
    S_COST,
)
# Rows of the ARR kept at two weeks (run_weeks's ``arr_at``).
ARR_YEAR1 = 0
ARR_LAST = 1

#: Deals per run drawn one by one; beyond, a week's deals are drawn as one sum.
EXACT_DEALS_PER_RUN = 4096


# Uniform, binomial and Poisson variates. They live in this module because
# numba's cache of a compiled function is refreshed only when the function's own
# file changes, not when a function it calls from another file does.
#
# Uniforms come from numpy's SFC64 generator, stepped here from the state numpy
# seeded (simulator.engine.streams): a call into a numpy generator from compiled code
# costs about 7 ns and, being opaque, makes the compiler save every live value
# around it; stepped inline, a uniform costs 2-3 ns.
#
# A stream's state travels as a value, a tuple of SFC64's four words (``rng``):
# each sampler takes it and returns its draw with the state after it. Passed an
# array instead, every call of a sampler counted a reference to it up and down
# (two atomic operations, about a tenth of the step's time), and the compiler
# had to assume the call could write any array the step reads.
#
# Most of the step's binomial draws have small means: a few qualified leads out
# of a week's contacts, a few deals out of a stage. They are drawn by inversion,
# the exact method numpy uses for small means; large means by transformed
# rejection with squeeze (Hoermann 1993: BTRS, as numpy draws those). Poisson
# counts (the week's leads, of means from about 1 to 50) are drawn by inversion
# of tabulated probabilities, and above the tables' means by PTRS (Hoermann
# 1993). tests/test_sampling.py checks every branch against the exact
# distribution.

# Rows of a block's stream states (streams.KERNEL_SITES).
LEADS = 0
HANDOFF = 1
CONTACT = 2
QUALIFY = 3
PIPELINE = 4
CUSTOMERS = 5
NURTURE_SITE = 6
MARKS = 7
DEAL_SUMS = 8

#: Up to this many trials a binomial is drawn trial by trial.
BINOMIAL_BERNOULLI_MAX = 4
#: Below this mean (of the rarer outcome) a binomial is drawn by inversion.
BINOMIAL_INVERSION_MEAN = 10.0
#: Poisson counts of a mean below this are drawn from tables (see _poisson);
#: above, by PTRS.
POISSON_TABLE_TOP = 128.0
#: The tables' means: every multiple of this below the top.
POISSON_TABLE_STEP = 0.25
#: ``1 / x`` and ``log(x!)`` for small ``x``: the inversions' steps multiply
#: instead of dividing, and the rejection tests look factorials up.
_TABLE = 1024
_RECIPROCALS = np.concatenate([[0.0], 1.0 / np.arange(1, _TABLE)])
_LOG_FACTORIALS = np.array([math.lgamma(x + 1.0) for x in range(_TABLE)])


def _poisson_tables(top: float, step: float) -> tuple[Any, Any, Any]:
    """For each mean ``0, step, 2 step, ...`` below ``top``, one after another:
    the cumulative probabilities of the counts from 0 up to 10 standard
    deviations and 20 above the mean (the last set to 1: the tail beyond is
    below 1e-20), and their guide, entry ``i`` of which is the first count
    whose cumulative probability passes ``i / size`` (of a table of ``size``
    counts); and where each mean's table starts."""
    starts, cdfs, guides = [0], [], []
    for index in range(round(top / step)):
        mean = index * step
        size = math.ceil(mean + 10.0 * math.sqrt(mean) + 20.0)
        counts = np.arange(size)
        if mean == 0.0:
            pmf = (counts == 0).astype(np.float64)
        else:
            pmf = np.exp(-mean + counts * math.log(mean) - _LOG_FACTORIALS[:size])
        # (summed in extended precision where the platform has it)
        cdf = np.cumsum(pmf, dtype=np.longdouble).astype(np.float64)
        cdf[-1] = 1.0
        cdfs.append(cdf)
        guides.append(np.searchsorted(cdf, np.arange(size) / size, side="right"))
        starts.append(starts[-1] + size)
    return (
        np.array(starts, dtype=np.int64),
        np.concatenate(cdfs),
        np.concatenate(guides).astype(np.int32),
    )


_POISSON_STARTS, _POISSON_CDFS, _POISSON_GUIDES = _poisson_tables(
    POISSON_TABLE_TOP, POISSON_TABLE_STEP
)


@inlined
def stream_state(streams, site):  # type: ignore[no-untyped-def]
    """The state of stream ``site`` (a row of a block's stream states)."""
    return (streams[site, 0], streams[site, 1], streams[site, 2], streams[site, 3])


@inlined
def keep_stream_state(streams, site, rng):  # type: ignore[no-untyped-def]
    """Write ``rng`` back as the state of stream ``site``."""
    for i in range(4):
        streams[site, i] = rng[i]


@inlined
def uniform(rng):  # type: ignore[no-untyped-def]
    """The next double in [0, 1) of the stream in state ``rng``, and its state
    after: one step of SFC64 and numpy's conversion of its 64 bits, so the
    sequence equals ``numpy.random.Generator(SFC64(seed)).random()``."""
    a, b, c, counter = rng
    out = a + b + counter
    after = (
        b ^ (b >> np.uint64(11)),
        c + (c << np.uint64(3)),
        ((c << np.uint64(24)) | (c >> np.uint64(40))) + out,
        counter + np.uint64(1),
    )
    return (out >> np.uint64(11)) * (1.0 / 9007199254740992.0), after


@inlined
def _log_factorial(k):  # type: ignore[no-untyped-def]
    return _LOG_FACTORIALS[k] if k < _TABLE else math.lgamma(k + 1.0)


@inlined
def _reciprocal(x):  # type: ignore[no-untyped-def]
    return _RECIPROCALS[x] if x < _TABLE else 1.0 / x


@compiled
def log_rarer(p):  # type: ignore[no-untyped-def]
    """``log(1 - min(p, 1 - p))``: what :func:`binomial_known` needs of a chance
    that many draws share, computed once for them."""
    return math.log1p(-(p if p <= 1.0 - p else 1.0 - p))


@compiled
def log_rarer_each(chances):  # type: ignore[no-untyped-def]
    """:func:`log_rarer` of every element of a C-contiguous array (the same
    compiled function, so the same bits as one computed in the step)."""
    flat = chances.ravel()
    out = np.empty(flat.size)
    for i in range(flat.size):
        out[i] = log_rarer(flat[i])
    return out.reshape(chances.shape)


# The samplers check for certain results (no trials, no chance, no mean) and
# draw few trials one by one where they are called: a quarter to a half of the
# step's draws are such, and a call, however short, costs more than the check.


@inlined
def binomial(rng, n, p):  # type: ignore[no-untyped-def]
    """A ``Binomial(n, p)`` count and the stream's state after it; nothing is
    drawn when the result is certain."""
    return _binomial_checked(rng, n, p, 0.0, False)


@inlined
def binomial_known(rng, n, p, log_q):  # type: ignore[no-untyped-def]
    """:func:`binomial` with ``log_q = log_rarer(p)`` given."""
    return _binomial_checked(rng, n, p, log_q, True)


@inlined
def _binomial_checked(rng, n, p, log_q, known):  # type: ignore[no-untyped-def]
    if n <= 0 or not p > 0.0:  # (a NaN chance, never valid, draws nothing)
        return 0, rng
    if p >= 1.0:
        return n, rng
    if n <= BINOMIAL_BERNOULLI_MAX:
        return _trials(rng, n, p)
    return _binomial(rng, n, p, log_q, known)


@inlined
def _trials(rng, n, p):  # type: ignore[no-untyped-def]
    """Successes in ``n`` trials drawn one by one: for a few trials, a uniform
    each is cheaper than inversion's exp."""
    count = 0
    for _ in range(n):
        u, rng = uniform(rng)
        if u < p:
            count += 1
    return count, rng


@compiled
def _binomial(rng, n, p, log_q, known):  # type: ignore[no-untyped-def]
    """:func:`binomial` of more than a few trials with a chance strictly between
    0 and 1 (``log_q`` used only when ``known``)."""
    flip = p > 0.5  # count the rarer outcome
    if flip:
        p = 1.0 - p
    if n * p >= BINOMIAL_INVERSION_MEAN:
        x, rng = _binomial_btrs(rng, n, p)
    else:
        # f(x) / f(x - 1) = (n + 1 - x) / x * p / q
        ratio = p / (1.0 - p)
        first = math.exp(n * (log_q if known else math.log1p(-p)))
        x, rng = _inversion(rng, first, (n + 1.0) * ratio, ratio, n)
    return (n - x if flip else x), rng


@inlined
def _inversion(rng, first, a, b, top):  # type: ignore[no-untyped-def]
    """Inversion from zero for a count whose probabilities follow
    ``f(x) = f(x - 1) (a - b x) / x`` from ``f(0) = first``: walk up them until
    they pass a uniform. A walk past ``top`` (the uniform within rounding of 1)
    starts over."""
    while True:
        u, rng = uniform(rng)
        x = 0
        px = first
        while u > px and x < top:
            u -= px
            x += 1
            px *= (a - b * x) * _reciprocal(x)
        if u <= px:
            return x, rng


@compiled
def _binomial_btrs(rng, n, p):  # type: ignore[no-untyped-def]
    """Transformed rejection with squeeze (Hoermann 1993, "The generation of
    binomial random variates"), for ``p <= 0.5`` and ``n p >= 10``. The final
    test compares with the exact ratio of probabilities ``f(k) / f(mode)``."""
    q = 1.0 - p
    spq = math.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    # The exact test's constants, needed only when the squeeze fails.
    alpha = log_odds = log_f_mode = 0.0
    mode = 0
    exact_ready = False
    while True:
        u, rng = uniform(rng)
        v, rng = uniform(rng)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= vr:
            return k, rng
        if not exact_ready:
            alpha = (2.83 + 5.1 / b) * spq
            mode = math.floor((n + 1) * p)
            log_odds = math.log(p / q)
            log_f_mode = -_log_factorial(mode) - _log_factorial(n - mode)
            exact_ready = True
        log_ratio = (-_log_factorial(k) - _log_factorial(n - k) - log_f_mode) + (
            k - mode
        ) * log_odds
        # (one log of a product and quotient rather than a sum of three)
        if math.log(v * alpha / (a / (us * us) + b)) <= log_ratio:
            return k, rng


@inlined
def poisson(rng, lam):  # type: ignore[no-untyped-def]
    """A ``Poisson(lam)`` count and the stream's state after it; nothing is
    drawn when ``lam`` is zero."""
    if not lam > 0.0:  # (a NaN mean, never valid, draws nothing)
        return 0, rng
    return _poisson(rng, lam)


@inlined  # (into the week's one call site of the lead counts: 5 % faster)
def _poisson(rng, lam):  # type: ignore[no-untyped-def]
    """:func:`poisson` of a positive mean.

    Below :data:`POISSON_TABLE_TOP` a count is the sum of two independent
    ones: of the tabled mean just below (a multiple of
    :data:`POISSON_TABLE_STEP`), drawn by inversion of its table, and of the
    remainder, drawn as a count of the step's mean of which each member is kept
    with chance ``remainder / step`` (thinning: the kept members are a Poisson
    count of the remainder). A draw takes two table inversions (a uniform and a
    few table reads each) and, one time in five, a uniform more: half the time
    of the exact search or rejection they replaced, whose constants (an exp, a
    log) depend on a mean that moves every week."""
    if lam >= POISSON_TABLE_TOP:
        return _poisson_ptrs(rng, lam)
    index = math.floor(lam * (1.0 / POISSON_TABLE_STEP))
    count, rng = _tabled_poisson(rng, index)
    keep = lam * (1.0 / POISSON_TABLE_STEP) - index
    if keep > 0.0:
        members, rng = _tabled_poisson(rng, 1)
        kept, rng = _trials(rng, members, keep)
        count += kept
    return count, rng


@inlined
def _tabled_poisson(rng, index):  # type: ignore[no-untyped-def]
    """A Poisson count of the mean of table ``index`` (a multiple of the step),
    by inversion of its cumulative probabilities from where its guide points."""
    start = _POISSON_STARTS[index]
    size = _POISSON_STARTS[index + 1] - start
    u, rng = uniform(rng)
    at = math.floor(u * size)
    if at >= size:  # (u within rounding of 1)
        at = size - 1
    count = _POISSON_GUIDES[start + at]
    while _POISSON_CDFS[start + count] <= u:
        count += 1
    return count, rng


@compiled
def _poisson_ptrs(rng, lam):  # type: ignore[no-untyped-def]
    """Transformed rejection with squeeze (Hoermann 1993), for large ``lam``."""
    slam = math.sqrt(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    vr = 0.9277 - 3.6224 / (b - 2.0)
    # The exact test's constants, needed only when the squeeze fails.
    invalpha = log_lam = 0.0
    exact_ready = False
    while True:
        u, rng = uniform(rng)
        v, rng = uniform(rng)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k, rng
        if k < 0 or (us < 0.013 and v > us):
            continue
        if not exact_ready:
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            log_lam = math.log(lam)
            exact_ready = True
        accept = -lam + k * log_lam - _log_factorial(k)
        if math.log(v * invalpha / (a / (us * us) + b)) <= accept:
            return k, rng


@compiled
def standard_normal(rng):  # type: ignore[no-untyped-def]
    """A standard normal variate (Box-Muller, the cosine of the pair) and the
    stream's state after it."""
    u, rng = uniform(rng)
    v, rng = uniform(rng)
    return math.sqrt(-2.0 * math.log1p(-u)) * math.cos(2.0 * math.pi * v), rng


@compiled
def split_by_source(streams, r0, r1, counts, weights, totals):  # type: ignore[no-untyped-def]
    """Add to ``totals[source, run]`` the ``counts[group, run]`` of runs ``r0..r1``
    split over the sources, each member independently with chances proportional
    to ``weights[group, source, run]`` (see :mod:`simulator.engine.marks`): a chain of
    binomials, one per source but the last, which takes the rest."""
    groups, n_sources = weights.shape[0], weights.shape[1]
    rng = stream_state(streams, MARKS)
    for r in range(r0, r1):
        for g in range(groups):
            left = counts[g, r]
            if left == 0:
                continue
            rest = 0.0
            for s in range(n_sources):
                rest += weights[g, s, r]
            for s in range(n_sources - 1):
                weight = weights[g, s, r]
                chance = weight / rest if rest > 0.0 else 0.0
                drawn, rng = binomial(rng, left, min(max(chance, 0.0), 1.0))
                totals[s, r] += drawn
                left -= drawn
                rest -= weight
            totals[n_sources - 1, r] += left
    keep_stream_state(streams, MARKS, rng)


@compiled
def deal_values_needed(pipeline, deals_drawn, r0, r1):  # type: ignore[no-untyped-def]
    """How many deal values runs ``r0..r1`` could need by the end of this week:
    at most every opportunity in the last stage wins, and values are drawn one by
    one only up to :data:`EXACT_DEALS_PER_RUN`."""
    last = pipeline.shape[0] - 1
    needed = 0
    for r in range(r0, r1):
        most = min(deals_drawn[r] + pipeline[last, r], EXACT_DEALS_PER_RUN)
        needed = max(needed, most)
    return needed


class StepState(NamedTuple):
    """What the step changes in place (funnel, company, budget, review window,
    deals drawn) and the epoch bookkeeping of the segment it reads."""

    queue: Array
    nurture: Array
    matured: Array
    pipeline: Array
    customers: Array
    arr: Array
    bad_share: Array
    share: Array
    window_spend: Array
    window_mqls: Array
    deals_drawn: Array
    deal_normals: Array
    deal_columns: int
    epoch_qualified: Array
    age_slot0: Array
    slots_week: int
    current_slot: int
    mql_rates: Array
    held_rates: Array


class StepParams(NamedTuple):
    """A scenario's compiled parameters as the step reads them, and log_rarer
    of the chances among them (Params.log_rarer)."""

    per_run: Array
    qualify: Array
    group_start: Array
    advance: Array
    lose_given_stay: Array
    per_run_log: Array
    qualify_log: Array
    advance_log: Array
    lose_log: Array
    switches: Array


class StepRecord(NamedTuple):
    """Where the step records: the record (weeks, series, runs of the whole
    result) from ``record_offset`` on, the chunk's sums, and ARR at week
    ``year_week`` and at the end."""

    record: Array
    record_offset: int
    totals: Array
    arr_at: Array
    year_week: int


@compiled
def run_weeks(  # type: ignore[no-untyped-def]
    streams,
    r0,
    r1,
    week0,
    week1,
    recording,
    state,
    params,
    out,
):
    """Advance runs ``r0..r1`` (one seed block) through weeks ``week0..week1``.

    Returns the week reached: ``week1``, or an earlier week when some run could
    win more deals than its drawn deal values cover (the caller draws more and
    calls again from there, so when values are drawn never changes them).

    ``age_slot0[a]`` is the epoch slot of the leads of queue age ``a`` at week
    ``slots_week`` (age 0: ``current_slot``), the start of a segment in which the
    epoch does not change; ``epoch_qualified[slot, type, run]``
    collects the qualified ready and future leads by the epoch that generated
    them, for reviews that score qualified leads.

    ``state``, ``params`` and ``out`` are a :class:`StepState`, a
    :class:`StepParams` and a :class:`StepRecord`. With ``recording``, week
    ``w`` of run ``r`` is written to
    ``record[w, series, record_offset + r]`` (single precision), its flows are
    added to ``totals[series, r]`` (double precision), and its ARR is kept in
    ``arr_at[ARR_LAST, r]`` and, in week ``year_week``, ``arr_at[ARR_YEAR1, r]``.
    """
    (
        queue,
        nurture,
        matured,
        pipeline,
        customers,
        arr,
        bad_share,
        share,
        window_spend,
        window_mqls,
        deals_drawn,
        deal_normals,
        deal_columns,
        epoch_qualified,
        age_slot0,
        slots_week,
        current_slot,
        mql_rates,
        held_rates,
    ) = state
    (
        per_run,
        qualify,
        group_start,
        advance,
        lose_given_stay,
        per_run_log,
        qualify_log,
        advance_log,
        lose_log,
        switches,
    ) = params
    record, record_offset, totals, arr_at, year_week = out
    ages = queue.shape[0]
    stages = pipeline.shape[0]
    n_sources = share.shape[0]
    nurture_on = switches[NURTURE_ENABLED] == 1
    scores_qualified = switches[SCORES_QUALIFIED] == 1
    counts_mqls = switches[COUNTS_MQLS] == 1
    # Each site's stream state, threaded through its draws and written back
    # when the segment ends.
    leads_rng = stream_state(streams, LEADS)
    handoff_rng = stream_state(streams, HANDOFF)
    contact_rng = stream_state(streams, CONTACT)
    qualify_rng = stream_state(streams, QUALIFY)
    pipeline_rng = stream_state(streams, PIPELINE)
    customers_rng = stream_state(streams, CUSTOMERS)
    nurture_rng = stream_state(streams, NURTURE_SITE)
    deal_sums_rng = stream_state(streams, DEAL_SUMS)
    contacted = np.zeros((ages, N_CLASSES), dtype=np.int64)
    lead_rates = np.zeros(7)
    lead_counts = np.zeros(7, dtype=np.int64)
    advanced = np.zeros(stages, dtype=np.int64)
    slots = np.zeros(ages, dtype=np.int64)
    week_values = np.zeros(S_SHARES)
    recorded_shares = min(n_sources, record.shape[1] - S_SHARES)
    reached = week1
    for week in range(week0, week1):
        if deal_values_needed(pipeline, deals_drawn, r0, r1) > deal_columns:
            reached = week
            break
        # The epoch of each queue age this week: leads generated since
        # slots_week belong to the current epoch.
        done = week - slots_week
        for a in range(ages):
            slots[a] = current_slot if a <= done else age_slot0[a - done]
        for r in range(r0, r1):
            # 1-3. Generate, score and hand off; the trust loop sets the ignore
            # rate. By Poisson splitting, accepted MQLs of each type, ignored
            # MQLs and held-back leads (by where they go) are independent
            # Poisson counts.
            ignore = per_run[IGNORE_BASE, r] + per_run[TRUST_SENSITIVITY, r] * (
                bad_share[r] - per_run[TRUST_REFERENCE, r]
            )
            if ignore < 0.0:
                ignore = 0.0
            elif ignore > 1.0:
                ignore = 1.0
            capture = per_run[RECYCLE_CAPTURE, r]
            # (recycle_capture is zero without recycling, and State.new_epoch
            # zeroes held_rates without held-back leads: their counts are then
            # zero and draw nothing.)
            keep = 1.0 - ignore
            ignored_real = (mql_rates[0, r] + mql_rates[1, r]) * ignore
            lead_rates[0] = mql_rates[0, r] * keep  # accepted ready
            lead_rates[1] = mql_rates[1, r] * keep  # accepted future
            lead_rates[2] = mql_rates[2, r] * keep  # accepted junk
            lead_rates[3] = ignored_real * capture  # ignored, to nurture
            lead_rates[4] = ignored_real * (1.0 - capture) + mql_rates[2, r] * ignore
            lead_rates[5] = held_rates[0, r]  # held back, to nurture
            lead_rates[6] = held_rates[1, r]  # held back, lost
            # One call site for all: each inlined sampler adds to the loop's code.
            for i in range(7):
                count, leads_rng = poisson(leads_rng, lead_rates[i])
                lead_counts[i] = count
            accepted_ready = lead_counts[0]
            accepted_future = lead_counts[1]
            accepted_junk = lead_counts[2]
            ignored_to_nurture_mkt = lead_counts[3]
            ignored_lost_mkt = lead_counts[4]
            held_to_nurture = lead_counts[5]
            held = lead_counts[5] + lead_counts[6]
            ignored_mkt = ignored_to_nurture_mkt + ignored_lost_mkt
            mkt_mqls = accepted_ready + accepted_future + accepted_junk + ignored_mkt
            # Ready leads back from nurture are counts, thinned by binomials.
            arrived = matured[r]
            ignored_matured, handoff_rng = binomial(handoff_rng, arrived, ignore)
            ignored_captured, handoff_rng = binomial_known(
                handoff_rng, ignored_matured, capture, per_run_log[RECYCLE_CAPTURE, r]
            )
            ignored_to_nurture = ignored_to_nurture_mkt + ignored_captured
            queue[0, READY, r] += accepted_ready
            queue[0, NURTURE, r] += arrived - ignored_matured
            queue[0, FUTURE, r] += accepted_future
            queue[0, JUNK, r] += accepted_junk

            # 4. Follow up: everyone waiting is contacted unless the run is over
            # capacity, when each lead is, with chance capacity / waiting.
            waiting = 0
            for a in range(ages):
                for c in range(N_CLASSES):
                    waiting += queue[a, c, r]
            # Contacted leads leave the queue at once (the qualification below
            # reads them from `contacted`).
            n_contacted = 0
            contacted_junk = 0
            capacity = per_run[CAPACITY, r]
            over_capacity = capacity > 0.0 and waiting > capacity
            if over_capacity:
                chance = capacity / waiting
                log_chance = log_rarer(chance)
                for a in range(ages):
                    for c in range(N_CLASSES):
                        count, contact_rng = binomial_known(
                            contact_rng, queue[a, c, r], chance, log_chance
                        )
                        contacted[a, c] = count
                        queue[a, c, r] -= count
                        n_contacted += count
                    contacted_junk += contacted[a, JUNK]
            else:
                for a in range(ages):
                    for c in range(N_CLASSES):
                        contacted[a, c] = queue[a, c, r]
                        queue[a, c, r] = 0
                    contacted_junk += contacted[a, JUNK]
                n_contacted = waiting
            # Ages with equal chances are drawn together (Params.qualify_group_start)
            # unless a review scored on qualified leads must tell their epochs
            # apart.
            qualified = 0
            start = 0
            while start < ages:
                stop = start + 1
                while stop < ages and not group_start[stop]:
                    if scores_qualified and slots[stop] != slots[start]:
                        break
                    stop += 1
                for c in (READY, NURTURE, FUTURE):
                    tried = contacted[start, c]
                    for a in range(start + 1, stop):
                        tried += contacted[a, c]
                    gained, qualify_rng = binomial_known(
                        qualify_rng,
                        tried,
                        qualify[start, c, r],
                        qualify_log[start, c, r],
                    )
                    qualified += gained
                    if scores_qualified and c != NURTURE:
                        kind = 0 if c == READY else 1
                        epoch_qualified[slots[start], kind, r] += gained
                start = stop
            rejected_real = n_contacted - contacted_junk - qualified
            # Who is left waits a week longer; the oldest go stale. (With no one
            # left, as whenever the run is within capacity, nothing moves.)
            stale = 0
            stale_real = 0
            waiting = 0
            if over_capacity:
                for c in range(N_CLASSES):
                    stale += queue[ages - 1, c, r]
                stale_real = stale - queue[ages - 1, JUNK, r]
                for a in range(ages - 1, 0, -1):
                    for c in range(N_CLASSES):
                        queue[a, c, r] = queue[a - 1, c, r]
                        waiting += queue[a, c, r]
                for c in range(N_CLASSES):
                    queue[0, c, r] = 0
            if n_contacted > 0:
                bad_now = 1.0 - qualified / n_contacted
                bad_share[r] += (bad_now - bad_share[r]) / per_run[TRUST_SMOOTHING, r]
            recycled_to_nurture, handoff_rng = binomial_known(
                handoff_rng,
                rejected_real + stale_real,
                capture,
                per_run_log[RECYCLE_CAPTURE, r],
            )

            # 5. Pipeline: existing opportunities move first, then this week's
            # qualified leads enter the first stage.
            for j in range(stages):
                count = pipeline[j, r]
                moved, pipeline_rng = binomial_known(
                    pipeline_rng, count, advance[j, r], advance_log[j, r]
                )
                advanced[j] = moved
                lost, pipeline_rng = binomial_known(
                    pipeline_rng,
                    count - moved,
                    lose_given_stay[j, r],
                    lose_log[j, r],
                )
                pipeline[j, r] = count - moved - lost
            opportunities = 0
            for j in range(1, stages):
                pipeline[j, r] += advanced[j - 1]
            won = advanced[stages - 1]
            pipeline[0, r] += qualified
            for j in range(stages):
                opportunities += pipeline[j, r]

            # 6. Customers and revenue: churn, expansion, then new deals.
            before = customers[r]
            churned, customers_rng = binomial_known(
                customers_rng,
                before,
                per_run[WEEKLY_CHURN, r],
                per_run_log[WEEKLY_CHURN, r],
            )
            if before > 0:
                # A kept share, so that losing every customer leaves exactly zero.
                arr[r] *= (before - churned) / before
            customers[r] = before - churned
            arr[r] *= per_run[WEEKLY_EXPANSION, r]
            # Run r's m-th deal always has the normal deal_normals[r, m], so
            # scenarios compared with common random numbers win deals of
            # matching sizes.
            bookings = 0.0
            if won > 0:
                mu = per_run[ACV_MU, r]
                sigma = per_run[ACV_SIGMA, r]
                first = deals_drawn[r]
                deals_drawn[r] = first + won
                if first + won <= EXACT_DEALS_PER_RUN:
                    for m in range(first, first + won):
                        bookings += math.exp(mu + sigma * deal_normals[r, m])
                else:
                    bookings, deal_sums_rng = deal_sum(deal_sums_rng, won, mu, sigma)
            customers[r] += won
            arr[r] += bookings

            # 7. Nurture: inflows join, then leads leave (ready next week, or lost).
            if nurture_on:
                pool = (
                    nurture[r]
                    + held_to_nurture
                    + ignored_to_nurture
                    + recycled_to_nurture
                )
                leaving, nurture_rng = binomial_known(
                    nurture_rng,
                    pool,
                    per_run[NURTURE_LEAVE, r],
                    per_run_log[NURTURE_LEAVE, r],
                )
                matured_now, nurture_rng = binomial_known(
                    nurture_rng,
                    leaving,
                    per_run[SHARE_MATURING, r],
                    per_run_log[SHARE_MATURING, r],
                )
                matured[r] = matured_now
                nurture[r] = pool - leaving

            # 8. Costs.
            budget = per_run[WEEKLY_BUDGET, r]
            spend = budget + per_run[NURTURE_COST, r] * nurture[r]

            # The budget review's window (the review itself is the caller's).
            for s in range(n_sources):
                window_spend[s, r] += budget * share[s, r]
            if counts_mqls:
                window_mqls[0, r] += accepted_ready
                window_mqls[1, r] += accepted_future
                window_mqls[2, r] += accepted_junk
                window_mqls[3, r] += ignored_to_nurture_mkt
                window_mqls[4, r] += ignored_lost_mkt

            if recording:
                week_values[S_LEADS] = mkt_mqls + held
                week_values[S_MQLS] = mkt_mqls + arrived
                week_values[S_IGNORED] = ignored_mkt + ignored_matured
                week_values[S_CONTACTED] = n_contacted
                week_values[S_QUALIFIED] = qualified
                week_values[S_STALE] = stale
                week_values[S_OPPORTUNITIES] = opportunities
                week_values[S_WON] = won
                week_values[S_BOOKINGS] = bookings
                week_values[S_REVENUE] = arr[r] / 52.0
                week_values[S_ARR] = arr[r]
                week_values[S_CUSTOMERS] = customers[r]
                week_values[S_CHURNED] = churned
                week_values[S_NURTURE] = nurture[r]
                week_values[S_IGNORE_RATE] = ignore
                week_values[S_QUEUE] = waiting
                week_values[S_SPEND] = spend
                week_values[S_COST] = spend + per_run[FIXED_WEEKLY_COST, r]
                week_values[S_MATURED] = arrived
                # The record is single precision; the flows' totals are summed
                # in double.
                at = record_offset + r
                for s in range(S_SHARES):
                    record[week, s, at] = week_values[s]
                for s in FLOW_ROWS:
                    totals[s, r] += week_values[s]
                for s in range(recorded_shares):
                    record[week, S_SHARES + s, at] = share[s, r]
                arr_at[ARR_LAST, r] = arr[r]
                if week == year_week:
                    arr_at[ARR_YEAR1, r] = arr[r]
    keep_stream_state(streams, LEADS, leads_rng)
    keep_stream_state(streams, HANDOFF, handoff_rng)
    keep_stream_state(streams, CONTACT, contact_rng)
    keep_stream_state(streams, QUALIFY, qualify_rng)
    keep_stream_state(streams, PIPELINE, pipeline_rng)
    keep_stream_state(streams, CUSTOMERS, customers_rng)
    keep_stream_state(streams, NURTURE_SITE, nurture_rng)
    keep_stream_state(streams, DEAL_SUMS, deal_sums_rng)
    return reached


@compiled
def deal_sum(rng, won, mu, sigma):  # type: ignore[no-untyped-def]
    """The annual value of ``won`` lognormal deals (log-mean ``mu``, log-sd
    ``sigma``) as one draw, and the stream's state after it.

    Past :data:`EXACT_DEALS_PER_RUN` deals in a run (only in extreme scenarios,
    where drawing every deal would exhaust memory) a week's deals are summed as
    one lognormal with the sum's mean and variance (Fenton-Wilkinson), which the
    central limit theorem makes accurate there.
    """
    sigma2 = sigma * sigma
    mean = won * math.exp(mu + sigma2 / 2)
    var = won * math.expm1(sigma2) * math.exp(2 * mu + sigma2)
    s2 = math.log1p(var / (mean * mean))
    normal, rng = standard_normal(rng)
    return math.exp(math.log(mean) - s2 / 2 + math.sqrt(s2) * normal), rng
