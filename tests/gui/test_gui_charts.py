"""The Qt-free plotting functions, on a small real comparison."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from simulator.model.scenario_io import load_scenario
from simulator.report import charts
from simulator.run.runner import RunSettings, compare


@pytest.fixture(scope="module")
def comparison():
    base, alt = load_scenario("siloed"), load_scenario("aligned")
    return compare(base, [alt], settings=RunSettings(200, 60, 12, 3))


def test_charts_module_imports_no_qt():
    code = (
        "import sys, simulator.report.charts; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(charts.__file__).resolve().parents[2],
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_fan_draws_median_and_bands(comparison):
    ax = Figure().add_subplot()
    charts.plot_fans(ax, comparison.results, "arr")
    medians = [
        line for line in ax.get_lines() if line.get_label() in ("Siloed", "Aligned")
    ]
    assert len(medians) == 2
    expected = comparison.baseline.series("arr")["p50"]
    np.testing.assert_allclose(medians[0].get_ydata(), expected)
    assert len(ax.collections) == 4  # two bands per scenario
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "middle 50 % of runs" in legend and "90 % of runs" in legend


def test_paired_difference_is_alternative_minus_baseline(comparison):
    ax = Figure().add_subplot()
    charts.plot_paired(ax, comparison, "revenue")
    line = ax.get_lines()[0]
    expected = comparison.weekly_paired(0, "revenue")["p50"]
    np.testing.assert_allclose(line.get_ydata(), expected)


@pytest.mark.parametrize("kind", ["hist", "ecdf"])
def test_distribution(comparison, kind):
    ax = Figure().add_subplot()
    charts.plot_distribution(ax, comparison.results, "arr_growth_y1", kind=kind)
    assert ax.get_legend() is not None
    if kind == "ecdf":
        steps = [ln for ln in ax.get_lines() if ln.get_label() == "Siloed"]
        assert steps and steps[0].get_ydata()[-1] == pytest.approx(1.0)
    else:
        assert ax.patches


def test_funnel_steps_add_up(comparison):
    steps = charts.funnel_steps(comparison.baseline)
    names = [s.name for s in steps]
    assert names[0] == "Generated" and names[-1] == "Won"
    accepted, contacted, qualified, won = (s.count for s in steps[2:])
    assert steps[3].leak == pytest.approx(max(accepted - contacted, 0))
    assert steps[4].leak == pytest.approx(contacted - qualified)
    assert steps[5].leak == pytest.approx(qualified - won)
    mqls = steps[1].count
    assert accepted + steps[2].leak == pytest.approx(mqls)
    ax = Figure().add_subplot()
    charts.plot_funnel(ax, comparison.baseline)
    assert len(ax.patches) == len(steps)


def test_dynamics_four_panels(comparison):
    fig = Figure()
    axes = fig.subplots(2, 2).ravel()
    charts.plot_dynamics(list(axes), comparison.results)
    assert axes[0].get_lines() and axes[1].get_lines() and axes[2].get_lines()


def test_formatting():
    assert charts.fmt_money(10_800_000) == "$10.8M"
    assert charts.fmt_money(-4200) == "-$4.2K"
    assert charts.fmt_money(1_040_000) == "$1.04M"
    # Billions in billions, never "$2000.0M"; the same scale as the terminal.
    assert charts.fmt_money(2_000_000_000) == "$2.00B"
    assert charts.fmt_money(999_990) == "$1.00M"
    assert charts.fmt_money(355_000, signed=True) == "+$355K"
    assert charts.fmt_figure("arr_growth_y1", 0.052, difference=True) == ("+5.2 points")
    assert charts.fmt_share(0.123, signed=True) == "+12.3\u00a0%"
    assert charts.fmt_money(math.nan) == "n/a"


def test_the_header_says_which_uncertainty_the_bands_show() -> None:
    from types import SimpleNamespace

    from simulator.run.results import uncertainty_note

    fixed = SimpleNamespace(scenario=SimpleNamespace(uncertainty={}))
    ranged = SimpleNamespace(
        scenario=SimpleNamespace(uncertainty={"company.annual_churn": object()})
    )
    assert "luck" in uncertainty_note(SimpleNamespace(results=[fixed]))
    note = uncertainty_note(SimpleNamespace(results=[fixed, ranged]))
    assert "input uncertainty" in note and "company.annual_churn" in note


def test_every_weekly_chart_draws_a_streamed_comparison(comparison):
    """Runs too many to keep their trajectories keep per-week summaries only; the
    charts and the funnel must draw them the same way."""
    base, alt = comparison.baseline.scenario, comparison.alternatives[0].scenario
    streamed = compare(
        base, [alt], settings=comparison.baseline.settings, keep_weekly=False
    )
    assert not streamed.baseline.has_trajectories
    ax = Figure().add_subplot()
    charts.plot_fans(ax, streamed.results, "arr")
    assert len(ax.collections) == 4
    ax = Figure().add_subplot()
    charts.plot_paired(ax, streamed, "revenue")
    assert ax.get_lines()
    figure = Figure()
    charts.plot_dynamics(
        [figure.add_subplot(2, 2, i + 1) for i in range(4)], streamed.results
    )
    assert all(a.get_lines() for a in figure.axes)
    kept_steps = charts.funnel_steps(comparison.baseline)
    streamed_steps = charts.funnel_steps(streamed.baseline)
    for kept, got in zip(kept_steps, streamed_steps, strict=True):
        assert math.isclose(kept.count, got.count, rel_tol=1e-9)
