"""An alternative is a set of changes to the baseline, and every comparison
measures from the start all its scenarios share."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from simulator.cli import load_with_overrides, main
from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import load_scenario, resolve_alternative
from simulator.run.runner import RunSettings, compare

FAST = ["--runs", "200", "--weeks", "60", "--warmup", "12", "--seed", "11"]
PAIRS = [
    ("siloed", "aligned"),
    ("siloed", "aligned-conservative"),
    ("smb-siloed", "smb-aligned"),
    ("healthcare-siloed", "healthcare-aligned"),
]


@pytest.mark.parametrize(("baseline", "alternative"), PAIRS)
def test_a_bundled_alternative_on_its_own_baseline_is_unchanged(
    baseline: str, alternative: str
) -> None:
    """The bundled alternatives extend their baseline, so the rule gives what
    their own files give."""
    on_baseline = resolve_alternative(load_scenario(baseline), alternative)
    assert on_baseline.model_dump() == load_scenario(alternative).model_dump()


def _company(seed: int) -> tuple[int, float]:
    rng = np.random.default_rng(seed)
    customers = int(rng.integers(40, 3000))
    mean_deal = 30_000.0 * math.exp(0.6**2 / 2)  # siloed's deals
    arr = round(customers * mean_deal * float(rng.uniform(0.8, 1.25)), 2)
    return customers, arr


def _figures(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict]:
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    return [r["summary"] for r in (out["baseline"], *out["alternatives"])] + [
        *out["differences"]
    ]


def test_your_company_file_equals_the_same_levers_set_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`compare mine.toml aligned aligned-conservative` is, figure by figure,
    the comparison of the bundled scenarios with mine's company set on all."""
    seed = int(np.random.default_rng().integers(0, 2**31))
    customers, arr = _company(seed)
    mine = tmp_path / "mine.toml"
    mine.write_text(
        'schema_version = 1\nname = "Mine"\nextends = "siloed"\n'
        f"[company]\ninitial_customers = {customers}\ninitial_arr = {arr!r}\n",
        encoding="utf-8",
    )
    alternatives = ["aligned", "aligned-conservative"]
    by_file = _figures(["compare", str(mine), *alternatives, *FAST, "--json"], capsys)
    by_set = _figures(
        [
            "compare",
            "siloed",
            *alternatives,
            *FAST,
            "--json",
            "--set",
            f"company.initial_customers={customers}",
            "--set",
            f"company.initial_arr={arr!r}",
        ],
        capsys,
    )
    assert by_file == by_set, f"company drawn with seed {seed}"
    # The conservative preset (fewer levers) gains less than full alignment.
    full, conservative = by_file[3], by_file[4]
    assert conservative["arr_growth_y1"]["mean"] < full["arr_growth_y1"]["mean"]


def test_growth_is_measured_from_the_start_every_run_shares() -> None:
    """A baseline of twice the ARR halves every scenario's growth from new
    business alike: an alternative divides by the baseline's start, too."""
    settings = RunSettings(runs=100, horizon_weeks=52, warmup_weeks=8, seed=2)
    big = load_scenario("siloed", overrides={"company.initial_arr": 21_540_000.0})
    alt = resolve_alternative(big, "aligned")
    assert alt.company.initial_arr == big.company.initial_arr
    result = compare(big, [alt], settings=settings)
    arr_y1 = result.alternatives[0].series("arr")["mean"][51]
    growth = result.alternatives[0].summary["arr_growth_y1"]["mean"]
    assert growth == pytest.approx(arr_y1 / 21_540_000.0 - 1, abs=0.02)


def test_an_alternative_cannot_change_the_starting_company(write_toml) -> None:
    other = write_toml(
        'schema_version = 1\nname = "Bigger"\nextends = "aligned"\n'
        "[company]\ninitial_customers = 999\n",
        name="bigger.toml",
    )
    with pytest.raises(ScenarioError) as caught:
        load_with_overrides(["siloed", str(other)], [])
    message = str(caught.value)
    assert "bigger.toml" in message
    assert "company.initial_customers = 999" in message
    assert "baseline's company" in message
    # The engine refuses it too, whoever built the scenarios.
    with pytest.raises(ScenarioError, match="starting company"):
        compare(load_scenario("siloed"), [load_scenario("smb-aligned")])


