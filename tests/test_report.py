"""Exports (CSV round trip, PDF, PowerPoint), the story charts and targets, and
``funnelsim report``; no Qt."""

from __future__ import annotations

import math
import re
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

from simulator.analysis.bridge import value_bridge, with_overrides
from simulator.analysis.drivers import lever_drivers, tornado
from simulator.analysis.targets import (
    figure_probability,
    figure_reach_weeks,
    reach_weeks,
    target_probability,
)
from simulator.cli import main
from simulator.model.scenario_io import load_lever, load_scenario
from simulator.report import charts
from simulator.report import export as report
from simulator.report.caveats import SPREAD_CAVEAT
from simulator.run.runner import RunSettings, compare

SMALL = RunSettings(runs=200, horizon_weeks=60, warmup_weeks=8, seed=5)
TINY = RunSettings(runs=100, horizon_weeks=20, warmup_weeks=4, seed=1)
LEVERS = ("speed_to_lead", "sales_works_every_lead")


@pytest.fixture(scope="module")
def comparison():
    return compare(load_scenario("siloed"), [load_scenario("aligned")], settings=SMALL)


@pytest.fixture(scope="module")
def story():
    """A two-lever alternative, its bridge and its lever tornado (fast)."""
    base = load_scenario("siloed")
    overrides = [o for lever in LEVERS for o in load_lever(lever).set.items()]
    alt = with_overrides(base, overrides, name="Two levers", levers=LEVERS)
    bridge = value_bridge(base, alt, settings=TINY, bootstrap=20)
    drivers = tornado(alt, lever_drivers(alt, parent=base), settings=TINY, bootstrap=20)
    return compare(base, [alt], settings=TINY), bridge, drivers


def count_pages(path) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", path.read_bytes()))


# ----------------------------------------------------------------------------- CSV


def test_csv_round_trips_figures_and_header(comparison, tmp_path):
    figures_path, weekly_path = report.write_csv(comparison, tmp_path / "out.csv")
    assert weekly_path.name == "out_weekly.csv"
    text = figures_path.read_text()
    assert text.startswith("# FunnelSim export")
    back = report.read_csv(figures_path)
    assert back.kind == "figures"
    assert back.scenarios == ["Siloed", "Aligned"]
    assert (back.seed, back.runs, back.weeks) == (5, 200, 60)
    assert back.meta["warmup_weeks"] == "8"
    assert back.version == version("funnelsim")
    for result in comparison.results:
        for name, values in result.figures.items():
            np.testing.assert_array_equal(back.data[result.name][name], values)
    assert (
        np.isnan(back.data["Siloed"]["cac"]).sum()
        == np.isnan(comparison.baseline.figures["cac"]).sum()
    )

    weekly = report.read_csv(weekly_path)
    assert weekly.kind == "weekly" and weekly.runs == 200
    for result in comparison.results:
        for stat in ("p5", "p50", "p95", "mean"):
            np.testing.assert_array_equal(
                weekly.data[result.name][f"arr.{stat}"], result.series("arr")[stat]
            )
        assert len(weekly.data[result.name]["revenue.p50"]) == 60


