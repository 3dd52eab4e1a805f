"""The overview shows a new comparison of the same scenarios by moving the
artists it drew (the preview's draw is on the critical path), and it looks
exactly as if it had drawn them anew: limits, data, titles, target."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gui.results import ResultsPanel
from simulator.model.scenario_io import load_scenario
from simulator.run.runner import RunSettings, compare

SETTINGS = RunSettings(runs=100, horizon_weeks=60, warmup_weeks=12, seed=7)
#: ARR growth targets: one the aligned fan crosses, one far above both fans
#: (its line widens the axis, and must stop doing so once it moves down).
LOW_TARGET, HIGH_TARGET = 0.05, 3.0


@pytest.fixture(scope="module")
def comparisons():
    """Siloed vs aligned at three deal sizes; the last with more runs (the title
    says how many)."""
    base = load_scenario("siloed")
    return [
        compare(
            base,
            [load_scenario("aligned", overrides={"deals.acv_median": acv})],
            settings=settings,
        )
        for acv, settings in (
            (60_000.0, SETTINGS),
            (90_000.0, SETTINGS),
            (40_000.0, replace(SETTINGS, runs=150)),
        )
    ]


def open_panel(qtbot) -> ResultsPanel:
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    return panel


def drawn_anew(qtbot, comparison, target: float) -> ResultsPanel:
    """A new panel: the overview of ``comparison`` built from scratch, with the
    target on its fan chart."""
    panel = open_panel(qtbot)
    panel.targets.set_value(target, "arr_growth_y1")
    panel.show_comparison(comparison, final=True)
    return panel


def look(panel: ResultsPanel) -> list[dict]:
    """What the overview's charts show, Axes by Axes."""
    return [
        {
            "xlim": ax.get_xlim(),
            "ylim": ax.get_ylim(),
            "title": ax.get_title(loc="left"),
            "legend": [text.get_text() for text in ax.get_legend().get_texts()],
            "texts": [text.get_text() for text in ax.texts],
            "lines": [np.column_stack(line.get_data()) for line in ax.get_lines()],
            "bands": [p.vertices for band in ax.collections for p in band.get_paths()],
        }
        for ax in panel.overview.canvas.figure.axes
    ]


def assert_same_look(got: list[dict], expected: list[dict]) -> None:
    for ax_got, ax_expected in zip(got, expected, strict=True):
        for key in ("xlim", "title", "legend", "texts"):
            assert ax_got[key] == ax_expected[key], key
        # The target line adds to the limits through a round trip to display
        # coordinates, which leaves the last bit to the view it is added in.
        np.testing.assert_allclose(ax_got["ylim"], ax_expected["ylim"], rtol=1e-12)
        for key in ("lines", "bands"):
            assert len(ax_got[key]) == len(ax_expected[key]), key
            for array_got, array_expected in zip(
                ax_got[key], ax_expected[key], strict=True
            ):
                np.testing.assert_array_equal(array_got, array_expected)


def test_new_comparison_moves_the_artists_and_looks_as_if_drawn_anew(
    qtbot, comparisons
):
    first, second, third = comparisons
    panel = drawn_anew(qtbot, first, LOW_TARGET)
    fan = panel.overview.canvas.figure.axes[0]
    median = fan.get_lines()[0]
    for comparison, target in (
        (second, HIGH_TARGET),
        (first, LOW_TARGET),
        (third, HIGH_TARGET),
        (second, LOW_TARGET),
    ):
        panel.show_comparison(comparison, final=False)
        panel.targets.set_value(target, "arr_growth_y1")  # redraws the overview
        assert fan.get_lines()[0] is median  # moved, not drawn anew
        # one target caption (a line each: the target, then each scenario's
        # weeks), not one per update
        assert len(fan.texts) == 1 + len(comparison.results)
        assert_same_look(look(panel), look(drawn_anew(qtbot, comparison, target)))
    assert "150 runs" in look(drawn_anew(qtbot, third, LOW_TARGET))[0]["title"]


