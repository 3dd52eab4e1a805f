"""The weekly step of the funnel model (MODEL.md, "One week, in this order").

Everything here is vectorised across the runs of a chunk, which are the *last*
axis of every state and parameter array (``queue[age, class, run]``): sums over
the short axes (classes, ages, sources) are then adds of contiguous rows, many
times faster than reducing along a short trailing axis. The step is written once
and serves warm-up and reported weeks alike.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from simulator.marks import (
    MQL_GROUPS,
    map_sources,
    mql_group_weights,
    qualified_group_weights,
    source_weights,
    split_by_source,
)
from simulator.params import (
    FUTURE,
    JUNK,
    N_CLASSES,
    NURTURE,
    READY,
    Layout,
    Params,
)
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
    """The state of ``n`` runs at the start of a week (MODEL.md, "State of one run").

    Leads in the queue are followed by type, not by source (see
    :mod:`simulator.marks`): ``queue_epochs`` says under which source chances each
    queue age was generated, and the window counts by group are split over the
    sources when a budget review needs them.
    """

    layout: Layout
    queue: I  # (ages, classes, n): leads waiting for a first contact
    nurture: I  # (n,)
    matured: I  # (n,): left nurture ready last week, arrive this week
    pipeline: I  # (stages, n)
    customers: I  # (n,)
    arr: F  # (n,)
    share: F  # (sources, n)
    bad_share: F  # (n,)
    window_spend: F  # (sources, n) since the last budget review
    window_mqls: I  # (MQL groups, n) since the last review
    deals_drawn: I  # (n,): deals won so far, the index into each run's deal values
    #: (n, 1 + deals): running totals of each run's deal values (column m: the
    #: sum of its first m deals), drawn 32 deals at a time
    deal_totals: F
    epoch: int  # the current epoch of source chances
    #: (qualified groups, sources, n): the source weights of each live epoch
    epoch_weights: dict[int, F]
    #: (qualified groups, n): qualified leads since the last review, by the epoch
    #: in which they were generated (kept only when reviews score them)
    epoch_qualified: dict[int, I]
    queue_epochs: list[int]  # the epoch in which each queue age was generated
    #: (types, n) MQLs a week before ignoring, and (2, n) held-back leads that could
    #: go to nurture and that are lost: fixed within an epoch
    mql_rates: F
    held_rates: F

    @classmethod
    def initial(cls, params: Params) -> State:
        """Empty funnel stocks (MODEL.md, "Runs, warm-up")."""
        n, lay = params.n, params.layout
        state = cls(
            layout=lay,
            queue=np.zeros((lay.queue_ages, N_CLASSES, n), dtype=np.int64),
            nurture=np.zeros(n, dtype=np.int64),
            matured=np.zeros(n, dtype=np.int64),
            pipeline=np.zeros((len(lay.stages), n), dtype=np.int64),
            customers=np.full(n, params.initial_customers, dtype=np.int64),
            arr=np.full(n, params.initial_arr),
            share=params.initial_share.copy(),
            bad_share=params.trust_reference.copy(),
            window_spend=np.zeros((lay.n_sources, n)),
            window_mqls=np.zeros((len(MQL_GROUPS), n), dtype=np.int64),
            deals_drawn=np.zeros(n, dtype=np.int64),
            deal_totals=np.zeros((n, 1)),
            epoch=-1,
            epoch_weights={},
            epoch_qualified={},
            queue_epochs=[0] * lay.queue_ages,
            mql_rates=np.zeros((3, n)),
            held_rates=np.zeros((2, n)),
        )
        state.new_epoch(params)
        state.queue_epochs = [state.epoch] * lay.queue_ages
        return state

    def copy(self) -> State:
        copied = replace(self)
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                setattr(copied, f.name, value.copy())
        copied.epoch_weights = dict(self.epoch_weights)  # arrays never change
        copied.epoch_qualified = {e: q.copy() for e, q in self.epoch_qualified.items()}
        copied.queue_epochs = list(self.queue_epochs)
        return copied

    def new_epoch(self, params: Params) -> None:
        """Start an epoch: the shares or the scenario changed, and with them the
        weekly lead rates and the source chances of new leads."""
        weights = source_weights(self.share, params.leads_per_share, params.mql_quality)
        self.mql_rates = weights.sum(axis=1)
        if params.holds_back:
            leads = self.share * params.leads_per_share
            real = (leads * params.held_real_quality).sum(axis=0)
            junk = (leads * params.held_junk_quality).sum(axis=0)
            self.held_rates = np.stack(
                [real * params.capture, real * (1 - params.capture) + junk]
            )
        self.epoch += 1
        self.epoch_weights[self.epoch] = qualified_group_weights(weights)
        live = {self.epoch, *self.queue_epochs, *self.epoch_qualified}
        for old in [e for e in self.epoch_weights if e not in live]:
            del self.epoch_weights[old]

    def start_reporting(self, params: Params) -> None:
        """Week 0: the company restarts from its initial size; the funnel, trust
        memory and budget shares are kept (MODEL.md, "Runs, warm-up")."""
        self.customers[:] = params.initial_customers
        self.arr[:] = params.initial_arr
        self.reset_window()
        self.deals_drawn[:] = 0
        self.deal_totals = np.zeros((params.n, 1))

    def reset_window(self) -> None:
        self.window_spend[:] = 0
        self.window_mqls[:] = 0
        self.epoch_qualified = {}

    def branch(self, params: Params) -> State:
        """A copy of this state for a scenario that continues from it, adapted when
        the scenario's layout differs (sources matched by name, stages and queue
        ages by position; leads are never created or destroyed by the mapping)."""
        state = self.copy()
        target, old = params.layout, self.layout
        n = params.n
        if target.queue_ages != old.queue_ages:
            # Leads older than the new stale limit wait in its last week.
            ages = np.zeros((target.queue_ages, N_CLASSES, n), dtype=np.int64)
            keep = min(old.queue_ages, target.queue_ages)
            ages[:keep] = state.queue[:keep]
            ages[keep - 1] += state.queue[keep:].sum(axis=0)
            state.queue = ages
            epochs = state.queue_epochs[:keep]
            state.queue_epochs = epochs + [epochs[-1]] * (target.queue_ages - keep)
        if target.sources != old.sources:
            if set(target.sources) == set(old.sources):
                order = [old.sources.index(name) for name in target.sources]
                state.share = state.share[order]
                state.window_spend = state.window_spend[order]
            else:
                state.share = params.initial_share.copy()
                state.window_spend = np.zeros((target.n_sources, n))
            state.epoch_weights = {
                e: map_sources(w, old.sources, target.sources)
                for e, w in state.epoch_weights.items()
            }
        if target.stages != old.stages:
            # Stages by position; opportunities beyond the new last stage wait in it.
            pipeline = np.zeros((len(target.stages), n), dtype=np.int64)
            keep = min(len(old.stages), len(target.stages))
            pipeline[:keep] = state.pipeline[:keep]
            pipeline[keep - 1] += state.pipeline[keep:].sum(axis=0)
            state.pipeline = pipeline
        if not params.nurture_enabled:
            # A scenario without nurture stops the programme: the pool's leads
            # are no longer nurtured and are lost (none may mature from it).
            state.nurture[:] = 0
            state.matured[:] = 0
        state.layout = target
        state.new_epoch(params)  # this scenario's leads carry its own chances
        return state


#: Weekly series recorded beyond MODEL.md's: ready leads back from nurture that
#: joined this week's MQLs (so a funnel can tell new MQLs from returning ones).
EXTRA_SERIES = ("matured",)


def share_series(sources: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the weekly budget-share series, one per source (after MODEL.md's
    series: the closed loop at work)."""
    return tuple(f"share_{source}" for source in sources)


