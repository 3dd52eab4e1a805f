"""Extreme but valid scenarios give finite results: no NaN, no overflow, no crash."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.model.scenario_io import load_scenario
from simulator.run.runner import RunSettings, compare

EXTREMES = {
    "marketing.weekly_budget": [0.0, 1e9],
    "marketing.sources.0.cost_per_lead": [0.01, 1e7],
    "handoff.ignore_base": [0.0, 1.0],
    "handoff.trust_sensitivity": [0.0, 20.0],
    "handoff.trust_smoothing_weeks": [1.0, 520.0],
    "follow_up.capacity_per_week": [0.0, 1.0, 1e7],
    "follow_up.stale_after_weeks": [1, 52],
    "follow_up.decay_tau_hours": [1e-6, 10_000.0],
    "follow_up.qualify_ready": [0.0, 1.0],
    "company.annual_churn": [0.0, 1.0],
    "company.annual_expansion": [-0.99, 10.0],
    "company.initial_customers": [0, 10_000_000],
    "company.initial_arr": [0.0, 1e13],
    "nurture.enabled": [True, False],
    "nurture.mean_weeks": [1.0, 520.0],
    "nurture.share_maturing": [0.0, 1.0],
    "handoff.recycle_rejected": [True, False],
    "marketing.reallocation.rate": [0.0, 1.0],
    "marketing.reallocation.review_weeks": [1, 520],
    "marketing.reallocation.min_share": [0.0, 1 / 3],
    "deals.acv_sigma": [0.0, 3.0],
    "deals.acv_median": [0.01, 1e10],
    "pipeline.stages": [
        [{"name": "only", "conversion": 1.0, "mean_weeks": 1.0}],
        [{"name": "never", "conversion": 0.0, "mean_weeks": 520.0}],
    ],
}


@settings(max_examples=40, deadline=None)
@given(
    st.fixed_dictionaries(
        {}, optional={k: st.sampled_from(v) for k, v in EXTREMES.items()}
    )
)
def test_extreme_values_give_finite_results(overrides) -> None:
    scenario = load_scenario("siloed", overrides=overrides)
    settings_ = RunSettings(runs=40, horizon_weeks=60, warmup_weeks=8, seed=3)
    comparison = compare(
        scenario, [load_scenario("aligned", overrides=overrides)], settings=settings_
    )
    for result in comparison.results:
        for name, values in result.weekly.items():
            assert np.all(np.isfinite(values)), name
            assert np.all(values >= -1e-6) or name in ("bookings",), name
        figures = result.figures
        # Undefined by design, and only then: CAC with no deal won, growth from nothing.
        defined = {
            "cac": figures["total_won"] > 0,
            "arr_growth_y1": np.full(40, result.scenario.company.initial_arr > 0),
        }
        for name, values in figures.items():
            mask = defined.get(name, np.ones(40, dtype=bool))
            assert np.all(np.isfinite(values[mask])), name
            assert np.all(np.isnan(values[~mask])), name


def test_a_520_week_horizon_runs() -> None:
    scenario = load_scenario("aligned")
    result = compare(scenario, settings=RunSettings(100, 520, 52, 1)).baseline
    assert result.weekly["arr"].shape == (100, 520)
    assert np.all(np.isfinite(result.weekly["arr"]))