def test_read_csv_refuses_other_files(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a FunnelSim export"):
        report.read_csv(path)


# ---------------------------------------------------------------------- PDF, PPTX


def test_pdf_has_title_table_charts_and_sources(comparison, tmp_path):
    path = report.write_pdf(
        comparison, tmp_path / "r.pdf", target=("arr_growth_y1", 0.1)
    )
    charts_count = len(report.chart_figures(comparison))
    assert path.read_bytes().startswith(b"%PDF")
    assert count_pages(path) >= 2 + charts_count + 1


def check_deck(path) -> Any:
    """A deck a consultant can hand over: 16:9, speaker notes on every slide,
    native charts, every shape on the slide, no number split across lines."""
    from pptx import Presentation
    from pptx.util import Emu

    deck = Presentation(str(path))
    width, height = deck.slide_width, deck.slide_height
    assert abs(width / height - 16 / 9) < 0.01
    charts_found = 0
    for number, slide in enumerate(deck.slides, start=1):
        notes = slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
        assert len(notes) > 40, f"slide {number} has no speaker notes"
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (number, shape.name)
            assert shape.left + shape.width <= width, (number, shape.name)
            assert shape.top + shape.height <= height - Emu(0), (number, shape.name)
            charts_found += shape.has_chart
            if shape.has_text_frame:
                for para in shape.text_frame.paragraphs:
                    # a hard line break, or a number split from its unit
                    assert "\v" not in para.text and "\n" not in para.text
                    assert not re.search(r"\d %", para.text), para.text
    assert charts_found >= 5
    return deck


def test_deck_is_16_9_native_with_notes_and_fits(story, tmp_path):
    comparison, bridge, drivers = story
    path = report.write_pptx(
        comparison, tmp_path / "d.pptx", bridge=bridge, drivers=drivers
    )
    deck = check_deck(path)
    slides = list(deck.slides)
    titles = [s.shapes[0].text_frame.text for s in slides]
    assert titles[:2] == ["What alignment is worth", "Executive summary"]
    for title in (
        "Value bridge, lever by lever",
        "Each lever's fair share",
        "What moves the result",
        "Scenarios and their differences",
    ):
        assert title in titles
    assert any(t.startswith("Assumptions") for t in titles)
    summary = "\n".join(
        shape.text_frame.text for shape in slides[1].shapes if shape.has_text_frame
    )
    assert "Two levers" in summary and "Net value over 20 weeks" in summary
    # a bridge of two bundled levers: the spread caveat, on every content slide
    assert SPREAD_CAVEAT in summary
    assert all(
        any(SPREAD_CAVEAT in sh.text_frame.text for sh in s.shapes if sh.has_text_frame)
        for s in slides[2:]
    )
    from pptx.enum.chart import XL_CHART_TYPE

    bridge_slide = slides[titles.index("Value bridge, lever by lever")]
    chart = next(sh.chart for sh in bridge_slide.shapes if sh.has_chart)
    assert chart.chart_type == XL_CHART_TYPE.COLUMN_STACKED
    values = [list(series.values) for series in chart.plots[0].series]
    # base + total + up + down: each bar ends where the bridge says
    for k, step in enumerate(bridge.steps, start=1):
        top = values[0][k] + values[2][k] + values[3][k]
        assert max(step.start, step.end) == pytest.approx(top)


def test_deck_has_no_caveat_for_a_what_if_without_levers(tmp_path):
    base = load_scenario("siloed")
    alt = load_scenario("siloed", overrides={"marketing.weekly_budget": 12_000.0})
    comparison = compare(base, [alt], settings=TINY)
    path = report.write_pptx(comparison, tmp_path / "w.pptx")
    deck = check_deck(path)
    text = " ".join(
        sh.text_frame.text for s in deck.slides for sh in s.shapes if sh.has_text_frame
    )
    assert "Read with care" not in text


def test_assumption_kinds():
    from simulator.model.schema import Citation
    from simulator.report.deck import provenance

    assert provenance(Citation(source="HBR", year=2011, confidence="H")) == "cited"
    assert provenance(Citation(source="assumption")) == "assumption"
    assert provenance(Citation(source="entered by you", confidence="H")) == "yours"
    assert provenance(None) == "yours"


def test_sources_list_every_citation(comparison):
    """Every cited input, by the schema's label, in plain numbers, with no
    internal names."""
    from simulator.model.provenance import assumption_rows

    lines = [text for _style, text in report.source_lines(comparison)]
    joined = "\n".join(lines)
    for row in assumption_rows(comparison.baseline.scenario):
        assert row.label in joined and row.source[:40] in joined
    assert "Initial ARR = $10.77M a year" in joined
    assert "Initial customers = 300 customers" in joined
    assert "Levers: Shared lead definition" in joined
    assert "e+0" not in joined and ".toml" not in joined
    assert (
        "company.initial_arr" not in joined and "shared_lead_definition" not in joined
    )


# -------------------------------------------------------------------------- charts


def test_bridge_chart_bars_follow_the_steps(story):
    _comparison, bridge, _ = story
    ax = Figure().add_subplot()
    charts.plot_bridge(ax, bridge)
    heights = [p.get_height() for p in ax.patches]
    assert heights[0] == pytest.approx(bridge.baseline_value)
    assert heights[1] == pytest.approx(bridge.alternative_value)
    steps = heights[2:]
    assert steps == pytest.approx([s.delta for s in bridge.steps])
    assert math.fsum(steps) == pytest.approx(bridge.total)


def test_shapley_chart_has_a_bar_and_error_bar_per_lever(story):
    _comparison, bridge, _ = story
    ax = Figure().add_subplot()
    charts.plot_shapley(ax, bridge)
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([s.value for s in bridge.shapley])
    assert ax.containers  # the error bars
    # First lever at the top: tick labels come in the bridge's order.
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        s.name for s in bridge.shapley
    ]


def test_tornado_chart_draws_low_and_high_per_driver(story):
    _comparison, _bridge, drivers = story
    ax = Figure().add_subplot()
    charts.plot_tornado(ax, drivers)
    assert len(ax.patches) == 2 * len(drivers.effects)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == drivers.effects[0].driver.label  # largest swing on top


# ------------------------------------------------------------------------- targets