def test_the_command_line_says_so_in_one_line(capsys, write_toml) -> None:
    other = write_toml(
        'schema_version = 1\nname = "Richer"\nextends = "siloed"\n'
        "[company]\ninitial_arr = 2e7\n"
    )
    assert main(["compare", "siloed", str(other), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "starting company" in err


def test_edits_of_the_baseline_reach_an_alternative_and_its_own_values_stay() -> None:
    baseline = load_scenario(
        "siloed",
        overrides={"deals.acv_median": 50_000.0, "company.annual_churn": 0.2},
    )
    aligned = resolve_alternative(baseline, "aligned")
    assert aligned.deals.acv_median == 50_000.0  # the baseline's company
    assert aligned.company.annual_churn == pytest.approx(0.128)  # churn x 0.64
    assert aligned.costs.alignment_weekly == 3_000.0  # aligned's own table
    assert (
        aligned.name == "Aligned" and aligned.levers == load_scenario("aligned").levers
    )


def test_a_replaced_value_loses_the_citation_of_the_value_it_replaced(
    write_toml,
) -> None:
    mine = write_toml(
        'schema_version = 1\nname = "Mine"\nextends = "siloed"\n'
        "[company]\ninitial_customers = 420\nannual_churn = 0.10\n"
        '[[pipeline.stages]]\nname = "discovery"\nconversion = 0.5\nmean_weeks = 2.0\n'
    )
    scenario = load_scenario(mine)
    # every value the user's file sets is the user's, never the source's
    mine_too = "from your file scenario.toml"
    assert scenario.citations["company.initial_customers"].source == mine_too
    assert scenario.citations["company.annual_churn"].source == mine_too
    assert [k for k in scenario.citations if k.startswith("pipeline.stages")] == [
        "pipeline.stages.discovery"
    ]
    overridden = load_scenario("siloed", overrides={"company.initial_arr": 1e6})
    assert "company.initial_arr" not in overridden.citations
    assert "company.initial_arr" in load_scenario("siloed").citations


def test_a_lever_written_for_the_bundled_company_is_named(write_toml, capsys) -> None:
    mine = write_toml(
        'schema_version = 1\nname = "Mine"\nextends = "siloed"\n'
        "[company]\nannual_churn = 0.15\n[handoff]\nignore_base = 0.05\n"
    )
    assert main(["compare", str(mine), "aligned", *FAST]) == 0
    err = capsys.readouterr().err
    # A lever that sets a practice's value is named; retention, an effect
    # (churn x 0.64), follows the company and is not.
    assert "Sales works every lead sets" in err
    assert "Customer retention" not in err
    assert main(["compare", "siloed", "aligned-conservative", *FAST]) == 0
    assert "warning" not in capsys.readouterr().err


MINE = (
    'schema_version = 1\nname = "Mine"\nextends = "siloed"\n'
    "[company]\ninitial_customers = 420\ninitial_arr = 15080000.0\n"
)


def _parameters(scenario) -> dict:
    data = scenario.model_dump()
    for key in ("name", "description", "extends", "levers", "citations"):
        data.pop(key)
    return data


def test_an_alternative_that_extends_aligned_keeps_aligned_s_levers(
    write_toml,
) -> None:
    """`alt.toml extends aligned` is the baseline + aligned's levers +
    aligned's own tables + alt's own tables, not the baseline + alt's tables."""
    mine = load_scenario(write_toml(MINE, name="mine.toml"))
    alt_path = write_toml(
        'schema_version = 1\nname = "My aligned"\nextends = "aligned"\n'
        "[costs]\nalignment_weekly = 2000.0\n",
        name="alt.toml",
    )
    alt = resolve_alternative(mine, alt_path)
    aligned = resolve_alternative(mine, "aligned")
    assert alt.company.annual_churn == pytest.approx(mine.company.annual_churn * 0.64)
    assert alt.costs.alignment_weekly == 2000.0  # its own table wins
    assert aligned.costs.alignment_weekly == 3000.0
    want = _parameters(aligned)
    want["costs"]["alignment_weekly"] = 2000.0
    assert _parameters(alt) == want
    assert alt.levers == aligned.levers and alt.name == "My aligned"
    # A file in between that sets values but no levers is no company: it
    # inherits aligned's levers, so they stay changes.
    middle = write_toml(
        'schema_version = 1\nname = "Cheaper"\nextends = "aligned"\n'
        "[costs]\nalignment_weekly = 1000.0\n",
        name="cheaper.toml",
    )
    top = write_toml(
        f'schema_version = 1\nname = "Top"\nextends = "{middle.name}"\n'
        "[deals]\nacv_sigma = 0.5\n",
        name="top.toml",
    )
    on_top = resolve_alternative(mine, top)
    assert on_top.company.annual_churn == pytest.approx(alt.company.annual_churn)
    assert on_top.costs.alignment_weekly == 1000.0 and on_top.deals.acv_sigma == 0.5


def test_a_company_file_under_the_levers_is_replaced_by_the_baseline(
    write_toml,
) -> None:
    """`mine-aligned.toml` extends `mine.toml` (no levers) with levers: mine is
    its company, so against mine it is the file itself, and against another
    baseline it is that baseline with its levers and its own values."""
    mine_path = write_toml(MINE, name="mine.toml")
    mine_aligned = write_toml(
        'schema_version = 1\nname = "Mine aligned"\nextends = "mine.toml"\n'
        'levers = ["enablement", "retention"]\n[costs]\nalignment_weekly = 1500.0\n',
        name="mine-aligned.toml",
    )
    on_mine = resolve_alternative(load_scenario(mine_path), mine_aligned)
    assert _parameters(on_mine) == _parameters(load_scenario(mine_aligned))
    on_siloed = resolve_alternative(load_scenario("siloed"), mine_aligned)
    assert on_siloed.company.initial_customers == 300  # siloed's, not mine's
    assert on_siloed.company.annual_churn == pytest.approx(0.064)
    assert on_siloed.costs.alignment_weekly == 1500.0
    assert on_siloed.levers == ["enablement", "retention"]


def test_a_comparison_file_alternative_that_extends_aligned_keeps_its_levers(
    write_toml,
) -> None:
    from simulator.run.comparison_file import load_comparison

    board = write_toml(
        'schema_version = 1\nkind = "comparison"\n'
        '[baseline]\nname = "Mine"\nextends = "siloed"\n'
        "company = { initial_customers = 420, initial_arr = 15_080_000.0 }\n"
        '[[alternatives]]\nname = "My aligned"\nextends = "aligned"\n'
        "costs = { alignment_weekly = 2000.0 }\n",
        name="board.toml",
    )
    _saved, (mine, alt) = load_comparison(board)
    assert alt.company.annual_churn == pytest.approx(mine.company.annual_churn * 0.64)
    assert alt.handoff.ignore_base == load_scenario("aligned").handoff.ignore_base
    assert alt.costs.alignment_weekly == 2000.0
    assert alt.company.initial_customers == 420


def test_set_describes_the_company_and_the_alternatives_levers_act_on_it(
    write_toml, capsys: pytest.CaptureFixture[str]
) -> None:
    """--set applies to the baseline only: the retention lever then cuts the
    churn set there, exactly as for a baseline file with that churn."""
    baseline, alternative = load_with_overrides(
        ["siloed", "aligned-conservative"], ["company.annual_churn=0.07"]
    )
    assert baseline.company.annual_churn == 0.07
    assert alternative.company.annual_churn == pytest.approx(0.07 * 0.64)
    churn = write_toml(
        'schema_version = 1\nname = "Siloed"\nextends = "siloed"\n'
        "[company]\nannual_churn = 0.07\n",
        name="churn.toml",
    )
    churn_set = ["--set", "company.annual_churn=0.07"]
    by_set = _figures(
        ["compare", "siloed", "aligned-conservative", *FAST, "--json", *churn_set],
        capsys,
    )
    by_file = _figures(
        ["compare", str(churn), "aligned-conservative", *FAST, "--json"], capsys
    )
    assert by_set == by_file


def test_sensitivity_of_levers_reads_set_as_the_company(
    write_toml, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sensitivity aligned-conservative --levers --set churn`: the scenario is
    its company with the churn set, then its levers (taking retention out goes
    back to the churn set), as if that company were written as a file."""
    write_toml(
        'schema_version = 1\nname = "Siloed"\nextends = "siloed"\n'
        "[company]\nannual_churn = 0.07\n",
        name="churn.toml",
    )
    mine = write_toml(
        'schema_version = 1\nname = "Aligned (conservative)"\n'
        'extends = "churn.toml"\nlevers = ["enablement", "retention"]\n'
        "[costs]\nalignment_weekly = 1500.0\n",
        name="conservative.toml",
    )
    common = ["--levers", "retention,nurture", *FAST, "--bootstrap", "0", "--json"]
    results = []
    for argv in (
        ["aligned-conservative", *common, "--set", "company.annual_churn=0.07"],
        [str(mine), *common],
    ):
        assert main(["sensitivity", *argv]) == 0
        out = json.loads(capsys.readouterr().out)
        out.pop("seconds")
        results.append(out)
    assert results[0] == results[1]
    # Without the fix the lever's cut was overwritten: the churn stayed 0.07
    # with retention, and taking it out changed nothing.
    retention = next(e for e in results[0]["effects"] if e["id"] == "retention")
    assert retention["delta_low"] < 0


def test_bridge_and_compare_use_the_same_horizon(
    write_toml, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --weeks, the bridge runs the baseline's horizon as compare does,
    so its ARR at the end equals compare's for the same runs and seed."""
    mine = write_toml(MINE, name="mine.toml")
    common = ["--runs", "60", "--seed", "3", "--json"]
    assert main(["compare", str(mine), "aligned-conservative", *common]) == 0
    compared = json.loads(capsys.readouterr().out)
    argv = ["bridge", str(mine), "aligned-conservative", *common, "--bootstrap", "0"]
    assert main(argv) == 0
    bridge = json.loads(capsys.readouterr().out)
    assert bridge["weeks"] == compared["baseline"]["weeks"] == 104
    assert bridge["baseline_value"] == pytest.approx(
        compared["baseline"]["summary"]["arr_end"]["p50"], rel=1e-9
    )
    assert bridge["alternative_value"] == pytest.approx(
        compared["alternatives"][0]["summary"]["arr_end"]["p50"], rel=1e-9
    )
