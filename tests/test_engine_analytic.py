"""The engine against analytic expectations, within standard-error bounds.

When every mechanism is linear (no trust feedback, unlimited capacity, no budget
reallocation) the expected weekly flows follow a deterministic recursion of
the weekly step (docs/model.md, section 2), written here independently of the
engine. The Monte Carlo means must agree within 4 standard errors on several
random parameter sets.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.engine.chunk import Recorder, State, step, window_metric
from simulator.engine.params import compile_params, response_decay
from simulator.engine.streams import all_block_seeds, block_bounds, chunk_streams
from simulator.model.scenario_io import load_scenario
from simulator.model.schema import Scenario
from simulator.run.runner import RunSettings, compare

Z = 4.0
CHECKED = (
    "leads",
    "mqls",
    "ignored",
    "contacted",
    "qualified",
    "opportunities",
    "won",
    "bookings",
    "customers",
    "arr",
    "nurture",
    "churned",
    "spend",
    "cost",
)


def random_linear_scenario(seed: int) -> Scenario:
    """A random scenario whose mechanisms are all linear in expectation."""
    rng = np.random.default_rng(seed)
    n_sources = int(rng.integers(1, 4))
    sources = []
    shares = rng.dirichlet(np.ones(n_sources))
    for i in range(n_sources):
        mix = rng.dirichlet(np.ones(3))
        sources.append(
            {
                "name": f"s{i}",
                "cost_per_lead": float(rng.uniform(50, 400)),
                "share": float(shares[i]),
                "ready": float(mix[0]),
                "future": float(mix[1]),
                "junk": float(1 - mix[0] - mix[1]),
            }
        )
    sources[-1]["share"] = float(1 - sum(s["share"] for s in sources[:-1]))
    profile = rng.dirichlet(np.ones(4))
    stages = [
        {
            "name": f"st{j}",
            "conversion": float(rng.uniform(0.3, 0.9)),
            "mean_weeks": float(rng.uniform(1, 5)),
        }
        for j in range(int(rng.integers(1, 4)))
    ]
    nurture = bool(rng.integers(0, 2)) or seed % 2 == 0
    overrides = {
        "marketing.weekly_budget": float(rng.uniform(5_000, 30_000)),
        "marketing.sources": sources,
        "marketing.scoring": {
            "pass_ready": float(rng.uniform(0.5, 1)),
            "pass_future": float(rng.uniform(0, 1)),
            "pass_junk": float(rng.uniform(0, 1)),
        },
        "marketing.reallocation.rate": 0.0,
        "handoff.ignore_base": float(rng.uniform(0, 0.7)),
        "handoff.trust_sensitivity": 0.0,
        "handoff.recycle_rejected": bool(rng.integers(0, 2)),
        "follow_up.capacity_per_week": 0.0,
        "follow_up.qualify_ready": float(rng.uniform(0.2, 0.8)),
        "follow_up.qualify_future": float(rng.uniform(0, 0.2)),
        "follow_up.decay_floor": float(rng.uniform(0, 0.1)),
        "follow_up.decay_tau_hours": float(rng.uniform(0.1, 30)),
        "follow_up.response_profile": {
            "within_5min": float(profile[0]),
            "within_1h": float(profile[1]),
            "within_1d": float(profile[2]),
            "within_1w": float(1 - profile[0] - profile[1] - profile[2]),
        },
        "nurture.enabled": nurture,
        "nurture.capture": float(rng.uniform(0.3, 1)),
        "nurture.mean_weeks": float(rng.uniform(2, 20)),
        "nurture.share_maturing": float(rng.uniform(0.1, 0.9)),
        "pipeline.stages": stages,
        "company.initial_customers": int(rng.integers(200, 600)),
        "company.annual_churn": float(rng.uniform(0.02, 0.25)),
        "company.annual_expansion": float(rng.uniform(-0.05, 0.15)),
        "deals.acv_sigma": float(rng.uniform(0, 1)),
        "costs.sales_weekly": float(rng.uniform(0, 50_000)),
    }
    return load_scenario("siloed", overrides=overrides)


def expected_path(sc: Scenario, weeks: int, warmup: int) -> dict[str, np.ndarray]:
    """The model's week in expectation (valid when every mechanism is linear)."""
    m, f, nu = sc.marketing, sc.follow_up, sc.nurture
    lam = np.array([m.weekly_budget * s.share / s.cost_per_lead for s in m.sources])
    quality = np.array([[s.ready, s.future, s.junk] for s in m.sources])
    passing = np.array(
        [m.scoring.pass_ready, m.scoring.pass_future, m.scoring.pass_junk]
    )
    mql_new = (lam[:, None] * quality * passing).sum(axis=0)
    held = (lam[:, None] * quality * (1 - passing)).sum(axis=0)
    capture = nu.capture if nu.enabled else 0.0
    recycle = capture if sc.handoff.recycle_rejected else 0.0
    ignore = min(max(sc.handoff.ignore_base, 0.0), 1.0)
    p = f.response_profile
    m0 = response_decay(
        np.array([f.decay_floor]),
        np.array([f.decay_tau_hours]),
        np.array([[p.within_5min, p.within_1h, p.within_1d, p.within_1w]]),
        1,
    )[0, 0]
    conv = np.array([s.conversion for s in sc.pipeline.stages])
    mw = np.array([s.mean_weeks for s in sc.pipeline.stages])
    adv, lose = conv / mw, (1 - conv) / mw
    c = sc.company
    h = 1 - (1 - c.annual_churn) ** (1 / 52)
    growth = (1 + c.annual_expansion) ** (1 / 52)
    deal_mean = sc.deals.acv_median * math.exp(sc.deals.acv_sigma**2 / 2)

    nurture = matured = 0.0
    pipe = np.zeros(len(conv))
    customers, arr = float(c.initial_customers), c.initial_arr
    out = {name: np.zeros(weeks) for name in CHECKED}
    for t in range(warmup + weeks):
        if t == warmup:
            customers, arr = float(c.initial_customers), c.initial_arr
        mql = mql_new + np.array([matured, 0, 0])
        ignored = ignore * mql
        accepted = mql - ignored
        qualified = (
            accepted[0] * f.qualify_ready + accepted[1] * f.qualify_future
        ) * m0
        rejected_real = accepted[0] + accepted[1] - qualified
        inflow = (held[0] + held[1]) * capture + (
            ignored[0] + ignored[1] + rejected_real
        ) * recycle
        moved = pipe * adv
        lost = pipe * lose
        pipe = pipe - moved - lost
        pipe[1:] += moved[:-1]
        won = moved[-1]
        pipe[0] += qualified
        churned = customers * h
        arr = arr * (1 - h) * growth + won * deal_mean
        customers = customers - churned + won
        if nu.enabled:
            nurture += inflow
            leaving = nurture / nu.mean_weeks
            matured = leaving * nu.share_maturing
            nurture -= leaving
        spend = m.weekly_budget + nu.cost_per_lead_week * nurture
        if t >= warmup:
            w = t - warmup
            values = {
                "leads": lam.sum(),
                "mqls": mql.sum(),
                "ignored": ignored.sum(),
                "contacted": accepted.sum(),
                "qualified": qualified,
                "opportunities": pipe.sum(),
                "won": won,
                "bookings": won * deal_mean,
                "customers": customers,
                "arr": arr,
                "nurture": nurture,
                "churned": churned,
                "spend": spend,
                "cost": spend + sc.costs.sales_weekly + sc.costs.alignment_weekly,
            }
            for name, value in values.items():
                out[name][w] = value
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_weekly_means_match_the_linear_recursion(seed: int) -> None:
    scenario = random_linear_scenario(seed)
    weeks, warmup = 30, 20
    settings = RunSettings(
        runs=1500, horizon_weeks=weeks, warmup_weeks=warmup, seed=seed
    )
    result = compare(scenario, settings=settings).baseline
    expected = expected_path(scenario, weeks, warmup)
    for name in CHECKED:
        stats = result.series(name)
        for week in (0, 1, 9, weeks - 1):
            mean, se = stats["mean"][week], stats["se"][week]
            want = expected[name][week]
            tolerance = Z * se + 1e-6 * max(1.0, abs(want))
            assert abs(mean - want) <= tolerance, (
                f"seed {seed}: {name} week {week}: MC {mean:.4f} ± {se:.4f}, "
                f"expected {want:.4f}"
            )


