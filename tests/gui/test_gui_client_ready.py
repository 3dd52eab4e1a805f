"""The app in front of a client: small screens, legible charts, one set of
numbers across views, editing as people expect it."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    QWidget,
)

from simulator.report import charts

# --------------------------------------------------------------------- screens

#: A 1280x720 screen less a 40-pixel task bar.
SMALL_SCREEN = QRect(0, 0, 1280, 680)


def _inside_scroll_area(widget: QWidget, top: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _controls_off_window(window: QWidget) -> list[str]:
    """Visible controls not wholly inside the window (those in a scroll area
    count when their scroll area is inside: they are reached by scrolling)."""
    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QProgressBar)
    area = window.rect()
    off = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, (*kinds, QScrollArea)):
            continue
        if not widget.isVisibleTo(window) or _inside_scroll_area(widget, window):
            continue
        if isinstance(widget, QLineEdit) and isinstance(
            widget.parentWidget(), (QAbstractSpinBox, QComboBox)
        ):
            continue  # part of its spin or combo box
        top_left = widget.mapTo(window, widget.rect().topLeft())
        rect = QRect(top_left, widget.size())
        if rect.width() <= 0 or rect.height() <= 0 or not area.contains(rect):
            name = widget.objectName() or type(widget).__name__
            text = getattr(widget, "text", lambda: "")()
            off.append(f"{name} {text!r} at {rect.getRect()}")
    return off


def test_the_window_fits_a_1280x720_screen_with_every_control_reachable(
    qtbot, window, wait_final
):
    window.fit_to_screen(free=SMALL_SCREEN)
    assert SMALL_SCREEN.contains(window.frameGeometry())
    hint = window.minimumSizeHint()
    assert hint.width() <= SMALL_SCREEN.width()
    assert hint.height() <= SMALL_SCREEN.height()
    wait_final(window)
    results = window.results
    for index in range(results.tabs.count()):
        results.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        assert _controls_off_window(window) == [], results.tabs.tabText(index)
        assert results.tabs.currentWidget().height() > 250
    # The run bar stays in view, and the editor folds away for the results.
    for control in (window.run_button, window.cancel_button, window.runs_spin):
        assert control.isVisible()
    width = results.width()
    window.toggle_editor()
    QApplication.processEvents()
    assert not window.editor_shown() and not window.editor_action.isChecked()
    assert results.width() > width + 300
    window.toggle_editor()
    assert window.editor_shown()


def test_a_restored_window_larger_than_the_screen_is_cut_down(window):
    window.resize(1900, 1200)
    window.fit_to_screen(restored=True, free=SMALL_SCREEN)
    assert window.frameGeometry().width() <= SMALL_SCREEN.width()
    assert window.frameGeometry().height() <= SMALL_SCREEN.height()


def test_progress_shows_where_the_results_appear(window):
    results = window.results
    window._on_phase("Preparing the engine (first run only)")
    assert results.busy.isVisible()
    assert "compiling" in results.busy_label.text()
    window._on_progress(0.5)
    assert results.busy_bar.value() == 500
    window._on_busy(False)
    assert not results.busy.isVisible()


# --------------------------------------------------------------------- charts


def _points_in(bbox, xy) -> bool:
    inside = (
        (xy[:, 0] > bbox.x0)
        & (xy[:, 0] < bbox.x1)
        & (xy[:, 1] > bbox.y0)
        & (xy[:, 1] < bbox.y1)
    )
    return bool(inside.any())


def covered_by_legends(fig) -> list[str]:
    """Data artists that a legend of the figure (an Axes' or the figure's) is
    drawn over, judged on the drawn extents."""
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    legends += list(fig.legends)
    covered = []
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            clip = ax.bbox
            for artist in ax.get_children():
                if not artist.get_visible() or artist is legend:
                    continue
                if isinstance(artist, Line2D):
                    xy = artist.get_transform().transform(artist.get_xydata())
                    xy = xy[np.isfinite(xy).all(axis=1)]
                    xy = xy[
                        (xy[:, 0] >= clip.x0)
                        & (xy[:, 0] <= clip.x1)
                        & (xy[:, 1] >= clip.y0)
                        & (xy[:, 1] <= clip.y1)
                    ]
                    if len(xy) > 1:  # a line: its segments, finely sampled
                        steps = np.linspace(0, 1, 8)[:, None, None]
                        xy = (xy[:-1] + steps * (xy[1:] - xy[:-1])).reshape(-1, 2)
                    if _points_in(box, xy):
                        covered.append(f"line {artist.get_label()}")
                elif isinstance(artist, PolyCollection):
                    transform = artist.get_transform()
                    for path in artist.get_paths():
                        drawn = path.transformed(transform)
                        if drawn.intersects_bbox(box, filled=True) and (
                            drawn.get_extents().overlaps(clip)
                        ):
                            covered.append("band")
                            break
                elif isinstance(artist, Rectangle) and artist is not ax.patch:
                    extent = artist.get_window_extent(renderer)
                    if extent.width > 0 and extent.height > 0 and extent.overlaps(box):
                        covered.append("bar")
    return covered


def test_legends_do_not_cover_data_in_any_view(qtbot, window, wait_final):
    window.fit_to_screen(free=SMALL_SCREEN)
    wait_final(window)
    results = window.results
    window.add_scenario()  # three scenarios: the longest legends
    wait_final(window, after=window.final_results)
    checked = 0
    for view in (results.overview, results.distribution, results.dynamics):
        results.tabs.setCurrentWidget(view)
        kinds = [None]
        if view is results.distribution:
            kinds = [view.hist_button, view.ecdf_button]
        for button in kinds:
            if button is not None:
                button.setChecked(True)
            view.refresh()
            view.canvas.draw()
            fig = view.canvas.figure
            assert covered_by_legends(fig) == [], type(view).__name__
            checked += sum(ax.get_legend() is not None for ax in fig.axes)
            checked += len(fig.legends)
    assert checked >= 5


def test_the_checker_sees_a_legend_over_data():
    """The check above can fail: a legend placed on the lines is caught."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    x = np.linspace(0, 1, 50)
    ax.plot(x, np.full_like(x, 0.95), label="high line")
    ax.plot(x, x, label="rising")
    ax.legend(loc="upper left", frameon=True)
    FigureCanvasAgg(fig).draw()
    assert covered_by_legends(fig)