def test_another_series_or_scenarios_are_drawn_anew(qtbot, comparisons):
    panel = drawn_anew(qtbot, comparisons[0], LOW_TARGET)
    overview = panel.overview
    built = overview.canvas.figure.axes
    overview.series_box.setCurrentIndex(overview.series_box.findData("revenue"))
    fan, _paired = overview.canvas.figure.axes
    assert fan is not built[0]
    assert fan.get_title(loc="left").startswith("Revenue per week")
    alone = compare(load_scenario("siloed"), settings=SETTINGS)
    panel.show_comparison(alone, final=False)
    fan_alone, paired = overview.canvas.figure.axes
    assert fan_alone is not fan and not paired.get_visible()
    assert [line.get_label() for line in fan_alone.get_lines()] == ["Siloed"]


def canvas_pixels(canvas) -> np.ndarray:
    return np.asarray(canvas.buffer_rgba()).copy()


def test_a_preview_like_the_last_redraws_only_its_data(qtbot, comparisons) -> None:
    """Previews in a row keep each chart's scale while the new data fits it, and
    then redraw the data alone over the last draw's background (blitting): the
    pixels are those of a full draw. A preview whose data leave the scale is
    drawn in full, rescaled."""
    first, second, _third = comparisons
    panel = drawn_anew(qtbot, first, LOW_TARGET)
    canvas = panel.overview.canvas
    nearly_first = compare(
        load_scenario("siloed"),
        [load_scenario("aligned", overrides={"deals.acv_median": 60_500.0})],
        settings=SETTINGS,
    )
    panel.show_comparison(first, final=False)
    qtbot.waitUntil(lambda: not canvas.blit_next)  # (drawn)
    limits = [ax.get_ylim() for ax in canvas.figure.axes]
    full_draws = []
    draw_in_full = canvas._draw_in_full
    canvas._draw_in_full = lambda: (full_draws.append(1), draw_in_full())
    panel.show_comparison(nearly_first, final=False)
    qtbot.waitUntil(lambda: not canvas.blit_next)
    assert not full_draws, "the preview was drawn in full"
    assert [ax.get_ylim() for ax in canvas.figure.axes] == limits
    blitted = canvas_pixels(canvas)
    canvas.texts.clear()  # (every text drawn afresh too)
    canvas.draw()  # in full, the same figure
    assert full_draws
    np.testing.assert_array_equal(blitted, canvas_pixels(canvas))

    full_draws.clear()
    panel.show_comparison(second, final=False)  # far larger deals
    qtbot.waitUntil(lambda: not canvas.blit_next)
    assert full_draws
    fan_limits = canvas.figure.axes[0].get_ylim()
    assert fan_limits[1] > limits[0][1]
    assert_same_look(look(panel), look(drawn_anew(qtbot, second, LOW_TARGET)))


def test_texts_drawn_before_are_laid_back_as_drawn(qtbot, comparisons, drawn_texts):
    """A text drawn before at the same place, over the same pixels, is laid back
    rather than drawn (a preview's title after its full run's, the tick labels
    that did not move): the pixels are those of drawing it."""
    drawn = drawn_texts  # (before any canvas has a renderer)
    first, _second, third = comparisons
    panel = drawn_anew(qtbot, first, LOW_TARGET)  # titles: "100 runs"
    canvas = panel.overview.canvas
    canvas.draw()
    panel.show_comparison(third, final=True)  # "150 runs"
    canvas.draw()
    drawn.clear()
    panel.show_comparison(first, final=False)
    canvas.draw()
    titles = [ax.get_title(loc="left") for ax in canvas.figure.axes]
    assert "100 runs" in titles[0]
    # (as drawn: an escaped dollar sign is drawn as one)
    texts = [t.get_text().replace("\\$", "$") for t in canvas.figure.axes[0].texts]
    assert len(texts) == 3
    caption = [line for text in texts for line in text.split("\n")]  # (drawn so)
    assert not set(titles + caption) & set(drawn), "a text drawn before was drawn again"
    laid_back = canvas_pixels(canvas)
    canvas.texts.clear()
    drawn.clear()
    canvas.draw()
    assert set(titles + caption) <= set(drawn)
    np.testing.assert_array_equal(laid_back, canvas_pixels(canvas))
