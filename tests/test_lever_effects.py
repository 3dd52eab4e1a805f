"""Levers as effects: a lever changes the user's company by what the evidence
says (churn x 0.64, the win rate x 1.38 over however many stages), not by
setting it to the bundled company's aligned figure."""

from __future__ import annotations

import math

import pytest

from simulator.analysis.drivers import lever_drivers
from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import (
    apply_override,
    load_scenario,
    resolve_alternative,
    scenario_raw,
)
from simulator.run.runner import RunSettings, compare

#: A company that is not a preset: low churn, four stages, one near-certain.
MINE = """schema_version = 1
name = "Mine"
extends = "siloed"

[company]
initial_customers = 420
initial_arr = 15_080_000.0
annual_churn = 0.05

[[pipeline.stages]]
name = "qualify"
conversion = 0.5
mean_weeks = 2.0

[[pipeline.stages]]
name = "demo"
conversion = 0.6
mean_weeks = 3.0

[[pipeline.stages]]
name = "proposal"
conversion = 0.55
mean_weeks = 3.0

[[pipeline.stages]]
name = "signature"
conversion = 0.95
mean_weeks = 1.0
"""


def win_rate(scenario) -> float:
    return math.prod(stage.conversion for stage in scenario.pipeline.stages)


def test_retention_cuts_the_users_own_churn_by_36_percent(write_toml) -> None:
    mine = load_scenario(write_toml(MINE))
    aligned = resolve_alternative(mine, "aligned")
    assert aligned.company.annual_churn == pytest.approx(0.05 * 0.64)
    # The bundled company's figure is reproduced from its own churn.
    assert load_scenario("aligned").company.annual_churn == pytest.approx(0.064)


def test_enablement_raises_the_win_rate_38_percent_over_any_stages(
    write_toml,
) -> None:
    siloed = load_scenario("siloed")
    assert win_rate(load_scenario("aligned")) == pytest.approx(1.38 * win_rate(siloed))
    mine = load_scenario(write_toml(MINE))
    aligned = resolve_alternative(mine, "aligned")
    factor = 1.38**0.25
    for before, after in zip(
        mine.pipeline.stages, aligned.pipeline.stages, strict=True
    ):
        assert after.name == before.name
        # No conversion goes past 100 %: the near-certain stage stops at 1.
        assert after.conversion == pytest.approx(min(1.0, before.conversion * factor))
    # Every stage of the user's pipeline carries the lever's citation.
    for stage in mine.pipeline.stages:
        cited = aligned.citations[f"pipeline.stages.{stage.name}.conversion"]
        assert "MarketingProfs" in cited.source


def test_an_effect_scales_a_range_end_by_end(write_toml) -> None:
    path = write_toml(
        MINE.replace(
            "annual_churn = 0.05",
            "annual_churn = {low = 0.04, mode = 0.05, high = 0.08}",
        )
    )
    aligned = resolve_alternative(load_scenario(path), "aligned")
    tri = aligned.uncertainty["company.annual_churn"]
    assert (tri.low, tri.mode, tri.high) == pytest.approx((0.0256, 0.032, 0.0512))


def test_star_sets_every_item_and_effects_work_from_set() -> None:
    scenario = load_scenario(
        "siloed",
        overrides={
            "pipeline.stages.*.mean_weeks": 3.0,
            "deals.acv_median": {"times": 2},
        },
    )
    assert [s.mean_weeks for s in scenario.pipeline.stages] == [3.0, 3.0, 3.0]
    assert scenario.deals.acv_median == 2 * load_scenario("siloed").deals.acv_median


@pytest.mark.parametrize(
    ("dotted", "value", "words"),
    [
        ("company.annual_churn", {"times": "a lot"}, "takes a number"),
        ("company.annual_churn", {"times": -1.0}, "at least 0"),
        ("company.annual_churn", {"times": math.inf}, "finite"),
        ("nurture.enabled", {"times": 2.0}, "changes a number"),
        ("company.initial_customers.*", 3, "not a list"),
        ("pipeline.stages.nope.conversion", {"times": 2.0}, "no item named"),
    ],
)
def test_bad_effects_are_refused_in_words(dotted, value, words) -> None:
    raw = scenario_raw(load_scenario("siloed"))
    with pytest.raises(ScenarioError, match=words) as info:
        apply_override(raw, dotted, value, origin="--set")
    assert "--set" in str(info.value)


def test_aligned_helps_a_company_the_levers_were_not_written_for(write_toml) -> None:
    """With levers as effects, every lever moves the user's company the right
    way, so the evidence-based conservative preset (enablement and retention)
    gains, and less than full alignment."""
    mine = load_scenario(write_toml(MINE))
    settings = RunSettings(runs=400, horizon_weeks=52, warmup_weeks=26, seed=5)
    alternatives = [
        resolve_alternative(mine, ref) for ref in ("aligned", "aligned-conservative")
    ]
    result = compare(mine, alternatives, settings=settings)
    full, conservative = (d["arr_growth_y1"] for d in result.differences)
    assert conservative["mean"] - 3 * conservative["se"] > 0
    assert conservative["mean"] < full["mean"]


def test_taking_an_effect_lever_out_gives_back_the_baseline_values() -> None:
    aligned = load_scenario("aligned")
    siloed = load_scenario("siloed")
    drivers = {d.id: d for d in lever_drivers(aligned)}
    low = dict(drivers["enablement"].low_overrides)
    assert low == {
        f"pipeline.stages.{s.name}.conversion": s.conversion
        for s in siloed.pipeline.stages
    }
    assert dict(drivers["retention"].low_overrides) == {
        "company.annual_churn": siloed.company.annual_churn
    }
