"""An alternative is a set of changes to the baseline, and every comparison
measures from the start all its scenarios share."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from simulator.cli import load_with_overrides, main
from simulator.errors import ScenarioError
from simulator.runner import RunSettings, compare
from simulator.scenario_io import load_scenario, resolve_alternative

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
    result = compare(big, [alt], settings=settings, remember=False)
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
    assert "company.initial_customers" not in scenario.citations
    # the same value as the source gave keeps its source
    assert "company.annual_churn" in scenario.citations
    assert not [k for k in scenario.citations if k.startswith("pipeline.stages")]
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
