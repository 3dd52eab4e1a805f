"""Parameters given as ranges: loading, drawing once per run, wider bands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.engine.params import compile_params
from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import load_scenario, save_scenario
from simulator.model.uncertainty import draw_triangular
from simulator.run.runner import RunSettings, compare

RANGED = """schema_version = 1
name = "Unsure"
extends = "siloed"
[company]
annual_churn = {low = 0.05, mode = 0.10, high = 0.25}
[deals]
acv_median = {low = 20000.0, mode = 30000.0, high = 45000.0}
"""
SETTINGS = RunSettings(runs=1500, horizon_weeks=52, warmup_weeks=20, seed=4)


def test_a_range_loads_as_its_mode_with_the_range_kept(write_toml) -> None:
    scenario = load_scenario(write_toml(RANGED))
    assert scenario.company.annual_churn == 0.10
    tri = scenario.uncertainty["company.annual_churn"]
    assert (tri.low, tri.mode, tri.high) == (0.05, 0.10, 0.25)


def test_ranges_round_trip_through_a_saved_file(write_toml, tmp_path) -> None:
    scenario = load_scenario(write_toml(RANGED))
    save_scenario(scenario, tmp_path / "again.toml")
    import tomllib

    written = tomllib.loads((tmp_path / "again.toml").read_text())
    assert written["company"]["annual_churn"] == {
        "low": 0.05,
        "mode": 0.1,
        "high": 0.25,
    }
    assert load_scenario(tmp_path / "again.toml").model_dump() == scenario.model_dump()


def test_an_override_replaces_a_range(write_toml) -> None:
    scenario = load_scenario(
        write_toml(RANGED), overrides={"company.annual_churn": 0.2}
    )
    assert "company.annual_churn" not in scenario.uncertainty
    assert "deals.acv_median" in scenario.uncertainty


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("annual_churn = {low = 0.2, mode = 0.1, high = 0.3}", "low <= mode <= high"),
        (
            "annual_churn = {low = 0.1, mode = 0.2, high = 1.5}",
            "less than or equal to 1",
        ),
        ('annual_churn = {low = 0.1, mode = "x", high = 0.3}', "finite numbers"),
        (
            "initial_customers = {low = 100, mode = 200, high = 300}",
            "cannot be a range",
        ),
    ],
)
def test_bad_ranges_are_clear_errors(write_toml, line: str, fragment: str) -> None:
    text = f'schema_version = 1\nname = "x"\nextends = "siloed"\n[company]\n{line}\n'
    with pytest.raises(ScenarioError, match=fragment) as info:
        load_scenario(write_toml(text))
    assert "scenario.toml" in str(info.value)


def test_a_share_cannot_be_a_range() -> None:
    with pytest.raises(ScenarioError, match="cannot be a range"):
        load_scenario(
            "siloed",
            overrides={
                "marketing.sources.0.share": {"low": 0.1, "mode": 0.2, "high": 0.3}
            },
        )


def test_triangular_draws_have_the_right_mean_and_limits() -> None:
    u = np.random.default_rng(1).random(200_000)
    x = draw_triangular(2.0, 3.0, 7.0, u)
    assert x.min() >= 2.0 and x.max() <= 7.0
    se = x.std() / math.sqrt(x.size)
    assert abs(x.mean() - 4.0) < 4 * se


def test_values_are_drawn_once_per_run(write_toml) -> None:
    scenario = load_scenario(write_toml(RANGED))
    rng = np.random.default_rng(2)
    params = compile_params(scenario, 4000, lambda dotted: rng.random(4000))
    churn = 1 - (1 - params.weekly_churn) ** 52
    assert churn.min() >= 0.05 - 1e-9 and churn.max() <= 0.25 + 1e-9
    assert abs(churn.mean() - (0.05 + 0.10 + 0.25) / 3) < 4 * churn.std() / math.sqrt(
        4000
    )
    fixed = compile_params(scenario, 10)  # without uniforms: the mode
    assert np.allclose(1 - (1 - fixed.weekly_churn) ** 52, 0.10)


def test_ranges_widen_the_bands(write_toml) -> None:
    unsure = load_scenario(write_toml(RANGED))
    comparison = compare(load_scenario("siloed"), [unsure], settings=SETTINGS)
    sure, wide = comparison.baseline.summary, comparison.alternatives[0].summary
    spread = {
        k: s["arr_end"]["p95"] - s["arr_end"]["p5"]
        for k, s in (("sure", sure), ("wide", wide))
    }
    assert spread["wide"] > 1.5 * spread["sure"]


def test_a_range_shared_by_both_scenarios_keeps_common_random_numbers(
    write_toml,
) -> None:
    unsure = load_scenario(write_toml(RANGED))
    comparison = compare(unsure, [unsure], settings=SETTINGS)
    assert np.all(comparison.paired(0, "arr_end") == 0)


def test_the_tornado_moves_a_ranged_parameter_across_its_range(write_toml) -> None:
    from simulator.analysis.drivers import parameter_drivers

    drivers, _ = parameter_drivers(load_scenario(write_toml(RANGED)))
    churn = next(d for d in drivers if d.id == "company.annual_churn")
    assert (churn.low, churn.high) == (0.05, 0.25)
