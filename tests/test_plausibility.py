"""Plausible ranges: warnings on inputs and results, at their thresholds."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from simulator.model import plausibility as P
from simulator.model.library import bundled_scenarios
from simulator.model.parameter_text import format_parameter, label_of
from simulator.model.scenario_io import load_scenario


def _about(scenario) -> dict[str, str]:
    return {c.parameter: c.message for c in P.input_warnings(scenario)}


@pytest.mark.parametrize("entry", bundled_scenarios(), ids=lambda e: e.id)
def test_the_bundled_scenarios_are_plausible(entry) -> None:
    assert P.input_warnings(load_scenario(entry.id)) == []


@pytest.mark.parametrize(
    ("dotted", "fine", "odd", "words"),
    [
        ("company.annual_churn", P.CHURN_MAX, P.CHURN_MAX + 0.01, "above 60 %"),
        ("company.annual_expansion", 0.5, 0.51, "above 50 %"),
        ("company.annual_expansion", -0.3, -0.31, "below -30 %"),
        ("deals.acv_sigma", 1.5, 1.51, "above 1.5"),
        ("pipeline.stages.0.conversion", 0.05, 0.049, "below 5 %"),
        ("pipeline.stages.2.conversion", 0.95, 0.951, "above 95 %"),
    ],
)
def test_a_value_warns_just_beyond_its_threshold(dotted, fine, odd, words) -> None:
    assert dotted not in _about(load_scenario("siloed", overrides={dotted: fine}))
    message = _about(load_scenario("siloed", overrides={dotted: odd}))[dotted]
    assert words in message


def test_arr_must_fit_customers_times_the_mean_deal() -> None:
    deal = 30_000 * math.exp(0.6**2 / 2)
    low, high = P.ARR_PER_CUSTOMER_RANGE
    for ratio, warns in (
        (low + 1e-3, False),
        (high - 1e-3, False),
        (0.79, True),
        (1.26, True),
    ):
        scenario = load_scenario(
            "siloed",
            overrides={
                "company.initial_customers": 420,
                "company.initial_arr": round(420 * deal * ratio, 2),
            },
        )
        assert ("company.initial_arr" in _about(scenario)) is warns, ratio
    mismatch = load_scenario("siloed", overrides={"company.initial_customers": 420})
    (concern,) = P.input_warnings(mismatch)
    fixes = {f.parameter: f.value for f in concern.fixes}
    assert fixes["company.initial_arr"] == pytest.approx(420 * deal, abs=0.01)
    assert fixes["company.initial_customers"] == 300  # $10.77M / mean deal


def test_a_weekly_budget_above_a_week_of_arr_warns() -> None:
    weekly_arr = 10_770_000 / 52
    ok = load_scenario("siloed", overrides={"marketing.weekly_budget": weekly_arr})
    assert "marketing.weekly_budget" not in _about(ok)
    odd = load_scenario("siloed", overrides={"marketing.weekly_budget": 5e8})
    assert "yearly budget" in _about(odd)["marketing.weekly_budget"]


def _result(name: str, growth: float, cac: float, scenario) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        scenario=scenario,
        figures={"arr_growth_y1": None, "cac": None},
        summary={"arr_growth_y1": {"p50": growth}, "cac": {"p50": cac}},
    )


def _comparison(growths, gap, cac=20_000.0) -> SimpleNamespace:
    scenario = load_scenario("siloed")
    results = [_result(f"S{i}", g, cac, scenario) for i, g in enumerate(growths)]
    return SimpleNamespace(
        results=results,
        alternatives=results[1:],
        differences=[{"arr_growth_y1": {"p50": gap}}],
    )


def test_result_warnings_at_their_thresholds() -> None:
    low, high = P.GROWTH_RANGE
    assert P.result_warnings(_comparison([low, high], P.GROWTH_GAP_MAX)) == []
    odd = P.result_warnings(_comparison([low - 0.01, high + 0.01], 1.35))
    assert [c.where for c in odd] == ["result:0", "result:1", "difference:0"]
    assert "+135 points" in odd[2].message
    deal = P.mean_deal(load_scenario("siloed"))
    costly = P.result_warnings(_comparison([0.0, 0.0], 0.0, cac=10.01 * deal))
    assert {c.parameter for c in costly} == {"cac"}
    lines = P.result_warning_lines(_comparison([0.0, 2.5], 2.5))
    assert lines and all(line.startswith("Warning: ") for line in lines)


def test_parameters_for_people() -> None:
    assert format_parameter("company.annual_churn", 0.1) == "10 % a year"
    assert format_parameter("company.initial_arr", 12_600_000.0) == "$12.6M a year"
    assert format_parameter("company.initial_customers", 420) == "420 customers"
    assert format_parameter("company.initial_arr", 1e13) == "$10000B a year"
    assert format_parameter("company.annual_churn", 1e-7) == "0.00001 % a year"
    assert label_of("company.initial_arr") == "Initial ARR"
    assert label_of("pipeline.stages.discovery.conversion") == (
        "Stage discovery: conversion"
    )


@pytest.mark.parametrize(
    ("overrides", "warned"),
    [
        ({"handoff.ignore_base": 0.3}, set()),  # cut from 30 %, as from 45 %
        ({"handoff.ignore_base": 0.05}, {"handoff.ignore_base"}),  # a rise here
        ({"handoff.ignore_base": 0.10}, set()),  # already there: nothing to do
        ({"follow_up.capacity_per_week": 400.0}, set()),  # to unlimited, as 63
        ({"marketing.scoring.pass_future": 0.1}, {"marketing.scoring.pass_future"}),
        ({"company.annual_churn": 0.03}, set()),  # an effect: follows the company
    ],
)
def test_a_lever_is_flagged_only_where_it_works_against_its_purpose(
    overrides, warned
) -> None:
    from simulator.model.plausibility import lever_warnings
    from simulator.model.scenario_io import resolve_alternative

    baseline = load_scenario("siloed", overrides=overrides)
    aligned = resolve_alternative(baseline, "aligned")
    concerns = lever_warnings(baseline, aligned)
    assert {c.parameter for c in concerns} == warned
    for concern in concerns:
        assert "so here it is a rise" in concern.message
