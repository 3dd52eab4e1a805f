"""Drivers (tornado): ranges, ranking, levers off and on, and the CLI."""

from __future__ import annotations

import json
import math

import pytest

from simulator.analysis.drivers import (
    default_parameters,
    get_value,
    lever_drivers,
    parameter_drivers,
    tornado,
)
from simulator.cli import main
from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import load_lever, load_scenario
from simulator.run.runner import RunSettings

SETTINGS = RunSettings(runs=150, horizon_weeks=20, warmup_weeks=10, seed=9)
FAST = ["--runs", "100", "--weeks", "20", "--warmup", "10", "--seed", "3"]


def test_default_parameters_leave_out_structure_and_constrained_shares() -> None:
    names = default_parameters(load_scenario("siloed"))
    assert "company.annual_churn" in names
    assert "pipeline.stages.discovery.conversion" in names
    assert any(n.startswith("marketing.sources.") for n in names)
    for left_out in (
        "simulation.runs",
        "simulation.seed",
        "marketing.reallocation.review_weeks",
        "follow_up.stale_after_weeks",
        "company.initial_arr",
    ):
        assert left_out not in names
    assert not any(n.endswith((".share", ".ready", ".future", ".junk")) for n in names)
    assert not any("response_profile" in n for n in names)
    assert not any(
        n in ("nurture.enabled", "marketing.reallocation.metric") for n in names
    )


def test_ranges_are_clipped_to_the_schema_and_can_be_given() -> None:
    scenario = load_scenario(
        "siloed",
        overrides={"marketing.scoring.pass_ready": 1.0, "handoff.trust_reference": 0.9},
    )
    drivers, skipped = parameter_drivers(
        scenario,
        [
            "marketing.scoring.pass_ready",
            "handoff.trust_reference",
            "company.initial_customers",
            "costs.alignment_weekly",
        ],
        span=0.25,
        ranges={"handoff.ignore_base": (0.3, 0.6)},
    )
    by_id = {d.id: d for d in drivers}
    ready = by_id["marketing.scoring.pass_ready"]
    assert (ready.low, ready.high) == (0.75, 1.0) and ready.high_overrides == ()
    trust = by_id["handoff.trust_reference"]
    assert trust.low == pytest.approx(0.675) and trust.high == 1.0
    customers = by_id["company.initial_customers"]
    initial = get_value(scenario, "company.initial_customers")
    assert isinstance(customers.low_overrides[0][1], int)
    assert customers.low == math.ceil(initial * 0.75)
    ignore = by_id["handoff.ignore_base"]
    assert (ignore.low, ignore.high) == (0.3, 0.6)
    if get_value(scenario, "costs.alignment_weekly") == 0:
        assert [s.id for s in skipped] == ["costs.alignment_weekly"]
    with pytest.raises(ScenarioError, match="span"):
        parameter_drivers(scenario, span=1.0)
    with pytest.raises(ScenarioError, match="unknown parameter"):
        parameter_drivers(scenario, ["handoff.ignore"])
    with pytest.raises(ScenarioError, match="not a number"):
        parameter_drivers(scenario, ["nurture.enabled"])


@pytest.fixture(scope="module")
def ranked():
    """A parameter that cannot matter: the nurture cost with nurture off, ranked
    on ARR (costs draw no random number, so its effect is exactly 0)."""
    scenario = load_scenario("siloed", overrides={"nurture.enabled": False})
    drivers, _ = parameter_drivers(
        scenario,
        [
            "nurture.cost_per_lead_week",
            "company.annual_churn",
            "follow_up.qualify_ready",
            "deals.acv_median",
        ],
    )
    return tornado(scenario, drivers, settings=SETTINGS, bootstrap=50)


def test_tornado_ranks_a_parameter_with_no_effect_last(ranked) -> None:
    ids = [e.driver.id for e in ranked.effects]
    assert ids[-1] == "nurture.cost_per_lead_week"
    last = ranked.effects[-1]
    assert last.swing == 0 and last.delta_low == 0 and last.delta_high == 0
    assert all(e.swing > 0 for e in ranked.effects[:-1])
    swings = [e.swing for e in ranked.effects]
    assert swings == sorted(swings, reverse=True)


def test_tornado_effects_have_signs_and_standard_errors(ranked) -> None:
    churn = next(e for e in ranked.effects if e.driver.id == "company.annual_churn")
    # Common random numbers: more churn loses more ARR in (almost) every run.
    assert churn.delta_high < 0 < churn.delta_low
    assert churn.value_high - churn.value_low == pytest.approx(-churn.swing)
    assert churn.swing_se > 0 and churn.se_low > 0
    assert churn.swing > 4 * churn.swing_se
    assert ranked.base_se > 0 and ranked.scenarios_simulated == 9


def test_lever_drivers_add_missing_levers_and_remove_applied_ones() -> None:
    siloed, aligned = load_scenario("siloed"), load_scenario("aligned")
    retention = load_lever("retention")
    (added,) = lever_drivers(siloed, ["retention"])
    assert added.low_overrides == () and added.high_overrides == tuple(
        retention.set.items()
    )
    (removed,) = lever_drivers(aligned, ["retention"])
    assert removed.high_overrides == ()
    # Taking the lever out gives back the churn it changed.
    assert dict(removed.low_overrides) == {
        "company.annual_churn": get_value(siloed, "company.annual_churn")
    }
    defaults = [d.id for d in lever_drivers(aligned)]
    assert defaults[: len(aligned.levers)] == list(aligned.levers)


def test_lever_tornado_switches_retention_on() -> None:
    scenario = load_scenario("siloed")
    result = tornado(
        scenario,
        lever_drivers(scenario, ["retention", "nurture"]),
        settings=SETTINGS,
        statistic="mean",
        bootstrap=0,
    )
    by_id = {e.driver.id: e for e in result.effects}
    assert result.statistic == "mean"
    retention = by_id["retention"]
    assert retention.delta_low == 0 and retention.value_low == result.base_value
    # Retention cuts churn (x 0.64), so ARR ends higher.
    assert retention.delta_high > 0
    assert math.isnan(retention.swing_se)  # no bootstrap asked for


def test_cli_sensitivity_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "sensitivity",
            "siloed",
            *FAST,
            "--params",
            "company.annual_churn,costs.sales_weekly",
            "--range",
            "handoff.ignore_base=0.3,0.6",
            "--bootstrap",
            "20",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["figure"] == "arr_end" and out["runs"] == 100
    ids = [e["id"] for e in out["effects"]]
    assert set(ids) == {
        "company.annual_churn",
        "costs.sales_weekly",
        "handoff.ignore_base",
    }
    assert ids[-1] == "costs.sales_weekly" and out["effects"][-1]["swing"] == 0
    ignore = next(e for e in out["effects"] if e["id"] == "handoff.ignore_base")
    assert (ignore["low"], ignore["high"]) == (0.3, 0.6)


def test_cli_sensitivity_levers_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["sensitivity", "aligned", *FAST, "--levers", "retention,nurture", "--top", "1"]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "without .. with" in text and "$" in text and "1 more" in text


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--params", "handoff.nope"], "unknown parameter"),
        (["--span", "1.5"], "span"),
        (["--range", "handoff.ignore_base=0.3"], "NAME=LOW,HIGH"),
        (["--figure", "arr_growth_y1"], "52 weeks"),
        (["--levers", "no_such_lever"], "no_such_lever"),
    ],
)
def test_cli_sensitivity_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["sensitivity", "siloed", *FAST, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