def _tick_labels(axis_setup, low, high):
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [low, high])
    axis_setup(ax)
    FigureCanvasAgg(fig).draw()
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text()], list(
        ax.get_yticks()
    )


def test_ticks_fall_on_round_values_in_one_unit():
    labels, _ = _tick_labels(lambda ax: charts._axis_for(ax.yaxis, "arr"), 1.2e9, 2.6e9)
    assert labels and all(t.endswith("B") for t in labels), labels
    assert not any("M" in t for t in labels)
    labels, ticks = _tick_labels(
        lambda ax: charts._axis_for(ax.yaxis, "arr_growth_y1"), -0.01, 0.09
    )
    steps = np.diff(ticks) * 100
    assert np.allclose(steps, steps[0]) and round(steps[0], 9) in (1, 2, 5, 10)
    assert all(t.endswith("\u00a0%") for t in labels), labels
    labels, _ = _tick_labels(
        lambda ax: charts._axis_for(ax.yaxis, "arr_growth_y1", difference=True),
        -0.02,
        0.2,
    )
    assert "+10" in labels and "%" not in "".join(labels)
    labels, _ = _tick_labels(lambda ax: charts._axis_for(ax.yaxis, "arr"), 2e5, 1.9e6)
    # "$500K, $1.0M" never mixes; zero is "$0".
    assert len({t[-1] for t in labels if t != "$0"}) == 1, labels


# --------------------------------------------------------------------- numbers


