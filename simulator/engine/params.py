"""A scenario compiled into the arrays the engine steps with.

Every numeric parameter becomes an array with one row per run, so that a parameter
given as a range can be drawn once per run and the engine treats fixed and uncertain
inputs alike. Structural parameters (how many sources, stages and queue ages) are
plain integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from simulator.engine.kernel import StepParams, log_rarer_each
from simulator.model.schema import Scenario
from simulator.model.uncertainty import Uniforms, draw_triangular

F = NDArray[np.float64]

HOURS_PER_WEEK = 168.0
#: Response-profile buckets in hours: 0-5 min, 5-60 min, 1-24 h, 1-7 days.
RESPONSE_BUCKETS_HOURS = ((0.0, 5 / 60), (5 / 60, 1.0), (1.0, 24.0), (24.0, 168.0))
LEAD_TYPES = ("ready", "future", "junk")


#: Queue classes: marketing's ready leads, ready leads back from nurture, future
#: leads, junk. Sources are not classes: a lead's source is a mark that changes
#: none of its chances, resolved only when a budget review needs it (see
#: :mod:`simulator.engine.marks`). Junk is last; every class before it is real.
READY, NURTURE, FUTURE, JUNK = range(4)
N_CLASSES = 4
REAL_CLASSES = (READY, NURTURE, FUTURE)


@dataclass(frozen=True)
class Layout:
    """The shape of a run's state, shared by scenarios that can branch from it."""

    sources: tuple[str, ...]
    stages: tuple[str, ...]
    queue_ages: int

    @classmethod
    def of(cls, scenario: Scenario) -> Layout:
        """The layout of a scenario's runs: its sources and stages by name and
        its queue's ages."""
        return cls(
            sources=tuple(source.name for source in scenario.marketing.sources),
            stages=tuple(stage.name for stage in scenario.pipeline.stages),
            queue_ages=scenario.follow_up.stale_after_weeks,
        )

    @property
    def n_sources(self) -> int:
        return len(self.sources)


def response_decay(floor: F, tau_hours: F, profile: F, ages: int) -> F:
    """Multiplier ``m_a`` of the qualification chance for a lead first contacted
    after waiting ``a`` whole weeks (docs/model.md, 2.4), shape ``(runs, ages)``.

    ``E[exp(-H / tau)]`` is exact for ``H`` uniform within each response bucket:
    ``tau (exp(-lo/tau) - exp(-hi/tau)) / (hi - lo)``.
    """
    tau = tau_hours[:, None]
    lo = np.array([b[0] for b in RESPONSE_BUCKETS_HOURS])[None, :]
    hi = np.array([b[1] for b in RESPONSE_BUCKETS_HOURS])[None, :]
    bucket_mean = tau * (np.exp(-lo / tau) - np.exp(-hi / tau)) / (hi - lo)
    within_week = (profile * bucket_mean).sum(axis=1)
    waited = np.exp(-HOURS_PER_WEEK * np.arange(ages)[None, :] / tau)
    result: F = floor[:, None] + (1 - floor[:, None]) * waited * within_week[:, None]
    return result


#: The per-run parameters of the compiled weekly step (:mod:`simulator.engine.kernel`),
#: in the row order of :attr:`Params.per_run`.
PER_RUN_FIELDS = (
    "ignore_base",
    "trust_sensitivity",
    "trust_reference",
    "trust_smoothing",
    "recycle_capture",
    "capacity",
    "nurture_leave",
    "share_maturing",
    "weekly_churn",
    "weekly_expansion",
    "weekly_budget",
    "nurture_cost",
    "fixed_weekly_cost",
    "acv_mu",
    "acv_sigma",
)
#: Its scenario-wide choices, in the order of :attr:`Params.switches`.
SWITCHES = (
    "nurture_enabled",
    "scores_qualified",
    "counts_mqls",
)


