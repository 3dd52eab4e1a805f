"""The story in the app: bridge and drivers views, targets, exports, workshop."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.views.canvas import save_chart_dialog
from gui.views.story import BridgeView, DriversView
from gui.views.workshop import WorkshopWindow
from simulator.analysis.bridge import with_overrides
from simulator.analysis.targets import figure_probability, figure_reach_weeks
from simulator.model.scenario_io import load_lever, load_scenario
from simulator.report import export as report
from simulator.run.runner import RunSettings, compare

TINY = RunSettings(runs=100, horizon_weeks=20, warmup_weeks=4, seed=1)
#: A year, so the workshop's headline is ARR growth over year 1 (in %).
YEAR = RunSettings(runs=100, horizon_weeks=52, warmup_weeks=4, seed=1)
LEVERS = ("speed_to_lead", "sales_works_every_lead")


@pytest.fixture(scope="module")
def two_levers():
    base = load_scenario("siloed")
    overrides = [o for lever in LEVERS for o in load_lever(lever).set.items()]
    alt = with_overrides(base, overrides, name="Two levers", levers=LEVERS)
    return base, alt


@pytest.fixture(scope="module")
def small_comparison(two_levers):
    base, alt = two_levers
    return compare(base, [alt], settings=TINY)


def test_bridge_view_computes_in_background_and_draws(qtbot, small_comparison):
    view = BridgeView()
    qtbot.addWidget(view)
    view.show()
    view.set_comparison(small_comparison)
    view.bar.runs.setValue(60)
    with qtbot.waitSignal(view.computed, timeout=30_000):
        view.bar.compute_button.click()
        assert view.runner.busy  # the GUI thread is free while it runs
    bridge = view.bridge
    assert [s.id for s in bridge.steps] == list(LEVERS)
    assert bridge.settings.runs == 60
    (waterfall,) = view.canvas.figure.axes
    assert len(waterfall.patches) == 2 + len(bridge.steps)
    view.shapley_button.setChecked(True)
    (shapley,) = view.canvas.figure.axes
    assert len(shapley.patches) == len(bridge.shapley)
    assert "scenarios x 60 runs" in view.bar.status.text()


def test_bridge_cancel(qtbot):
    view = BridgeView()
    qtbot.addWidget(view)
    big = compare(
        load_scenario("siloed"), [load_scenario("aligned")], settings=TINY
    )  # 8 levers: 256 scenarios, long enough to cancel
    view.set_comparison(big)
    view.bar.compute_button.click()
    with qtbot.waitSignal(view.runner.cancelled, timeout=20_000):
        view.bar.cancel_button.click()
    qtbot.waitUntil(lambda: not view.runner.busy, timeout=10_000)
    assert view.bridge is None and view.bar.status.text() == "Cancelled."


def test_drivers_view_ranks_levers(qtbot, small_comparison):
    view = DriversView()
    qtbot.addWidget(view)
    view.show()
    view.set_comparison(small_comparison)
    assert view.scenario_box.currentText() == "Two levers"
    view.bar.runs.setValue(60)
    with qtbot.waitSignal(view.computed, timeout=30_000):
        view.bar.compute_button.click()
    effects = view.drivers.effects
    swings = [e.swing for e in effects]
    assert swings == sorted(swings, reverse=True)
    ax = view.canvas.figure.axes[0]
    assert len(ax.patches) == 2 * min(len(effects), 10)


def test_target_both_ways_and_fan(window, wait_final, qtbot):
    wait_final(window)
    results = window.results
    targets = results.targets
    results.tabs.setCurrentWidget(results.distribution)
    assert targets.figure == "arr_growth_y1"
    # model -> UI: the spin box shows percent, the chart the line and the box
    targets.set_value(0.1)
    assert targets.spin.value() == pytest.approx(10.0)
    ax = results.distribution.canvas.figure.axes[0]
    lines = [a for a in ax.get_lines() if a.get_gid() == "target"]
    assert len(lines) == 1 and lines[0].get_xdata()[0] == pytest.approx(0.1)
    comparison = window.results.comparison
    expected = [figure_probability(r, "arr_growth_y1", 0.1) for r in comparison.results]
    got = targets.probabilities()
    assert [p.p for p in got] == [p.p for p in expected]
    # each scenario's chance with its standard error, or, where every run or
    # none reaches it (a binomial s.e. of 0), the count of runs
    caption = ax.texts[-1].get_text()
    for result, prob in zip(comparison.results, got, strict=True):
        line = next(x for x in caption.splitlines() if x.startswith(result.name))
        certain = prob.p in (0.0, 1.0)
        assert (f"of {prob.n:,} runs" in line) if certain else ("±" in line), line
    # UI -> model: typing, and dragging on the chart
    targets.spin.setValue(12.5)
    assert targets.value() == pytest.approx(0.125)
    event = SimpleNamespace(button=1, inaxes=ax, xdata=0.02)
    targets._on_press(event)
    targets._on_motion(SimpleNamespace(inaxes=ax, xdata=0.03))
    targets._on_release(None)
    assert targets.value() == pytest.approx(0.03)
    assert targets.spin.value() == pytest.approx(3.0)
    lines = [a for a in ax.get_lines() if a.get_gid() == "target"]
    assert len(lines) == 1  # moved, not duplicated
    reach = [figure_reach_weeks(r, "arr_growth_y1", 0.03) for r in comparison.results]
    assert "week" in targets.info.text() or "not within" in targets.info.text()
    # the fan chart marks the weeks it is reached with 50 % and 90 % probability
    results.tabs.setCurrentWidget(results.overview)
    results.overview.refresh()
    assert targets._fan_artists
    markers = sum(w is not None for r in reach for w in r.values())
    # the line, the markers, and the caption's lines: the target, each scenario
    assert len(targets._fan_artists) == 1 + markers + 1 + len(comparison.results)


def test_export_menu_writes_csv_in_background(window, wait_final, qtbot, tmp_path):
    wait_final(window)
    exports = window.results.exports
    with qtbot.waitSignal(exports.exported, timeout=30_000) as done:
        assert exports.export("csv", tmp_path / "run.csv")
    paths = done.args[0]
    back = report.read_csv(paths[0])
    comparison = window.results.comparison
    np.testing.assert_array_equal(
        back.data["Aligned"]["arr_end"], comparison.alternatives[0].figures["arr_end"]
    )
    assert "Written: run.csv" in window.results.export_status.text()


def test_chart_saves_as_png_and_svg(window, wait_final, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    wait_final(window)
    canvas = window.results.overview.canvas
    for kind in ("png", "svg"):
        target = tmp_path / f"fan.{kind}"
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", lambda *a, t=target, **k: (str(t), "")
        )
        assert save_chart_dialog(canvas, kind) == target
    assert (tmp_path / "fan.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "fan.svg").read_text()[:500]


def test_workshop_steps_predicts_and_closes(qtbot, two_levers):
    base, alt = two_levers
    win = WorkshopWindow(base, alt, YEAR, predict=True, animation_ms=0)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    win.next()  # before the steps are ready: stays, says so
    assert win.position == 0
    with qtbot.waitSignal(win.ready, timeout=30_000):
        pass
    kinds = [(s.kind, s.step) for s in win.slides]
    assert kinds == [
        ("title", 0),
        ("predict", 1),
        ("reveal", 1),
        ("predict", 2),
        ("reveal", 2),
        ("closing", 2),
    ]
    assert len(win.steps) == 3 and win.steps[1].name == "Speed to lead"
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.slide.kind == "predict" and win.guess.isVisible()
    win.guess.setValue(3.0)
    qtbot.keyClick(win.guess, Qt.Key.Key_Right)  # arrows turn slides from the box
    assert win.slide.kind == "reveal" and win.guesses[1] == pytest.approx(0.03)
    line = win._line
    np.testing.assert_allclose(line.get_ydata(), win.steps[1].arr["p50"])
    assert "your guess" in win.body.text()
    qtbot.keyClick(win, Qt.Key.Key_Left)
    assert win.slide.kind == "predict" and win.guess.value() == pytest.approx(3.0)
    for _ in range(3):
        qtbot.keyClick(win, Qt.Key.Key_Space)
    assert win.slide.kind == "reveal" and win.slide.step == 2
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.slide.kind == "closing"
    ax = win.canvas.figure.axes[0]
    model, guesses = ax.get_lines()[:2]
    np.testing.assert_allclose(model.get_ydata(), [s.value * 100 for s in win.steps])
    assert list(guesses.get_xdata()) == sorted(win.guesses)
    assert "guesses" in win.body.text()
    qtbot.keyClick(win, Qt.Key.Key_Right)  # the last slide stays
    assert win.slide.kind == "closing"
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert not win.isVisible()


def test_workshop_reveal_animates_to_the_new_result(qtbot, two_levers):
    base, alt = two_levers
    win = WorkshopWindow(base, alt, YEAR, predict=False, animation_ms=120)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.ready, timeout=30_000):
        pass
    assert [s.kind for s in win.slides] == ["title", "reveal", "reveal"]
    frames = []
    win.animation.valueChanged.connect(frames.append)
    win.next()
    qtbot.waitUntil(
        lambda: win.animation.state() == win.animation.State.Stopped, timeout=5_000
    )
    assert len(frames) >= 2  # several frames, not a jump
    np.testing.assert_allclose(win._line.get_ydata(), win.steps[1].arr["p50"])


def test_cards_say_net_value_and_caveat_and_cac_is_better(qtbot):
    """Aligned vs siloed on the overview: the difference card gives the net
    value and the caveat; a lower CAC counts as better in nearly every run."""
    from gui.views.panel import ResultsPanel
    from simulator.report.caveats import SPREAD_CAVEAT

    comparison = compare(
        load_scenario("siloed"),
        [load_scenario("aligned")],
        settings=RunSettings(runs=250, horizon_weeks=52, warmup_weeks=12, seed=4),
    )
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.resize(1280, 720)
    panel.show()
    panel.show_comparison(comparison, final=True)
    card = panel.overview.cards[-1].body.text()
    assert "Net value" in card and "the cost" in card
    # A share of runs at 100 % is counted, not given a "± 0 points" error.
    growth = comparison.differences[0]["arr_growth_y1"]
    if growth["p_better"] == 1.0:
        assert "Better in every one of 250 runs" in card
    assert "± 0 points" not in card and "± 0.0 points" not in card
    assert panel.overview.caveat.isVisible()
    assert panel.overview.caveat.text() == SPREAD_CAVEAT
    cac = comparison.differences[0]["cac"]
    assert cac["p_better"] > 0.95
    rows = {row[0]: row for row in panel.table.rows()}
    cac_row = next(row for name, row in rows.items() if name.endswith("[cac]"))
    assert cac_row[-1].startswith(("9", "100"))  # P(better) of a lower CAC


def test_workshop_keeps_the_caveat_in_view(qtbot, two_levers):
    base, alt = two_levers
    win = WorkshopWindow(base, alt, YEAR, predict=False, animation_ms=0)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    assert win.caveat.isVisible() and "best-versus-worst" in win.caveat.text()
    same = WorkshopWindow(base, base, YEAR, predict=False, animation_ms=0)
    qtbot.addWidget(same)
    same.show()
    assert not same.caveat.isVisible()
    for window in (win, same):
        window.close()