@pytest.mark.parametrize("conversions", [(0.6, 0.55, 0.64), (0.9,), (0.3, 0.8)])
def test_win_probability_is_the_product_of_stage_conversions(conversions) -> None:
    """The pipeline alone is an absorbing Markov chain: won and lost absorb, and the
    chance of winning is the product of the stages' conversions."""
    stages = [
        {"name": f"s{i}", "conversion": c, "mean_weeks": 1.5 + i}
        for i, c in enumerate(conversions)
    ]
    scenario = load_scenario(
        "siloed", overrides={"pipeline.stages": stages, "marketing.weekly_budget": 0.0}
    )
    n, entering = 2000, 50
    params = compile_params(scenario, n)
    state = State.initial(params)
    state.pipeline[0] = entering
    streams = chunk_streams(
        all_block_seeds(7, n), [b - a for a, b in block_bounds(n)], warmup=False
    )
    weeks = 400
    record = Recorder(n, weeks)
    for week in range(weeks):
        step(state, params, streams, week, record)
    assert state.pipeline.sum() == 0  # everything absorbed
    share = record.series["won"].sum(axis=1) / entering
    want = float(np.prod(conversions))
    se = share.std(ddof=1) / math.sqrt(n)
    assert abs(share.mean() - want) <= Z * se


def test_deal_values_are_lognormal_with_the_given_median() -> None:
    scenario = load_scenario("aligned")
    settings = RunSettings(runs=1000, horizon_weeks=52, warmup_weeks=26, seed=3)
    result = compare(scenario, settings=settings).baseline
    won = result.weekly["won"].astype(float)
    bookings = result.weekly["bookings"].astype(float)
    mask = won == 1
    values = np.log(bookings[mask])
    assert abs(np.median(values) - math.log(scenario.deals.acv_median)) < 0.05
    assert abs(values.std() - scenario.deals.acv_sigma) < 0.05