#: Marks the compiled fields a warmed-up state does not depend on: the
#: scenario's name, and what moves only customers, ARR, deal values and costs,
#: which the warm-up does not record and week 0 sets back (docs/model.md, "Runs,
#: warm-up and comparisons"). Every other field is part of a warm-up's key
#: (simulator.run.memo.warm_up_identity), so a new field is in it by default.
NOT_IN_WARM_UP = {"warm_up": False}


@dataclass
class Params:
    """Per-run parameter arrays for ``n`` runs of one scenario."""

    name: str = field(metadata=NOT_IN_WARM_UP)
    layout: Layout
    n: int
    # company
    initial_customers: int
    initial_arr: float
    weekly_churn: F = field(metadata=NOT_IN_WARM_UP)
    weekly_expansion: F = field(metadata=NOT_IN_WARM_UP)
    # marketing
    weekly_budget: F
    cost_per_lead: F  # (S, n)
    quality: F  # (types, S, n)
    initial_share: F  # (S, n)
    pass_prob: F  # (types, n)
    realloc_rate: F
    review_weeks: int
    metric_qualified: bool
    min_share: F
    # derived once, for the weekly step (docs/model.md, 2.1-2.2)
    leads_per_share: F  # (S, n): leads a source brings per unit of budget share
    mql_quality: F  # (types, S, n): quality * pass probability
    held_real_quality: F  # (S, n): ready and future leads held back, per lead
    held_junk_quality: F  # (S, n): junk held back, per lead
    holds_back: bool  # whether marketing holds back any lead at all
    # hand-off and trust
    ignore_base: F
    trust_sensitivity: F
    trust_reference: F
    trust_smoothing: F
    recycle: bool
    # follow-up
    capacity: F
    qualify_by_class_age: F  # (ages, real classes, n)
    #: ``(ages,)``: whether each queue age starts a run of consecutive ages whose
    #: qualification chances are identical in every run and class (with a
    #: response decay of hours, every age from 1 on has just the floor): the
    #: qualified leads of such ages are drawn as one binomial of their summed
    #: contacts, which is the same distribution.
    qualify_group_start: NDArray[np.bool_]
    # nurture
    nurture_enabled: bool
    capture: F
    nurture_leave: F
    share_maturing: F
    nurture_cost: F = field(metadata=NOT_IN_WARM_UP)
    # pipeline
    advance: F  # (J, n)
    lose_given_stay: F  # (J, n): chance to be lost among those that did not advance
    # deals
    acv_mu: F = field(metadata=NOT_IN_WARM_UP)
    acv_sigma: F = field(metadata=NOT_IN_WARM_UP)
    # costs
    fixed_weekly_cost: F = field(metadata=NOT_IN_WARM_UP)

    @cached_property  # parameters never change once compiled
    def recycle_capture(self) -> F:
        """Chance that an ignored, rejected or stale real lead enters nurture."""
        return self.capture if self.recycle else np.zeros(self.n)

    @cached_property  # parameters never change once compiled
    def reviews_budget(self) -> bool:
        """Whether any run moves its budget at reviews."""
        return bool(self.realloc_rate.any())

    @cached_property  # parameters never change once compiled
    def scores_qualified(self) -> bool:
        """Whether reviews score sources on qualified leads (closed loop), so the
        sources of qualified leads must be resolved."""
        return self.metric_qualified and self.reviews_budget

    @cached_property  # parameters never change once compiled
    def counts_mqls(self) -> bool:
        """Whether reviews score sources on MQLs, so the window counts them."""
        return self.reviews_budget and not self.metric_qualified

    @cached_property  # parameters never change once compiled
    def per_run(self) -> F:
        """``(len(PER_RUN_FIELDS), n)``: the per-run numbers the compiled weekly
        step reads, one row per field."""
        return np.ascontiguousarray(
            np.stack([getattr(self, name) for name in PER_RUN_FIELDS])
        )

    @cached_property  # parameters never change once compiled
    def log_rarer(self) -> dict[str, F]:
        """``log(1 - min(p, 1 - p))`` of the chances the compiled step draws
        binomials with, by array (``per_run`` by row: only its chances' rows
        are read), computed once for all their draws (kernel.binomial_known)."""
        arrays = ("per_run", "qualify_by_class_age", "advance", "lose_given_stay")
        return {
            name: log_rarer_each(np.ascontiguousarray(getattr(self, name)))
            for name in arrays
        }

    @cached_property  # parameters never change once compiled
    def switches(self) -> NDArray[np.int64]:
        """The scenario-wide choices the compiled weekly step reads, 0 or 1."""
        return np.array([getattr(self, name) for name in SWITCHES], dtype=np.int64)

    @cached_property  # parameters never change once compiled
    def step_params(self) -> StepParams:
        """Everything of these parameters the compiled weekly step reads."""
        logs = self.log_rarer
        return StepParams(
            per_run=self.per_run,
            qualify=self.qualify_by_class_age,
            group_start=self.qualify_group_start,
            advance=self.advance,
            lose_given_stay=self.lose_given_stay,
            per_run_log=logs["per_run"],
            qualify_log=logs["qualify_by_class_age"],
            advance_log=logs["advance"],
            lose_log=logs["lose_given_stay"],
            switches=self.switches,
        )


