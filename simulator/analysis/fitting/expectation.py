"""The model's week in expectation: a fast deterministic recursion of the
weekly step (docs/model.md, section 2).

Every count is replaced by its expected value given last week's expected state
(a mean-field recursion). Where the model is linear this is its exact mean (the
engine's tests check that recursion); where it is not, the recursion uses the
expected state: the trust loop reads the expected bad share, the budget review
the expected window. Sales capacity is the one place where fluctuations matter
on average (a busy week leaves leads waiting even when the mean flow fits), so
the share contacted is E[min(W, C)] / E[W] for a waiting count W spread like a
Poisson count around its mean. The fit solves on this recursion and then checks
the result by simulation.

Several scenarios (candidates of a fit) are computed at once, one row each; they
must share the number of sources, stages and queue ages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from simulator.analysis.fitting.estimate import F
from simulator.engine.params import response_decay
from simulator.model.schema import Scenario

#: Series of :func:`expected_funnel`, per candidate and reported week.
SERIES = (
    "leads",
    "mqls",
    "ignored",
    "accepted",
    "contacted",
    "qualified",
    "won",
    "stale",
)


def _contacted_share(waiting: F, capacity: F) -> F:
    """E[min(W, C)] / E[W] for W ~ Normal(mean, sqrt(mean)); 1 when unlimited."""
    mean = np.maximum(waiting, 1e-12)
    sd = np.sqrt(mean)
    z = (capacity - mean) / sd
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    excess = sd * pdf - (capacity - mean) * (1 - cdf)  # E[(W - C)+]
    share = np.clip((mean - excess) / mean, 0.0, 1.0)
    result: F = np.where(capacity > 0, share, 1.0)
    return result


def expected_funnel(
    scenarios: Sequence[Scenario], *, weeks: int, warmup: int
) -> dict[str, F]:
    """Expected weekly flows ``(len(scenarios), weeks)`` after ``warmup`` weeks."""
    n = len(scenarios)
    first = scenarios[0]
    S = len(first.marketing.sources)
    J = len(first.pipeline.stages)
    A = first.follow_up.stale_after_weeks

    def col(get: object) -> F:
        return np.array([get(sc) for sc in scenarios], dtype=np.float64)  # type: ignore[operator]

    budget = col(lambda sc: sc.marketing.weekly_budget)
    share = np.array([[s.share for s in sc.marketing.sources] for sc in scenarios])
    cpl = np.array(
        [[s.cost_per_lead for s in sc.marketing.sources] for sc in scenarios]
    )
    quality = np.array(
        [
            [[s.ready, s.future, s.junk] for s in sc.marketing.sources]
            for sc in scenarios
        ]
    )
    passing = np.array(
        [
            [
                sc.marketing.scoring.pass_ready,
                sc.marketing.scoring.pass_future,
                sc.marketing.scoring.pass_junk,
            ]
            for sc in scenarios
        ]
    )
    nurture_on = col(lambda sc: float(sc.nurture.enabled))
    capture = col(lambda sc: sc.nurture.capture) * nurture_on
    recycle = capture * col(lambda sc: float(sc.handoff.recycle_rejected))
    ignore_base = col(lambda sc: sc.handoff.ignore_base)
    sensitivity = col(lambda sc: sc.handoff.trust_sensitivity)
    reference = col(lambda sc: sc.handoff.trust_reference)
    smoothing = col(lambda sc: sc.handoff.trust_smoothing_weeks)
    capacity = col(lambda sc: sc.follow_up.capacity_per_week)
    profile = np.array(
        [list(sc.follow_up.response_profile.model_dump().values()) for sc in scenarios]
    )
    decay = response_decay(
        col(lambda sc: sc.follow_up.decay_floor),
        col(lambda sc: sc.follow_up.decay_tau_hours),
        profile,
        A,
    )  # (n, A)
    # Queue classes: ready, nurture (ready leads back from nurture), future, junk.
    qualify_class = np.stack(
        [
            col(lambda sc: sc.follow_up.qualify_ready),
            col(lambda sc: sc.follow_up.qualify_ready),
            col(lambda sc: sc.follow_up.qualify_future),
            np.zeros(n),
        ],
        axis=1,
    )
    qualify = decay[:, :, None] * qualify_class[:, None, :]  # (n, A, 4)
    conv = np.array([[s.conversion for s in sc.pipeline.stages] for sc in scenarios])
    mean_weeks = np.array(
        [[s.mean_weeks for s in sc.pipeline.stages] for sc in scenarios]
    )
    advance, lose = conv / mean_weeks, (1 - conv) / mean_weeks
    leave = 1 / col(lambda sc: sc.nurture.mean_weeks)
    maturing = col(lambda sc: sc.nurture.share_maturing)
    rate = col(lambda sc: sc.marketing.reallocation.rate)
    min_share = col(lambda sc: sc.marketing.reallocation.min_share)
    review = first.marketing.reallocation.review_weeks
    by_qualified = first.marketing.reallocation.metric == "qualified"

    queue = np.zeros((n, A, 4))
    pipe = np.zeros((n, J))
    nurture = np.zeros(n)
    matured = np.zeros(n)
    bad = reference.copy()
    window_spend = np.zeros((n, S))
    window_metric = np.zeros((n, S))
    out = {name: np.zeros((n, weeks)) for name in SERIES}
    for t in range(warmup + weeks):
        week = t if t < warmup else t - warmup
        if t == warmup:
            window_spend[:] = 0
            window_metric[:] = 0
        arrived = matured
        new = (budget[:, None] * share / cpl)[:, :, None] * quality  # (n, S, 3)
        mql_src = new * passing[:, None, :]
        held = new - mql_src
        mql = mql_src.sum(axis=1)  # (n, 3)
        held_real = held[:, :, :2].sum(axis=(1, 2))
        ignore = np.clip(ignore_base + sensitivity * (bad - reference), 0.0, 1.0)
        keep = 1 - ignore
        ignored_real = (mql[:, 0] + mql[:, 1] + matured) * ignore
        queue[:, 0, 0] += mql[:, 0] * keep
        queue[:, 0, 1] += matured * keep
        queue[:, 0, 2] += mql[:, 1] * keep
        queue[:, 0, 3] += mql[:, 2] * keep
        accepted = (mql.sum(axis=1) + matured) * keep

        waiting = queue.sum(axis=(1, 2))
        reach = _contacted_share(waiting, capacity)
        contacted = queue * reach[:, None, None]
        queue -= contacted
        qualified_class = (contacted * qualify).sum(axis=1)  # (n, 4)
        qualified = qualified_class.sum(axis=1)
        n_contacted = contacted.sum(axis=(1, 2))
        rejected_real = contacted[:, :, :3].sum(axis=(1, 2)) - qualified
        stale = queue[:, A - 1, :].sum(axis=1)
        stale_real = queue[:, A - 1, :3].sum(axis=1)
        queue[:, 1:, :] = queue[:, :-1, :].copy()
        queue[:, 0, :] = 0
        some = n_contacted > 1e-12
        bad_now = 1 - qualified / np.where(some, n_contacted, 1.0)
        bad = np.where(some, bad + (bad_now - bad) / smoothing, bad)

        moved = pipe * advance
        pipe = pipe - moved - pipe * lose
        pipe[:, 1:] += moved[:, :-1]
        won = moved[:, -1]
        pipe[:, 0] += qualified

        inflow = (
            held_real * capture + (ignored_real + rejected_real + stale_real) * recycle
        )
        pool = nurture + inflow * nurture_on
        leaving = pool * leave * nurture_on
        matured = leaving * maturing
        nurture = pool - leaving

        window_spend += budget[:, None] * share
        if by_qualified:
            # Qualified leads of each type split over the sources that sent them.
            sent = mql_src[:, :, :2] * keep[:, None, None]  # ready, future
            total = sent.sum(axis=1, keepdims=True)
            split = np.divide(sent, total, out=np.zeros_like(sent), where=total > 0)
            gained = np.stack([qualified_class[:, 0], qualified_class[:, 2]], axis=1)
            window_metric += (split * gained[:, None, :]).sum(axis=2)
        else:
            window_metric += mql_src.sum(axis=2)
        if (week + 1) % review == 0:
            score = np.divide(
                window_metric,
                window_spend,
                out=np.zeros_like(window_metric),
                where=window_spend > 0,
            )
            total_score = score.sum(axis=1, keepdims=True)
            target = np.divide(
                score, total_score, out=np.zeros_like(score), where=total_score > 0
            )
            target = np.maximum(target, min_share[:, None])
            target /= np.maximum(target.sum(axis=1, keepdims=True), 1e-300)
            move = (rate > 0) & (total_score[:, 0] > 0)
            share = np.where(
                move[:, None],
                (1 - rate[:, None]) * share + rate[:, None] * target,
                share,
            )
            window_spend[:] = 0
            window_metric[:] = 0

        if t >= warmup:
            w = t - warmup
            out["leads"][:, w] = new.sum(axis=(1, 2))
            out["mqls"][:, w] = mql.sum(axis=1) + arrived
            out["ignored"][:, w] = (mql.sum(axis=1) + arrived) * ignore
            out["accepted"][:, w] = accepted
            out["contacted"][:, w] = n_contacted
            out["qualified"][:, w] = qualified
            out["won"][:, w] = won
            out["stale"][:, w] = stale
    return out


def validate_raw(raw: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(raw)


def expected_of(raw: dict[str, Any], weeks: int, warmup: int) -> dict[str, np.ndarray]:
    flows = expected_funnel([validate_raw(raw)], weeks=weeks, warmup=warmup)
    return {k: v[0] for k, v in flows.items()}