@pytest.mark.parametrize("metric", ["mql", "qualified"])
def test_sources_resolved_at_the_review_match_their_expected_share(metric) -> None:
    """Sources are marks split over at the review (simulator.engine.marks): the split
    must give each source its expected MQLs or qualified leads."""
    weeks = 12
    scenario = load_scenario(
        "siloed",
        overrides={
            "handoff.trust_sensitivity": 0.0,
            "follow_up.capacity_per_week": 0.0,
            "marketing.scoring": {
                "pass_ready": 0.9,
                "pass_future": 0.6,
                "pass_junk": 0.3,
            },
            "marketing.reallocation": {"rate": 0.5, "review_weeks": weeks + 1},
            "marketing.reallocation.metric": metric,
        },
    )
    n = 3000
    params = compile_params(scenario, n)
    state = State.initial(params)
    streams = chunk_streams(
        all_block_seeds(11, n), [b - a for a, b in block_bounds(n)], warmup=False
    )
    for week in range(weeks):
        step(state, params, streams, week, None)
    got = window_metric(state, params, streams)

    m, f = scenario.marketing, scenario.follow_up
    accepted = 1 - scenario.handoff.ignore_base
    decay = response_decay(
        np.array([f.decay_floor]),
        np.array([f.decay_tau_hours]),
        np.array([list(f.response_profile.model_dump().values())]),
        1,
    )[0, 0]
    for s, source in enumerate(m.sources):
        leads = m.weekly_budget * source.share / source.cost_per_lead
        ready = leads * source.ready * m.scoring.pass_ready
        future = leads * source.future * m.scoring.pass_future
        junk = leads * source.junk * m.scoring.pass_junk
        if metric == "mql":
            want = weeks * (ready + future + junk)
        else:
            want = (
                weeks
                * accepted
                * decay
                * (ready * f.qualify_ready + future * f.qualify_future)
            )
        se = got[s].std(ddof=1) / math.sqrt(n)
        assert abs(got[s].mean() - want) <= Z * se, (source.name, want)


def test_budget_share_series_sum_to_one_and_move_only_at_reviews() -> None:
    scenario = load_scenario("aligned")
    settings = RunSettings(runs=300, horizon_weeks=40, warmup_weeks=13, seed=5)
    result = compare(scenario, settings=settings).baseline
    names = [f"share_{s.name}" for s in scenario.marketing.sources]
    shares = np.stack([result.weekly[name] for name in names]).astype(float)
    np.testing.assert_allclose(shares.sum(axis=0), 1.0, atol=1e-5)
    review = scenario.marketing.reallocation.review_weeks
    moved = np.abs(np.diff(shares, axis=2)).max(axis=(0, 1)) > 0
    weeks_moved = {int(w) + 1 for w in np.flatnonzero(moved)}
    assert weeks_moved == {w for w in range(1, 40) if w % review == review - 1}


def test_an_alternative_without_nurture_stops_the_programme_at_the_branch() -> None:
    """Warm up with nurture, continue without it: the pool's leads are lost at the
    branch, and no lead may come back from nurture afterwards."""
    aligned = load_scenario("aligned")
    no_nurture = load_scenario("aligned", overrides={"nurture.enabled": False})
    n = 400
    with_pool, without = compile_params(aligned, n), compile_params(no_nurture, n)
    state = State.initial(with_pool)
    sizes = [b - a for a, b in block_bounds(n)]
    streams = chunk_streams(all_block_seeds(3, n), sizes, warmup=True)
    for week in range(30):
        step(state, with_pool, streams, week, None)
    assert state.nurture.sum() > 0
    state.start_reporting(with_pool)
    branch = state.branch(without)
    assert branch.nurture.sum() == 0 and branch.matured.sum() == 0
    streams = chunk_streams(all_block_seeds(3, n), sizes, warmup=False)
    record = Recorder(n, 10)
    waiting_from_nurture = branch.queue[:, 1].sum()  # the NURTURE class
    for week in range(10):
        step(branch, without, streams, week, record)
        now = branch.queue[:, 1].sum()
        assert now <= waiting_from_nurture  # only leaves, never refilled
        waiting_from_nurture = now
    assert record.series["nurture"].sum() == 0


def test_an_alternative_that_holds_nothing_back_inherits_no_held_back_leads() -> None:
    """Warm up with a baseline whose scoring holds leads back, continue with one
    that passes every lead: none may be held back afterwards, so every lead is an
    MQL (leads = MQLs - those back from nurture, week by week and run by run)."""
    holds_back = load_scenario("aligned")
    passes_all = load_scenario(
        "aligned",
        overrides={
            "marketing.scoring": {
                "pass_ready": 1.0,
                "pass_future": 1.0,
                "pass_junk": 1.0,
            }
        },
    )
    settings = RunSettings(runs=300, horizon_weeks=30, warmup_weeks=20, seed=9)
    result = compare(holds_back, [passes_all], settings=settings).alternatives[0]
    weekly = result.weekly
    np.testing.assert_array_equal(weekly["leads"], weekly["mqls"] - weekly["matured"])
