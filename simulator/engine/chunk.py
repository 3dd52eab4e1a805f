"""The state of a chunk of runs and the weeks that move it (docs/model.md,
section 2).

Steps 1-8 of a week run compiled, run by run (:mod:`simulator.engine.kernel`); the
budget review (step 9), a few times a quarter, runs here vectorised across the
runs, which are the *last* axis of every state and parameter array
(``queue[age, class, run]``). The same code serves warm-up and reported weeks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from simulator.engine.kernel import (
    EXACT_DEALS_PER_RUN,
    StepRecord,
    StepState,
    deal_values_needed,
    run_weeks,
)
from simulator.engine.marks import (
    MQL_GROUPS,
    map_sources,
    mql_group_weights,
    qualified_group_weights,
    source_weights,
    split_by_source,
)
from simulator.engine.params import N_CLASSES, Layout, Params
from simulator.engine.series import RECORDED, share_series
from simulator.engine.streams import ChunkStreams, block_seeds, chunk_streams
from simulator.model.errors import SimulationCancelled

I = NDArray[np.int64]
F = NDArray[np.float64]

#: Weeks the compiled step runs between two looks at the stop flag.
SEGMENT_WEEKS = 13
#: Deal values are drawn this many per run at a time, always in the same order,
#: so run ``i``'s ``m``-th deal has the same value in every scenario.
_DEAL_COLUMNS = 32
#: A run never needs more (kernel.EXACT_DEALS_PER_RUN, and one draw ahead).
_MOST_DEAL_COLUMNS = EXACT_DEALS_PER_RUN + 2 * _DEAL_COLUMNS


@dataclass
class State:
    """The state of ``n`` runs at the start of a week (docs/model.md, section 2).

    Leads in the queue are followed by type, not by source (see
    :mod:`simulator.engine.marks`): ``queue_epochs`` says under which source
    chances each
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
    #: (n, columns): the standard normals of each run's deal values, in the order
    #: the deals are won; each seed block has drawn its first ``deal_columns[r0]``
    deal_normals: F
    deal_columns: dict[int, int]
    epoch: int  # the current epoch of source chances
    #: (qualified groups, sources, n): the source weights of each live epoch
    epoch_weights: dict[int, F]
    #: (slots, qualified groups, n): qualified leads since the last review, by
    #: the epoch in which they were generated, epoch ``e`` in slot ``e % slots``
    #: (counted only when reviews score them)
    epoch_qualified: I
    queue_epochs: list[int]  # the epoch in which each queue age was generated
    #: (types, n) MQLs a week before ignoring, and (2, n) held-back leads that could
    #: go to nurture and that are lost: fixed within an epoch
    mql_rates: F
    held_rates: F

    @classmethod
    def initial(cls, params: Params) -> State:
        """Empty funnel stocks (docs/model.md, section 1: the warm-up)."""
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
            deal_normals=np.zeros((n, 0)),
            deal_columns={},
            epoch=-1,
            epoch_weights={},
            epoch_qualified=_epoch_slots(lay, n),
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
        copied.deal_columns = dict(self.deal_columns)
        copied.epoch_weights = dict(self.epoch_weights)  # arrays never change
        copied.queue_epochs = list(self.queue_epochs)
        return copied

    def new_epoch(self, params: Params) -> None:
        """Start an epoch: the shares or the scenario changed, and with them the
        weekly lead rates and the source chances of new leads."""
        weights = source_weights(self.share, params.leads_per_share, params.mql_quality)
        self.mql_rates = np.ascontiguousarray(weights.sum(axis=1))
        if params.holds_back:
            leads = self.share * params.leads_per_share
            real = (leads * params.held_real_quality).sum(axis=0)
            junk = (leads * params.held_junk_quality).sum(axis=0)
            self.held_rates = np.stack(
                [real * params.capture, real * (1 - params.capture) + junk]
            )
        else:  # including after a branch from a scenario that held leads back
            self.held_rates = np.zeros((2, params.n))
        self.epoch += 1
        self.epoch_weights[self.epoch] = qualified_group_weights(weights)
        live = {self.epoch, *self.queue_epochs, *self.window_epochs()}
        for old in [e for e in self.epoch_weights if e not in live]:
            del self.epoch_weights[old]

    def slot(self, epoch: int) -> int:
        """The row of ``epoch_qualified`` that holds ``epoch``. Epochs change at
        most once a week, at a review (which empties the rows) or a branch, so
        the epochs of a window's qualified leads span fewer weeks than rows."""
        return int(epoch % self.epoch_qualified.shape[0])

    def window_epochs(self) -> list[int]:
        """The live epochs whose leads qualified in this review window, oldest
        first."""
        return [
            e
            for e in sorted(self.epoch_weights)
            if self.epoch_qualified[self.slot(e)].any()
        ]

    def start_reporting(self, params: Params) -> None:
        """Week 0: the company restarts from its initial size; the funnel, trust
        memory and budget shares are kept (docs/model.md, section 1)."""
        self.customers[:] = params.initial_customers
        self.arr[:] = params.initial_arr
        self.reset_window()
        self.deals_drawn[:] = 0
        self.deal_normals = np.zeros((params.n, 0))
        self.deal_columns = {}

    def reset_window(self) -> None:
        self.window_spend[:] = 0
        self.window_mqls[:] = 0
        self.epoch_qualified[:] = 0

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
            state.epoch_qualified = _epoch_slots(target, n)  # the window is empty
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