def synthetic(runs: int = 10, weeks: int = 12):
    """Run i reaches ARR 150 in week i and stays; growth of run i is i / runs."""
    arr = np.full((runs, weeks), 100.0, dtype=np.float32)
    for i in range(runs):
        arr[i, i:] = 150.0
    growth = np.arange(runs) / runs
    cac = np.array([np.nan, *range(1, runs)], dtype=float)
    return SimpleNamespace(
        name="Synthetic",
        figures={
            "arr_growth_y1": growth,
            "arr_end": arr[:, -1].astype(float),
            "cac": cac,
        },
        weekly={"arr": arr},
        scenario=SimpleNamespace(company=SimpleNamespace(initial_arr=100.0)),
        settings=SimpleNamespace(horizon_weeks=weeks),
    )


def test_target_probability_and_standard_error():
    result = synthetic()
    prob = figure_probability(result, "arr_growth_y1", 0.7)
    assert prob.p == pytest.approx(0.3)  # runs 7, 8, 9
    assert prob.se == pytest.approx(math.sqrt(0.3 * 0.7 / 10))
    assert prob.n == 10
    # Less is better for CAC; the run without a deal is left out.
    cac = figure_probability(result, "cac", 3)
    assert (cac.p, cac.n, cac.lower_is_better) == (pytest.approx(3 / 9), 9, True)
    assert math.isnan(target_probability([np.nan], 1).p)


def test_reach_weeks_from_weekly_runs():
    result = synthetic()
    assert reach_weeks(result.weekly["arr"], 150.0) == {0.5: 4, 0.9: 8}
    assert reach_weeks(result.weekly["arr"], 151.0) == {0.5: None, 0.9: None}
    # A growth target is read on ARR at initial_arr * (1 + target).
    assert figure_reach_weeks(result, "arr_growth_y1", 0.5) == {0.5: 4, 0.9: 8}
    assert figure_reach_weeks(result, "arr_end", 100.0) == {0.5: 0, 0.9: 0}
    assert figure_reach_weeks(result, "cac", 3.0) is None


def test_target_artists_on_distribution_and_fan(comparison):
    ax = Figure().add_subplot()
    results = comparison.results
    charts.plot_distribution(ax, results, "arr_growth_y1")
    probs = [figure_probability(r, "arr_growth_y1", 0.05) for r in results]
    line, text = charts.add_target_to_distribution(
        ax, results, "arr_growth_y1", 0.05, probs
    )
    assert line.get_xdata()[0] == 0.05
    assert "Siloed: reached in" in text.get_text()
    ax = Figure().add_subplot()
    charts.plot_fans(ax, results, "arr")
    reach = [figure_reach_weeks(r, "arr_end", 1e7) for r in results]
    added = charts.add_target_to_fan(ax, results, 1e7, reach, label="$10M")
    markers = sum(w is not None for r in reach for w in r.values())
    # the line, the markers, and the caption's lines: the target, each scenario
    assert len(added) == 1 + markers + 1 + len(results)


# ----------------------------------------------------------------------------- CLI


def test_cli_report_writes_every_file(tmp_path, capsys):
    pdf, pptx, csv = tmp_path / "r.pdf", tmp_path / "r.pptx", tmp_path / "r.csv"
    code = main(
        [
            "report", "siloed", "aligned", "--pdf", str(pdf), "--pptx", str(pptx),
            "--csv", str(csv), "--runs", "100", "--weeks", "20", "--warmup", "4",
            "--seed", "3", "--no-bridge", "--target", "arr_end=9e6",
        ]
    )  # fmt: skip
    assert code == 0
    assert count_pages(pdf) > 5
    assert report.read_csv(csv).seed == 3
    assert (tmp_path / "r_weekly.csv").exists() and pptx.stat().st_size > 10_000
    assert str(pdf) in capsys.readouterr().out
    check_deck(pptx)


def test_cli_deck_of_siloed_and_aligned_with_its_bridge(tmp_path):
    """What a consultant types: a deck with the bridge of all eight levers."""
    pptx = tmp_path / "deck.pptx"
    args = ["report", "siloed", "aligned", "--pptx", str(pptx), "--runs", "300"]
    assert main([*args, "--bridge-runs", "40"]) == 0
    deck = check_deck(pptx)
    titles = [s.shapes[0].text_frame.text for s in deck.slides]
    assert "Each lever's fair share" in titles


def test_cli_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", "siloed", "aligned", "--runs", "50"]) == 2
    assert "nothing to write" in capsys.readouterr().err
    out = str(tmp_path / "x.csv")
    args = ["report", "siloed", "aligned", "--csv", out, "--runs", "50"]
    assert main([*args, "--weeks", "10", "--target", "nope=1"]) == 2
    assert "unknown figure 'nope'" in capsys.readouterr().err
    assert main(["report", "siloed", "aligned", "--pptx", str(tmp_path)]) == 2
    assert "is a folder; give a file name" in capsys.readouterr().err