class Recorder:
    """Weekly series of a chunk: one ``(n, weeks)`` array per series, MODEL.md's
    :data:`SERIES`, :data:`EXTRA_SERIES` and each source's budget share at the
    end of the week."""

    def __init__(self, n: int, weeks: int, sources: tuple[str, ...] = ()) -> None:
        # Stored week by week so that a week's write is contiguous; ``series``
        # holds (n, weeks) views of that storage.
        names = SERIES + EXTRA_SERIES + share_series(sources)
        rows = {name: np.zeros((weeks, n)) for name in names}
        self.series = {name: value.T for name, value in rows.items()}
        self.shares = share_series(sources)


def step(
    state: State, p: Params, rng: dict[str, Site], week: int, record: Recorder | None
) -> None:
    """Advance ``state`` by one week (MODEL.md steps 1-9), recording into column
    ``week`` of ``record`` when given."""
    n = p.n
    queue = state.queue
    state.queue_epochs[0] = state.epoch

    # 1-3. Generate, score and hand off, with the trust loop setting this week's
    # ignore rate. By Poisson splitting, marketing's leads that become accepted
    # MQLs of each type, ignored MQLs and held-back leads (each by where they go)
    # are independent Poisson counts: one draw per count, none per source.
    ignore = np.clip(
        p.ignore_base + p.trust_sensitivity * (state.bad_share - p.trust_reference),
        0,
        1,
    )
    by_type = state.mql_rates  # (types, n)
    recycle_capture = p.recycle_capture
    ignored_real = (by_type[0] + by_type[1]) * ignore
    ignored_junk = by_type[2] * ignore
    first_held = 5 if p.recycle else 4
    rates = np.empty((first_held + (2 if p.holds_back else 0), n))
    np.multiply(by_type, 1 - ignore, out=rates[:3])  # accepted ready, future, junk
    if p.recycle:  # ignored: to nurture, lost
        np.multiply(ignored_real, recycle_capture, out=rates[3])
        rates[4] = ignored_real - rates[3] + ignored_junk
    else:  # ignored, all lost
        rates[3] = ignored_real + ignored_junk
    if p.holds_back:
        rates[first_held:] = state.held_rates  # held back: to nurture, lost
    counts = rng["leads"].poisson(rates)
    accepted = counts[:3]
    ignored_mkt_to_nurture = counts[3] if p.recycle else np.zeros(n, dtype=np.int64)
    ignored_mkt_lost = counts[first_held - 1]
    ignored_to_nurture = ignored_mkt_to_nurture
    ignored_mkt = counts[3:first_held].sum(axis=0)
    if p.holds_back:
        held_to_nurture, held = counts[first_held], counts[first_held:].sum(axis=0)
    else:
        held_to_nurture = held = np.zeros(n, dtype=np.int64)
    mkt_mqls = accepted.sum(axis=0) + ignored_mkt
    # Ready leads back from nurture are counts, not Poisson: thinned by binomials.
    matured = state.matured
    if matured.any():
        ignored_matured = rng["handoff"].binomial(matured, ignore)
        ignored_to_nurture = ignored_to_nurture + _binomial(
            rng["handoff"], ignored_matured, recycle_capture
        )
    else:
        ignored_matured = np.zeros(n, dtype=np.int64)
    new = queue[0]
    new[READY] += accepted[0]
    new[NURTURE] += matured - ignored_matured
    new[FUTURE] += accepted[1]
    new[JUNK] += accepted[2]

    # 4. Follow up. Only ages that hold leads in some run are drawn, and only runs
    # over capacity draw who is contacted: everyone else is.
    by_age = queue.sum(axis=1)  # (ages, n)
    waiting = by_age.sum(axis=0)
    occupied = np.flatnonzero(by_age.any(axis=1))
    top = int(occupied[-1]) + 1 if occupied.size else 1
    # The nurture class is empty unless nurture runs (or ran before a branch).
    with_nurture = p.nurture_enabled or bool(queue[:top, NURTURE].any())
    classes = list(range(N_CLASSES)) if with_nurture else [READY, FUTURE, JUNK]
    live = queue[:top] if with_nurture else queue[:top][:, classes]
    contacted = live.copy()
    short = np.flatnonzero((p.capacity > 0) & (waiting > p.capacity))
    if short.size:
        chance = p.capacity[short] / waiting[short]
        contacted[:, :, short] = rng["contact"].binomial(
            live[:, :, short], chance, rows=short
        )
    real_contacted = contacted[:, :-1]  # junk is last and never qualifies
    real_classes = classes[:-1]
    # Ages with equal chances are drawn together (see Params.qualify_age_groups),
    # unless they were generated under different source chances that a review
    # scored on qualified leads must tell apart.
    starts = [start for start, _ in p.qualify_age_groups if start < top]
    if p.scores_qualified:
        epochs = state.queue_epochs
        starts = sorted(
            {*starts, *(a for a in range(1, top) if epochs[a] != epochs[a - 1])}
        )
    chances = p.qualify_by_class_age[starts][:, real_classes]
    qualified_cells = rng["qualify"].binomial(
        real_contacted
        if len(starts) == top
        else np.add.reduceat(real_contacted, starts, axis=0),
        chances,
    )
    qualified_class = qualified_cells.sum(axis=0)  # (real classes, n)
    qualified = qualified_class.sum(axis=0)
    contacted_class = contacted.sum(axis=0)  # (classes, n)
    n_contacted = contacted_class.sum(axis=0)
    rejected_real = n_contacted - contacted_class[-1] - qualified
    if p.scores_qualified:
        scored = [real_classes.index(READY), real_classes.index(FUTURE)]
        for g, start in enumerate(starts):
            epoch = state.queue_epochs[start]
            gained = qualified_cells[g, scored]
            if epoch in state.epoch_qualified:
                state.epoch_qualified[epoch] += gained
            else:
                state.epoch_qualified[epoch] = gained
    if with_nurture:
        live -= contacted  # a view of the queue
    else:
        queue[:top, classes] = live - contacted
    stale_cells = queue[-1]
    stale = stale_cells.sum(axis=0)
    stale_real = stale - stale_cells[JUNK]
    queue[1:] = queue[:-1]
    queue[0] = 0
    state.queue_epochs = [state.epoch, *state.queue_epochs[:-1]]
    bad_now = 1 - qualified / np.maximum(n_contacted, 1)
    state.bad_share += np.where(
        n_contacted > 0, (bad_now - state.bad_share) / p.trust_smoothing, 0
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
    pipe[1:] += advanced[:-1]
    won = advanced[-1]
    pipe[0] += qualified

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
    state.window_spend += p.weekly_budget * state.share
    if p.reviews_budget and not p.metric_qualified:
        state.window_mqls[:3] += accepted
        state.window_mqls[3] += ignored_mkt_to_nurture
        state.window_mqls[4] += ignored_mkt_lost
    if (week + 1) % p.review_weeks == 0:
        _review_budget(state, p, rng["marks"])

    if record is not None:
        series = record.series
        for name, value in (
            ("leads", mkt_mqls + held),
            ("mqls", mkt_mqls + matured),
            ("ignored", ignored_mkt + ignored_matured),
            ("contacted", n_contacted),
            ("qualified", qualified),
            ("stale", stale),
            ("opportunities", pipe.sum(axis=0)),
            ("won", won),
            ("bookings", bookings),
            ("revenue", state.arr / 52),
            ("arr", state.arr),
            ("customers", customers),
            ("churned", churned),
            ("nurture", state.nurture),
            ("ignore_rate", ignore),
            ("queue", queue.sum(axis=(0, 1))),
            ("spend", spend),
            ("cost", cost),
            ("matured", matured),
        ):
            series[name][:, week] = value
        for source, name in enumerate(record.shares):
            series[name][:, week] = state.share[source]


def _binomial(site: Site, n: I, p: F) -> I:
    """Binomial counts; no draw when every count or every chance is zero (numpy
    would draw nothing for them either, so the stream is the same)."""
    if not (n.any() and p.any()):
        return np.zeros(np.broadcast_shapes(n.shape, p.shape), dtype=np.int64)
    result: I = site.binomial(n, p)
    return result


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
    if won_exact.any():
        drawn = state.deals_drawn
        needed = int((drawn + won_exact).max())
        while state.deal_totals.shape[1] <= needed:
            normals = deals.standard_normal_rows(_DEAL_COLUMNS)
            values = np.exp(p.acv_mu[:, None] + p.acv_sigma[:, None] * normals)
            state.deal_totals = np.concatenate(
                [state.deal_totals, state.deal_totals[:, -1:] + values.cumsum(axis=1)],
                axis=1,
            )
        # The week's deals are deals drawn .. drawn + won - 1 of each run: the
        # difference of two running totals.
        totals = state.deal_totals
        bookings += np.take_along_axis(totals, (drawn + won_exact)[:, None], axis=1)[
            :, 0
        ]
        bookings -= np.take_along_axis(totals, drawn[:, None], axis=1)[:, 0]
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


def window_metric(state: State, p: Params, marks: Site) -> F:
    """``(sources, runs)``: the review window's MQLs or qualified leads by source,
    split over the sources here, the only place that needs them (see
    :mod:`simulator.marks`)."""
    if p.metric_qualified:
        metric = np.zeros_like(state.window_spend)
        for epoch, qualified in sorted(state.epoch_qualified.items()):
            metric += split_by_source(marks, qualified, state.epoch_weights[epoch])
        return metric
    weights = source_weights(state.share, p.leads_per_share, p.mql_quality)
    groups = mql_group_weights(weights, p.recycle_capture)
    split = split_by_source(marks, state.window_mqls, groups)
    return split.astype(np.float64)


def _review_budget(state: State, p: Params, marks: Site) -> None:
    """MODEL.md step 9; a review that moves the budget starts a new epoch."""
    active = p.realloc_rate > 0
    if not active.any():
        state.reset_window()
        return
    metric = window_metric(state, p, marks)
    score = np.divide(
        metric,
        state.window_spend,
        out=np.zeros_like(metric),
        where=state.window_spend > 0,
    )
    total = score.sum(axis=0)
    target = np.divide(score, total, out=np.zeros_like(score), where=total > 0)
    target = np.maximum(target, p.min_share)
    # A window with no score (and no floor) leaves the shares as they are.
    target_sum = target.sum(axis=0)
    np.divide(target, target_sum, out=target, where=target_sum > 0)
    move = active & (total > 0)
    rate = p.realloc_rate
    state.share = np.where(move, (1 - rate) * state.share + rate * target, state.share)
    state.reset_window()
    state.new_epoch(p)