def compile_params(
    scenario: Scenario, n: int, uniforms: Uniforms | None = None
) -> Params:
    """Turn a validated scenario into per-run arrays for ``n`` runs.

    Parameters given as ranges (``scenario.uncertainty``) are drawn once per run
    from ``uniforms(dotted_name)``, an array of ``n`` uniform numbers; without
    ``uniforms`` every run takes the range's mode.
    """
    drawn: dict[str, F] = {}
    if uniforms is not None:
        for dotted, tri in scenario.uncertainty.items():
            drawn[dotted] = draw_triangular(
                tri.low, tri.mode, tri.high, uniforms(dotted)
            )

    def col(value: float, dotted: str = "") -> F:
        if dotted in drawn:
            return drawn[dotted]
        return np.full(n, float(value))

    def rows(values: list[float], dotted: list[str] | None = None) -> F:
        """``(len(values), n)``: one row per value, one column per run."""
        names = dotted or [""] * len(values)
        return np.stack([col(v, name) for v, name in zip(values, names, strict=True)])

    def each(items: str, count: int, field: str) -> list[str]:
        return [f"{items}.{i}.{field}" for i in range(count)]

    m = scenario.marketing
    f = scenario.follow_up
    sources = m.sources
    layout = Layout.of(scenario)
    profile = f.response_profile
    decay = response_decay(
        col(f.decay_floor, "follow_up.decay_floor"),
        col(f.decay_tau_hours, "follow_up.decay_tau_hours"),
        rows(
            [
                profile.within_5min,
                profile.within_1h,
                profile.within_1d,
                profile.within_1w,
            ]
        ).T,
        layout.queue_ages,
    )
    qualify_class = np.zeros((len(REAL_CLASSES), n))
    qualify_class[READY] = qualify_class[NURTURE] = col(
        f.qualify_ready, "follow_up.qualify_ready"
    )
    qualify_class[FUTURE] = col(f.qualify_future, "follow_up.qualify_future")
    qualify = np.ascontiguousarray(decay.T[:, None, :] * qualify_class[None, :, :])
    stages = scenario.pipeline.stages
    conversion = rows(
        [s.conversion for s in stages],
        each("pipeline.stages", len(stages), "conversion"),
    )
    mean_weeks = rows(
        [s.mean_weeks for s in stages],
        each("pipeline.stages", len(stages), "mean_weeks"),
    )
    advance = conversion / mean_weeks
    lose = (1 - conversion) / mean_weeks
    stay_or_lose = 1 - advance
    lose_given_stay = np.divide(
        lose, stay_or_lose, out=np.zeros_like(lose), where=stay_or_lose > 0
    )
    c = scenario.company
    budget = col(m.weekly_budget, "marketing.weekly_budget")
    cost_per_lead = rows(
        [s.cost_per_lead for s in sources],
        each("marketing.sources", len(sources), "cost_per_lead"),
    )
    by_source = np.array([[s.ready, s.future, s.junk] for s in sources])  # (S, 3)
    quality = np.ascontiguousarray(
        np.broadcast_to(by_source.T[:, :, None], (3, len(sources), n))
    )
    pass_prob = rows(
        [m.scoring.pass_ready, m.scoring.pass_future, m.scoring.pass_junk],
        [f"marketing.scoring.pass_{k}" for k in LEAD_TYPES],
    )
    held = quality * (1 - pass_prob[:, None, :])  # (types, S, n)
    return Params(
        name=scenario.name,
        layout=layout,
        n=n,
        initial_customers=c.initial_customers,
        initial_arr=c.initial_arr,
        weekly_churn=1 - (1 - col(c.annual_churn, "company.annual_churn")) ** (1 / 52),
        weekly_expansion=(1 + col(c.annual_expansion, "company.annual_expansion"))
        ** (1 / 52),
        weekly_budget=budget,
        cost_per_lead=cost_per_lead,
        quality=quality,
        initial_share=rows([s.share for s in sources]),
        pass_prob=pass_prob,
        realloc_rate=col(m.reallocation.rate, "marketing.reallocation.rate"),
        review_weeks=m.reallocation.review_weeks,
        metric_qualified=m.reallocation.metric == "qualified",
        min_share=col(m.reallocation.min_share, "marketing.reallocation.min_share"),
        leads_per_share=budget[None, :] / cost_per_lead,
        mql_quality=quality * pass_prob[:, None, :],
        held_real_quality=held[0] + held[1],
        held_junk_quality=held[2].copy(),
        holds_back=bool(held.any()),
        ignore_base=col(scenario.handoff.ignore_base, "handoff.ignore_base"),
        trust_sensitivity=col(
            scenario.handoff.trust_sensitivity, "handoff.trust_sensitivity"
        ),
        trust_reference=col(
            scenario.handoff.trust_reference, "handoff.trust_reference"
        ),
        trust_smoothing=col(
            scenario.handoff.trust_smoothing_weeks, "handoff.trust_smoothing_weeks"
        ),
        recycle=scenario.handoff.recycle_rejected,
        capacity=col(f.capacity_per_week, "follow_up.capacity_per_week"),
        qualify_by_class_age=qualify,
        qualify_group_start=_starts_of_equal_runs(qualify),
        nurture_enabled=scenario.nurture.enabled,
        capture=col(scenario.nurture.capture, "nurture.capture")
        * float(scenario.nurture.enabled),
        nurture_leave=1 / col(scenario.nurture.mean_weeks, "nurture.mean_weeks"),
        share_maturing=col(scenario.nurture.share_maturing, "nurture.share_maturing"),
        nurture_cost=col(
            scenario.nurture.cost_per_lead_week, "nurture.cost_per_lead_week"
        ),
        advance=advance,
        lose_given_stay=lose_given_stay,
        acv_mu=np.log(col(scenario.deals.acv_median, "deals.acv_median")),
        acv_sigma=col(scenario.deals.acv_sigma, "deals.acv_sigma"),
        fixed_weekly_cost=col(scenario.costs.sales_weekly, "costs.sales_weekly")
        + col(scenario.costs.alignment_weekly, "costs.alignment_weekly"),
    )


def _starts_of_equal_runs(by_age: F) -> NDArray[np.bool_]:
    """Whether each age (axis 0) starts a run of consecutive ages with equal
    values."""
    starts = np.ones(by_age.shape[0], dtype=np.bool_)
    for a in range(1, by_age.shape[0]):
        starts[a] = not np.array_equal(by_age[a], by_age[a - 1])
    return starts
