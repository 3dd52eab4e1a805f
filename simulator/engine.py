"""The weekly step of the funnel model (MODEL.md, "One week, in this order").

Everything here is vectorised across the runs of a chunk: a state array has one
row per run. The step is written once and serves warm-up and reported weeks alike.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from simulator.params import Layout, Params
from simulator.streams import Site

I = NDArray[np.int64]
F = NDArray[np.float64]

#: Weekly series recorded per run, in MODEL.md's order.
SERIES = (
    "leads",
    "mqls",
    "ignored",
    "contacted",
    "qualified",
    "stale",
    "opportunities",
    "won",
    "bookings",
    "revenue",
    "arr",
    "customers",
    "churned",
    "nurture",
    "ignore_rate",
    "queue",
    "spend",
    "cost",
)
#: Series that are flows (summed over the horizon into ``total_<flow>``).
FLOWS = (
    "leads",
    "mqls",
    "ignored",
    "contacted",
    "qualified",
    "stale",
    "won",
    "bookings",
    "revenue",
    "churned",
    "spend",
    "cost",
)
_DEAL_COLUMNS = 32
#: Deals per run drawn one by one; beyond, a week's deals are drawn as one sum.
EXACT_DEALS_PER_RUN = 4096


@dataclass
class State:
    """The state of ``n`` runs at the start of a week (MODEL.md, "State of one run")."""

    layout: Layout
    queue: I  # (n, ages, classes): leads waiting for a first contact, by weeks waited
    nurture: I  # (n,)
    matured: I  # (n,): left nurture ready last week, arrive this week
    pipeline: I  # (n, stages)
    customers: I  # (n,)
    arr: F  # (n,)
    share: F  # (n, sources)
    bad_share: F  # (n,)
    window_spend: F  # (n, sources) since the last budget review
    window_mqls: F
    window_qualified: F
    deals_drawn: I  # (n,): deals won so far, the index into each run's deal values
    deal_normals: F  # (n, columns): standard normals behind each run's deal values
    #: (n, ages, by-source classes): the MQLs of the cohort at each queue age, by
    #: source, kept while a queue not resolved by source must later be resolved
    #: (see :meth:`resolve_sources`); ``None`` otherwise.
    cohorts: I | None = None

    @classmethod
    def initial(cls, params: Params, *, track_sources: bool = False) -> State:
        """Empty funnel stocks. ``track_sources`` keeps the cohorts' sources so that
        a queue merged over sources can be resolved by source at the branch point."""
        n, lay = params.n, params.layout
        cohorts = None
        if track_sources and not lay.by_source:
            cohorts = np.zeros(
                (n, lay.queue_ages, lay.resolved(True).n_classes), dtype=np.int64
            )
        zeros_s = np.zeros((n, lay.n_sources))
        return cls(
            layout=lay,
            queue=np.zeros((n, lay.queue_ages, lay.n_classes), dtype=np.int64),
            nurture=np.zeros(n, dtype=np.int64),
            matured=np.zeros(n, dtype=np.int64),
            pipeline=np.zeros((n, len(lay.stages)), dtype=np.int64),
            customers=np.full(n, params.initial_customers, dtype=np.int64),
            arr=np.full(n, params.initial_arr),
            share=params.initial_share.copy(),
            bad_share=params.trust_reference.copy(),
            window_spend=zeros_s,
            window_mqls=zeros_s.copy(),
            window_qualified=zeros_s.copy(),
            deals_drawn=np.zeros(n, dtype=np.int64),
            deal_normals=np.zeros((n, 0)),
            cohorts=cohorts,
        )

    def copy(self) -> State:
        copied = replace(self)
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                setattr(copied, f.name, value.copy())
        return copied

    def start_reporting(self, params: Params) -> None:
        """Week 0: the company restarts from its initial size; the funnel, trust
        memory and budget shares are kept (MODEL.md, "Runs, warm-up")."""
        self.customers[:] = params.initial_customers
        self.arr[:] = params.initial_arr
        self.window_spend[:] = 0
        self.window_mqls[:] = 0
        self.window_qualified[:] = 0
        self.deals_drawn[:] = 0
        self.deal_normals = np.zeros((params.n, 0))

    def resolve_sources(self, labels: Site) -> None:
        """Resolve a queue merged over sources into one by source, in place.

        Exact, not an approximation: every lead of a cohort (the leads of one type
        that became MQLs in the same week) met the same chances whatever its
        source, so the cohort's survivors in the queue are a uniformly random
        subset of its MQLs, and their sources follow the multivariate
        hypergeometric distribution over the cohort's MQLs by source (drawn as a
        chain of hypergeometric draws from the ``labels`` stream)."""
        lay, cohorts = self.layout, self.cohorts
        if lay.by_source:
            return
        if cohorts is None:
            raise ValueError("the state did not keep its cohorts' sources")
        full = lay.resolved(True)
        queue = np.zeros(
            (cohorts.shape[0], lay.queue_ages, full.n_classes), dtype=np.int64
        )
        groups = (
            (0, range(full.first_future_class)),  # ready: sources and nurture
            (1, range(full.first_future_class, full.junk_class)),
        )  # future
        for merged, classes in groups:
            left = self.queue[:, :, merged].copy()  # (n, ages) survivors to label
            pool = cohorts[:, :, list(classes)].sum(axis=2)
            for c in list(classes)[:-1]:
                good = cohorts[:, :, c]
                pool -= good
                queue[:, :, c] = labels.hypergeometric(good, pool, left)
                left -= queue[:, :, c]
            queue[:, :, classes[-1]] = left
        queue[:, :, full.junk_class] = self.queue[:, :, lay.junk_class]
        self.queue, self.layout, self.cohorts = queue, full, None

    def branch(self, params: Params) -> State:
        """A copy of this state for a scenario that continues from it, adapted when
        the scenario's layout differs (sources matched by name, stages and queue
        ages by position; leads are never created or destroyed by the mapping)."""
        state = self.copy()
        state.cohorts = None
        target = params.layout
        if target == self.layout:
            return state
        old = self.layout
        n = params.n
        if old.by_source and not target.by_source:
            # Merge the sources: the target never needs them.
            merged = np.zeros((n, old.queue_ages, 3), dtype=np.int64)
            merged[:, :, 0] = state.queue[:, :, : old.first_future_class].sum(axis=2)
            merged[:, :, 1] = state.queue[
                :, :, old.first_future_class : old.junk_class
            ].sum(axis=2)
            merged[:, :, 2] = state.queue[:, :, old.junk_class]
            state.queue, old = merged, old.resolved(False)
        elif target.by_source and not old.by_source:
            raise ValueError("resolve the queue's sources before branching")
        # Queue ages: leads older than the new stale limit wait in its last week.
        ages = np.zeros((n, target.queue_ages, old.n_classes), dtype=np.int64)
        keep = min(old.queue_ages, target.queue_ages)
        ages[:, :keep] = state.queue[:, :keep]
        ages[:, keep - 1] += state.queue[:, keep:].sum(axis=1)
        # Classes: sources by name; a source the new scenario lacks hands its leads
        # to the new first source.
        queue = np.zeros((n, target.queue_ages, target.n_classes), dtype=np.int64)
        share = params.initial_share.copy()
        windows = [np.zeros((n, target.n_sources)) for _ in range(3)]
        if target.by_source:
            for s_old, name in enumerate(old.sources):
                s_new = target.sources.index(name) if name in target.sources else 0
                queue[:, :, s_new] += ages[:, :, s_old]
                queue[:, :, target.future_class(s_new)] += ages[
                    :, :, old.future_class(s_old)
                ]
            queue[:, :, target.nurture_class] += ages[:, :, old.nurture_class]
            queue[:, :, target.junk_class] += ages[:, :, old.junk_class]
        else:
            queue[:] = ages
        if set(target.sources) == set(old.sources):
            order = [old.sources.index(name) for name in target.sources]
            share = state.share[:, order]
            windows = [
                w[:, order]
                for w in (state.window_spend, state.window_mqls, state.window_qualified)
            ]
        # Stages by position; opportunities beyond the new last stage wait in it.
        pipeline = np.zeros((n, len(target.stages)), dtype=np.int64)
        keep = min(len(old.stages), len(target.stages))
        pipeline[:, :keep] = state.pipeline[:, :keep]
        pipeline[:, keep - 1] += state.pipeline[:, keep:].sum(axis=1)
        state.layout = target
        state.queue, state.pipeline, state.share = queue, pipeline, share
        state.window_spend, state.window_mqls, state.window_qualified = windows
        return state


class Recorder:
    """Weekly series of a chunk: one ``(n, weeks)`` array per series."""

    def __init__(self, n: int, weeks: int) -> None:
        # Stored week by week so that a week's write is contiguous; ``series``
        # holds (n, weeks) views of that storage.
        rows = {name: np.zeros((weeks, n)) for name in SERIES}
        self.series = {name: value.T for name, value in rows.items()}


def step(
    state: State, p: Params, rng: dict[str, Site], week: int, record: Recorder | None
) -> None:
    """Advance ``state`` by one week (MODEL.md steps 1-9), recording into column
    ``week`` of ``record`` when given."""
    lay = state.layout
    n, n_src = p.n, lay.n_sources

    # 1-2. Generate and score. Poisson splitting: the MQLs of each source and type
    # and the held-back leads are independent Poisson counts.
    lam = state.share * p.leads_per_share  # (n, S)
    mql_st = rng["leads"].poisson(lam[:, :, None] * p.mql_quality)  # (n, S, type)
    if p.holds_back:
        held_real_rate = (lam * p.held_real_quality).sum(axis=1)
        held_junk_rate = (lam * p.held_junk_quality).sum(axis=1)
        held_to_nurture = _poisson(rng["leads"], held_real_rate * p.capture)
        held_lost = _poisson(
            rng["leads"], held_real_rate * (1 - p.capture) + held_junk_rate
        )
    else:  # nothing held back: these Poisson draws would consume no numbers
        held_to_nurture = held_lost = np.zeros(n, dtype=np.int64)

    mqls = _mqls_by_class(lay.by_source, mql_st, state.matured)
    if state.cohorts is not None:
        state.cohorts[:, 0] = _mqls_by_class(True, mql_st, state.matured)

    # 3. Hand off, with the trust loop setting this week's ignore rate.
    ignore = np.clip(
        p.ignore_base + p.trust_sensitivity * (state.bad_share - p.trust_reference),
        0,
        1,
    )
    ignored = rng["handoff"].binomial(mqls, ignore[:, None])
    recycle_capture = p.capture if p.recycle else np.zeros(n)
    ignored_real = ignored[:, : lay.junk_class].sum(axis=1)
    ignored_to_nurture = _binomial(rng["handoff"], ignored_real, recycle_capture)
    queue = state.queue
    queue[:, 0] += mqls - ignored

    # 4. Follow up. Only ages that hold leads in some run are drawn.
    by_age = np.add.reduce(queue, axis=2)  # (n, ages)
    waiting = np.add.reduce(by_age, axis=1)
    unlimited = p.capacity <= 0
    contact_prob = np.where(
        unlimited, 1.0, np.minimum(1.0, p.capacity / np.maximum(waiting, 1))
    )
    occupied = np.flatnonzero(np.logical_or.reduce(by_age, axis=0))
    top = int(occupied[-1]) + 1 if occupied.size else 1
    live = queue[:, :top]
    if np.all(contact_prob >= 1.0):
        contacted = live.copy()
    else:
        contacted = rng["contact"].binomial(live, contact_prob[:, None, None])
    # Ages with equal chances are drawn together (see Params.qualify_age_groups).
    starts = [start for start, _ in p.qualify_age_groups if start < top]
    real = contacted[:, :, : lay.junk_class]
    qualified_cells = rng["qualify"].binomial(
        real if len(starts) == top else np.add.reduceat(real, starts, axis=1),
        p.qualify_by_class_age[:, starts, : lay.junk_class],
    )
    qualified_class = qualified_cells.sum(axis=1)  # (n, classes without junk)
    qualified = qualified_class.sum(axis=1)
    n_contacted = contacted.sum(axis=(1, 2))
    rejected_real = contacted[:, :, : lay.junk_class].sum(axis=(1, 2)) - qualified
    live -= contacted
    stale_cells = queue[:, -1].copy()
    stale = stale_cells.sum(axis=1)
    stale_real = stale - stale_cells[:, lay.junk_class]
    queue[:, 1:] = queue[:, :-1]
    queue[:, 0] = 0
    if state.cohorts is not None:
        state.cohorts[:, 1:] = state.cohorts[:, :-1]
    worked = n_contacted > 0
    bad_now = 1 - qualified / np.maximum(n_contacted, 1)
    state.bad_share += np.where(
        worked, (bad_now - state.bad_share) / p.trust_smoothing, 0
    )
    recycled_to_nurture = _binomial(
        rng["handoff"], rejected_real + stale_real, recycle_capture
    )

    # 5. Pipeline: existing opportunities move first, then this week's qualified
    # leads enter stage 1.
    pipe = state.pipeline
    advanced = rng["pipeline"].binomial(pipe, p.advance)
    lost = rng["pipeline"].binomial(pipe - advanced, p.lose_given_stay)
    pipe -= advanced + lost
    pipe[:, 1:] += advanced[:, :-1]
    won = advanced[:, -1]
    pipe[:, 0] += qualified

    # 6. Customers and revenue: churn, expansion, then new deals.
    customers = state.customers
    churned = rng["customers"].binomial(customers, p.weekly_churn)
    # arr -= churned * arr / customers, written as a kept share so that losing
    # every customer leaves exactly zero, not a rounding error below it.
    kept = np.divide(
        customers - churned, customers, out=np.ones(p.n), where=customers > 0
    )
    state.arr *= kept
    customers -= churned
    state.arr *= p.weekly_expansion
    bookings = _bookings(state, p, rng["deals"], won)
    customers += won
    state.arr += bookings

    # 7. Nurture: inflows join, then leads leave (ready next week, or lost).
    if p.nurture_enabled:
        state.nurture += held_to_nurture + ignored_to_nurture + recycled_to_nurture
        leaving = rng["nurture"].binomial(state.nurture, p.nurture_leave)
        state.matured = rng["nurture"].binomial(leaving, p.share_maturing)
        state.nurture -= leaving

    # 8. Costs.
    spend = p.weekly_budget + p.nurture_cost * state.nurture
    cost = spend + p.fixed_weekly_cost

    # 9. Budget review, scored on MQLs or on qualified leads (closed loop).
    state.window_spend += p.weekly_budget[:, None] * state.share
    state.window_mqls += mql_st.sum(axis=2)
    if lay.by_source:  # only a layout by source can score sources on qualified leads
        state.window_qualified += (
            qualified_class[:, :n_src] + qualified_class[:, n_src + 1 : lay.junk_class]
        )
    if (week + 1) % p.review_weeks == 0:
        _review_budget(state, p)

    if record is not None:
        series = record.series
        new_leads = mql_st.sum(axis=(1, 2)) + held_to_nurture + held_lost
        for name, value in (
            ("leads", new_leads),
            ("mqls", mqls.sum(axis=1)),
            ("ignored", ignored.sum(axis=1)),
            ("contacted", n_contacted),
            ("qualified", qualified),
            ("stale", stale),
            ("opportunities", pipe.sum(axis=1)),
            ("won", won),
            ("bookings", bookings),
            ("revenue", state.arr / 52),
            ("arr", state.arr),
            ("customers", customers),
            ("churned", churned),
            ("nurture", state.nurture),
            ("ignore_rate", ignore),
            ("queue", queue.sum(axis=(1, 2))),
            ("spend", spend),
            ("cost", cost),
        ):
            series[name][:, week] = value


def _poisson(site: Site, lam: F) -> I:
    """Poisson counts; no draw when every rate is zero (numpy would draw nothing
    for them either, so the stream is the same)."""
    if not lam.any():
        return np.zeros(lam.shape, dtype=np.int64)
    result: I = site.poisson(lam)
    return result


def _binomial(site: Site, n: I, p: F) -> I:
    """Binomial counts; no draw when every count or every chance is zero (numpy
    would draw nothing for them either, so the stream is the same)."""
    if not (n.any() and p.any()):
        return np.zeros(np.broadcast_shapes(n.shape, p.shape), dtype=np.int64)
    result: I = site.binomial(n, p)
    return result


def _mqls_by_class(by_source: bool, mql_st: I, matured: I) -> I:
    """This week's MQLs by queue class: ``mql_st`` by (source, type), ``matured``
    the ready leads of the nurture pseudo-source."""
    n, n_src = matured.shape[0], mql_st.shape[1]
    if not by_source:
        mqls: I = mql_st.sum(axis=1)
        mqls[:, 0] += matured
        return mqls
    mqls = np.empty((n, 2 * n_src + 2), dtype=np.int64)
    mqls[:, :n_src] = mql_st[:, :, 0]
    mqls[:, n_src] = matured
    mqls[:, n_src + 1 : -1] = mql_st[:, :, 1]
    mqls[:, -1] = mql_st[:, :, 2].sum(axis=1)
    return mqls


def _bookings(state: State, p: Params, deals: Site, won: I) -> F:
    """Annual value of this week's won deals. Run ``i``'s ``m``-th deal always has
    the same underlying normal draw, so scenarios compared with common random
    numbers win deals of matching sizes.

    Past :data:`EXACT_DEALS_PER_RUN` deals a run (only in extreme scenarios, where
    drawing every deal would exhaust memory) the week's sum of ``k`` lognormal
    deals is drawn as one lognormal with the same mean and variance
    (Fenton-Wilkinson), which the central limit theorem makes accurate there.
    """
    bookings = np.zeros(p.n)
    if not won.any():
        return bookings
    exact = state.deals_drawn + won <= EXACT_DEALS_PER_RUN
    won_exact = np.where(exact, won, 0)
    total = int(won_exact.sum())
    if total:
        needed = int((state.deals_drawn + won_exact).max())
        while state.deal_normals.shape[1] < needed:
            state.deal_normals = np.concatenate(
                [state.deal_normals, deals.standard_normal_rows(_DEAL_COLUMNS)], axis=1
            )
        runs = np.repeat(np.arange(p.n), won_exact)
        first = np.cumsum(won_exact) - won_exact
        index = state.deals_drawn[runs] + np.arange(total) - first[runs]
        values = np.exp(
            p.acv_mu[runs] + p.acv_sigma[runs] * state.deal_normals[runs, index]
        )
        bookings += np.bincount(runs, weights=values, minlength=p.n)
    many = ~exact & (won > 0)
    if many.any():
        z = deals.standard_normal_rows(1)[:, 0]
        k = won[many].astype(np.float64)
        mu, sigma2 = p.acv_mu[many], p.acv_sigma[many] ** 2
        mean = k * np.exp(mu + sigma2 / 2)
        var = k * np.expm1(sigma2) * np.exp(2 * mu + sigma2)
        s2 = np.log1p(var / mean**2)
        bookings[many] = np.exp(np.log(mean) - s2 / 2 + np.sqrt(s2) * z[many])
    state.deals_drawn += won
    return bookings


def _review_budget(state: State, p: Params) -> None:
    active = p.realloc_rate > 0
    if active.any():
        metric = state.window_qualified if p.metric_qualified else state.window_mqls
        score = np.divide(
            metric,
            state.window_spend,
            out=np.zeros_like(metric),
            where=state.window_spend > 0,
        )
        total = score.sum(axis=1, keepdims=True)
        target = np.divide(score, total, out=np.zeros_like(score), where=total > 0)
        target = np.maximum(target, p.min_share[:, None])
        # A window with no score (and no floor) leaves the shares as they are.
        target_sum = target.sum(axis=1, keepdims=True)
        np.divide(target, target_sum, out=target, where=target_sum > 0)
        move = (active & (total[:, 0] > 0))[:, None]
        rate = p.realloc_rate[:, None]
        state.share = np.where(
            move, (1 - rate) * state.share + rate * target, state.share
        )
    state.window_spend[:] = 0
    state.window_mqls[:] = 0
    state.window_qualified[:] = 0