@pytest.mark.slow
def test_the_same_figure_reads_the_same_in_every_view_and_export(
    qtbot, window, wait_final, tmp_path
):
    wait_final(window)
    results = window.results
    comparison = results.comparison
    runs = comparison.baseline.settings.runs
    figure = "arr_growth_y1"
    base = comparison.baseline.summary[figure]["p50"]
    alt = comparison.alternatives[0].summary[figure]["p50"]
    card = results.overview.cards[1].body.text()
    assert charts.fmt_share(alt, signed=True) in card

    bridge = results.bridge
    bridge.bar.match_button.click()  # the Overview's runs
    assert bridge.bar.runs.value() == runs
    with qtbot.waitSignal(bridge.computed, timeout=120_000):
        bridge.compute()
    assert bridge.bridge.baseline_value == pytest.approx(base, abs=1e-12)
    assert bridge.bridge.alternative_value == pytest.approx(alt, abs=1e-12)

    drivers = results.drivers
    drivers.scenario_box.setCurrentIndex(1)
    drivers.bar.runs.setValue(runs)
    with qtbot.waitSignal(drivers.computed, timeout=120_000):
        drivers.compute()
    assert drivers.drivers.base_value == pytest.approx(alt, abs=1e-12)
    assert drivers.drivers.warmed_up_as == comparison.baseline.name
    drivers.refresh()
    label = drivers.canvas.figure.axes[0].get_xlabel()
    assert charts.fmt_figure(figure, alt) in label

    # The exports: the per-run CSV's median, the deck's summary in words.
    from pptx import Presentation

    from simulator.report import export as report

    csv_path, _weekly = report.write_csv(comparison, tmp_path / "runs.csv")
    exported = report.read_csv(csv_path).data[comparison.alternatives[0].name]
    assert float(np.median(exported[figure])) == pytest.approx(alt, abs=1e-9)
    deck = report.write_pptx(
        comparison,
        tmp_path / "deck.pptx",
        bridge=bridge.bridge,
        drivers=drivers.drivers,
        target=None,
    )
    words = " ".join(
        shape.text_frame.text
        for slide in Presentation(str(deck)).slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    assert charts.fmt_share(alt, signed=True) in words
    assert charts.fmt_share(base, signed=True) in words

    # With fewer runs the views may differ, and then say so beside the number.
    bridge.bar.runs.setValue(60)
    with qtbot.waitSignal(bridge.computed, timeout=120_000):
        bridge.compute()
    bridge.refresh()
    note = bridge.canvas.figure.axes[0].get_xlabel()
    if charts.fmt_figure(figure, bridge.bridge.alternative_value) != (
        charts.fmt_figure(figure, alt)
    ):
        assert f"Overview's {runs:,} runs give" in note, note
        assert charts.fmt_figure(figure, alt) in note


def test_no_target_is_drawn_or_exported_until_asked_for(qtbot, window, wait_final):
    wait_final(window)
    results = window.results
    targets = results.targets
    results.tabs.setCurrentWidget(results.distribution)
    results.distribution.refresh()
    ax = results.distribution.canvas.figure.axes[0]
    assert not [line for line in ax.lines if line.get_gid() == "target"]
    assert results.exports._extras()["target"] is None
    targets.enabled.setChecked(True)  # the suggestion, which says so
    ax = results.distribution.canvas.figure.axes[0]
    captions = " ".join(t.get_text() for t in ax.texts)
    assert "suggested" in captions
    targets.set_value(0.10)
    ax = results.distribution.canvas.figure.axes[0]
    captions = " ".join(t.get_text() for t in ax.texts)
    assert "suggested" not in captions and "10.0" in captions
    assert results.exports._extras()["target"] == ("arr_growth_y1", 0.10)


def test_differences_of_shares_are_points_in_the_table(qtbot, window, wait_final):
    wait_final(window)
    rows = window.results.table.rows()
    growth = next(r for r in rows if r[0].endswith("[arr_growth_y1]"))
    assert growth[6].endswith("points") and "points" in growth[7]
    assert "%" in growth[2]


# --------------------------------------------------------------------- editing


def test_undo_and_redo_work_with_focus_in_a_field(qtbot, window):
    window.tabs.setCurrentIndex(1)
    doc = window.docs[1]
    field = window.panes[1].editor.field("company.annual_churn")
    before = doc.scenario.company.annual_churn
    assert field.percent  # shown and typed in percent
    field.widget.setValue(20.0)
    assert doc.scenario.company.annual_churn == pytest.approx(0.2)
    text = window.undo_action.text().replace("&", "")
    assert text.startswith("Undo: Annual churn") and "→ 20 % a year" in text
    window.activateWindow()
    field.widget.setFocus()
    qtbot.waitUntil(field.widget.hasFocus, timeout=2000)
    qtbot.keyClick(field.widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.scenario.company.annual_churn == pytest.approx(before)
    assert field.widget.value() == pytest.approx(before * 100)
    # Typing not yet applied is what Ctrl+Z takes back first; the edit before
    # it stays.
    field.widget.setValue(20.0)
    qtbot.keyClick(field.widget, Qt.Key.Key_End)
    qtbot.keyClicks(field.widget, "5")
    assert field.widget.lineEdit().text() != field.widget.textFromValue(20.0)
    qtbot.keyClick(field.widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.scenario.company.annual_churn == pytest.approx(0.2)


def test_new_scenario_adds_a_tab(window):
    names = [d.name for d in window.docs]
    slot = window.new_scenario()
    assert slot == 2 and [d.name for d in window.docs][:2] == names
    assert window.tabs.count() == 3 and window.tabs.currentIndex() == 2
    assert window.docs[2].name == "Untitled scenario"


def test_help_menu_and_file_export(window):
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert "Help" in menus
    guide = window.show_model_guide()
    assert "FunnelSim model guide" in guide.browser.toPlainText()
    guide.search.setText("feedback loops")
    assert guide.find_next()
    # The contents' links go to their sections.
    assert guide.go_to_section("7-caveats-what-the-numbers-do-not-show")
    assert guide.browser.verticalScrollBar().value() > 0
    guide.close()
    from gui.helpdocs import about_text, find_guide

    assert find_guide() is not None and "FunnelSim" in about_text()
    exports = [a.text().replace("&", "") for a in window.export_menu.actions()]
    assert any("PDF" in t for t in exports) and any("PowerPoint" in t for t in exports)
    assert any(a.menu() is window.export_menu for a in menus["File"].actions())


def test_banners_clear_when_no_longer_true(qtbot, window, wait_final):
    wait_final(window)
    results = window.results
    results.show_comparison(results.comparison, False)
    assert "Preview" in results.info.text()
    window.cancel_run()
    assert "full run follows" not in results.info.text()
    assert "cancelled" in results.info.text()

    doc = window.docs[1]
    doc.set_value("company.annual_churn", 0.2)
    window.messages.show_message(
        "Restored unsaved edits", "info", while_true=lambda: doc.modified
    )
    assert window.messages.isVisible()
    doc.undo_stack.undo()  # the restored edit undone: nothing left to save
    assert not window.messages.isVisible()


def test_ranges_are_editable_in_the_app(window):
    pane = window.panes[1]
    doc = window.docs[1]
    ranges = pane.ranges
    index = ranges.choice.findData("handoff.ignore_base")
    assert index >= 0
    ranges.choice.setCurrentIndex(index)
    ranges.add_button.click()
    tri = doc.scenario.uncertainty["handoff.ignore_base"]
    assert tri.low < tri.mode < tri.high
    assert "Ignore base" in doc.undo_stack.undoText()
    assert ranges.rows == ["handoff.ignore_base"]
    low_spin = ranges.table.cellWidget(0, 1)
    low_spin.setValue(tri.mode * 100 - 1)  # shown in %
    assert doc.scenario.uncertainty["handoff.ignore_base"].low == pytest.approx(
        tri.mode - 0.01
    )
    # A range that is no range (low above the most likely) is refused calmly.
    ranges.table.cellWidget(0, 1).setValue(tri.high * 100 + 5)
    assert "Not applied" in window.messages.label.text()
    ranges.table.cellWidget(0, 4).click()
    assert "handoff.ignore_base" not in doc.scenario.uncertainty


def test_the_terminal_writes_differences_of_shares_in_points_and_scales_money():
    from simulator.report.text import fmt, fmt_diff

    assert fmt_diff(0.052, "share") == "+5.2 points"
    assert fmt_diff(-0.0004, "share") == "0.0 points"  # never "-0.0"
    assert fmt(0.195, "share") == "19.5 %"  # a level stays a percentage
    assert fmt(2_000_000_000, "$") == "$2.00B"
    assert fmt(355_000, "$") == "$355.00K"