def _epoch_slots(layout: Layout, n: int) -> I:
    """Empty ``epoch_qualified`` rows: more than the epochs a review window's
    qualified leads can come from (the queue's ages, a review and a branch)."""
    return np.zeros((layout.queue_ages + 3, 2, n), dtype=np.int64)


class Recorder:
    """Weekly series of a chunk of runs: the JSON's series, the extra ones
    (:data:`~simulator.engine.series.RECORDED`) and each source's budget share at the
    end of the week; and, in double precision, each run's flow totals and its
    ARR after its first year and after its last week.

    The compiled step writes week ``w`` of the chunk's run ``r`` to
    ``data[w, series, offset + r]``, in single precision (exact for counts below
    16 million, within 1e-7 relative for money). ``data`` may hold more runs
    than the chunk: a whole result's, which the chunks of a comparison fill in
    place rather than being copied into it. ``series`` holds ``(n, weeks)``
    views of the chunk's runs by name.
    """

    def __init__(
        self,
        n: int,
        weeks: int,
        sources: tuple[str, ...] = (),
        *,
        into: NDArray[np.float32] | None = None,
        offset: int = 0,
    ) -> None:
        """``into``: the ``(weeks, series, runs)`` array to write runs
        ``offset .. offset + n`` of (by default, one of the chunk's own)."""
        if into is None:
            into = record_array(n, weeks, sources)
        series = len(RECORDED) + len(sources)
        if into.shape[:2] != (weeks, series) or into.shape[2] < offset + n:
            raise ValueError(f"a record of shape {into.shape} cannot hold these runs")
        self.data = into
        self.offset = offset
        self.series = record_series(into, sources, offset, offset + n)
        self.sources = sources
        self.shares = share_series(sources)
        #: (RECORDED, n): each flow summed over the weeks (series.FLOWS; they are
        #: figures); the levels' rows stay zero
        self.totals = np.zeros((len(RECORDED), n))
        #: (2, n): ARR after week 52 (row kernel.ARR_YEAR1; NaN for shorter
        #: horizons) and after the last recorded week (kernel.ARR_LAST)
        self.arr_at = np.full((2, n), np.nan)


def record_array(
    runs: int, weeks: int, sources: tuple[str, ...]
) -> NDArray[np.float32]:
    """An empty ``(weeks, series, runs)`` record of the given runs (see
    :class:`Recorder`)."""
    return np.zeros((weeks, len(RECORDED) + len(sources), runs), np.float32)


def record_series(
    data: NDArray[np.float32], sources: tuple[str, ...], start: int, stop: int
) -> dict[str, NDArray[np.float32]]:
    """``(runs, weeks)`` views of runs ``start .. stop`` of a record, by series
    name."""
    names = RECORDED + share_series(sources)
    return {name: data[:, i, start:stop].T for i, name in enumerate(names)}


#: Stand in for the record in weeks that are not recorded (the warm-up), of the
#: same types, so that the compiled step is compiled once.
_NOT_RECORDED = np.zeros((1, 1, 1), dtype=np.float32)
_NO_TOTALS = np.zeros((1, 1))
#: The week (from 0) after which ARR is a year on (for arr_growth_y1).
YEAR_WEEK = 51


def is_prepared() -> bool:
    """Whether the compiled weekly step is ready in this process."""
    return bool(run_weeks.signatures)


def prepare(params: Params) -> None:
    """Compile the weekly step, or load it from numba's cache: about 20 s the
    first time on a machine (and after an upgrade), a fraction of a second after.
    The first run does this anyway; a program calls it first to say why it
    waits."""
    state = State.initial(params)
    streams = chunk_streams([block_seeds(0, 0)], [params.n], warmup=False)
    advance(state, params, streams, 0, 1, Recorder(params.n, 1, params.layout.sources))


def step(
    state: State, p: Params, streams: ChunkStreams, week: int, record: Recorder | None
) -> None:
    """Advance ``state`` by one week (docs/model.md, 2.1-2.9), recording into column
    ``week`` of ``record`` when given."""
    advance(state, p, streams, week, week + 1, record)


def advance(
    state: State,
    p: Params,
    streams: ChunkStreams,
    week0: int,
    week1: int,
    record: Recorder | None,
    stopped: Callable[[], bool] | None = None,
) -> None:
    """Advance ``state`` through weeks ``week0 .. week1 - 1`` of a phase
    (docs/model.md, 2.1-2.9), recording week ``w`` into column ``w`` of ``record``
    when given.

    The compiled step runs at most :data:`SEGMENT_WEEKS` weeks, and never past a
    budget review, between looks at ``stopped``; when it returns true,
    :class:`~simulator.model.errors.SimulationCancelled` is raised. How weeks are cut
    into segments never changes the numbers.
    """
    if record is None:
        out = StepRecord(_NOT_RECORDED, 0, _NO_TOTALS, _NO_TOTALS, YEAR_WEEK)
    else:
        out = StepRecord(
            record.data, record.offset, record.totals, record.arr_at, YEAR_WEEK
        )
    week = week0
    while week < week1:
        end = min(
            week1, week + SEGMENT_WEEKS, (week // p.review_weeks + 1) * p.review_weeks
        )
        state.queue_epochs[0] = state.epoch
        age_slot0 = np.array(
            [state.slot(e) for e in state.queue_epochs], dtype=np.int64
        )
        for block, r0, r1 in streams.blocks:
            reached = week
            while reached < end:
                step_state = StepState(
                    state.queue,
                    state.nurture,
                    state.matured,
                    state.pipeline,
                    state.customers,
                    state.arr,
                    state.bad_share,
                    state.share,
                    state.window_spend,
                    state.window_mqls,
                    state.deals_drawn,
                    state.deal_normals,
                    state.deal_columns.get(r0, 0),
                    state.epoch_qualified,
                    age_slot0,
                    week,
                    state.slot(state.epoch),
                    state.mql_rates,
                    state.held_rates,
                )
                reached = run_weeks(
                    block.states,
                    r0,
                    r1,
                    reached,
                    end,
                    record is not None,
                    step_state,
                    p.step_params,
                    out,
                )
                if reached < end:
                    _draw_deal_values(state, block.deals, r0, r1)
        done = end - week
        state.queue_epochs = ([state.epoch] * done + state.queue_epochs)[
            : len(state.queue_epochs)
        ]
        if end % p.review_weeks == 0:
            _review_budget(state, p, streams)
            if record is not None:
                for source, name in enumerate(record.shares):
                    record.series[name][:, end - 1] = state.share[source]
        week = end
        if stopped is not None and week < week1 and stopped():
            raise SimulationCancelled("cancelled")


def _draw_deal_values(
    state: State, deals: np.random.Generator, r0: int, r1: int
) -> None:
    """Draw the next deal values of block ``r0 .. r1``, 32 per run at a time, until
    every run has as many as it could need this week, and 32 more (each stop to
    draw costs a return from the compiled step; the values do not depend on
    when they are drawn)."""
    needed = int(deal_values_needed(state.pipeline, state.deals_drawn, r0, r1))
    needed += _DEAL_COLUMNS
    columns = state.deal_columns.get(r0, 0)
    while columns < needed:
        if state.deal_normals.shape[1] < columns + _DEAL_COLUMNS:
            # Twice as wide: the chunk's other blocks fill the room in turn,
            # and the copies add up to no more than the array itself.
            width = max(
                columns + _DEAL_COLUMNS,
                min(2 * state.deal_normals.shape[1], _MOST_DEAL_COLUMNS),
            )
            wider = np.zeros((state.deal_normals.shape[0], width))
            wider[:, : state.deal_normals.shape[1]] = state.deal_normals
            state.deal_normals = wider
        state.deal_normals[r0:r1, columns : columns + _DEAL_COLUMNS] = (
            deals.standard_normal((r1 - r0, _DEAL_COLUMNS))
        )
        columns += _DEAL_COLUMNS
    state.deal_columns[r0] = columns


def window_metric(state: State, p: Params, streams: ChunkStreams) -> F:
    """``(sources, runs)``: the review window's MQLs or qualified leads by source,
    split over the sources here, the only place that needs them (see
    :mod:`simulator.engine.marks`)."""
    if p.metric_qualified:
        metric = np.zeros_like(state.window_spend)
        for epoch in state.window_epochs():
            qualified = state.epoch_qualified[state.slot(epoch)]
            metric += split_by_source(streams, qualified, state.epoch_weights[epoch])
        return metric
    weights = source_weights(state.share, p.leads_per_share, p.mql_quality)
    groups = mql_group_weights(weights, p.recycle_capture)
    split = split_by_source(streams, state.window_mqls, groups)
    return split.astype(np.float64)


def _review_budget(state: State, p: Params, streams: ChunkStreams) -> None:
    """The budget review (docs/model.md, 2.9); one that moves the budget starts
    a new epoch."""
    active = p.realloc_rate > 0
    if not active.any():
        state.reset_window()
        return
    metric = window_metric(state, p, streams)
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
