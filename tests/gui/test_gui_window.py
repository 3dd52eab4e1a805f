"""The main window: editor both ways, runs, cancel, files, undo, prompts."""

from __future__ import annotations

import math
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gui.document import SnapshotCommand
from simulator.model.scenario_io import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SEED = 7  # conftest.FAST_RUNS


@pytest.fixture(autouse=True)
def _no_merge(monkeypatch):
    monkeypatch.setattr(SnapshotCommand, "merge_seconds", 0.0)


def test_scenario_to_editor(window):
    base = window.docs[0]
    editor = window.panes[0].editor
    assert editor.field("handoff.ignore_base").value() == pytest.approx(
        base.scenario.handoff.ignore_base
    )
    assert editor.field("marketing.reallocation.metric").value() == "mql"
    sources = base.scenario.marketing.sources
    assert editor.lists["marketing.sources"].table.rowCount() == len(sources)
    assert editor.field("marketing.sources.1.name").value() == sources[1].name
    # The alternative's lever-set values differ from what it extends: highlighted.
    alt_editor = window.panes[1].editor
    assert alt_editor.field("handoff.ignore_base").property("differs") is True
    assert alt_editor.field("company.initial_arr").property("differs") is False
    tip = alt_editor.field("handoff.ignore_base").toolTip()
    assert "sales ignores" in tip.lower() and "Differs from Siloed" in tip
    assert "Unit: % (type 12, 12% or 12 %" in tip


def test_editor_to_scenario(window):
    doc = window.docs[0]
    field = window.panes[0].editor.field("handoff.ignore_base")
    field.widget.setValue(20)  # shown and entered as a percentage
    assert doc.scenario.handoff.ignore_base == pytest.approx(0.2)
    assert doc.modified and window.tabs.tabText(0).endswith("*")
    assert field.property("differs") is True  # now differs from the preset
    # A budget share: the others are rescaled so the shares still sum to 1.
    window.panes[0].editor.field("marketing.sources.0.share").widget.setValue(60)
    shares = [s.share for s in doc.scenario.marketing.sources]
    assert shares[0] == pytest.approx(0.6)
    assert math.fsum(shares) == pytest.approx(1.0)
    # A range is enforced by the widget itself.
    field.widget.setValue(700.0)
    assert doc.scenario.handoff.ignore_base == pytest.approx(1.0)


def test_edit_reruns_with_new_values(qtbot, window, wait_final):
    wait_final(window)
    count = window.final_results
    window.panes[1].editor.field("deals.acv_median").widget.setValue(90_000)
    wait_final(window, after=count)
    alt = window.results.comparison.alternatives[0]
    assert alt.scenario.deals.acv_median == 90_000
    # An edited, unsaved scenario has no command line yet, and the label says
    # so (in rich text, the placeholder must not be read as a tag).
    assert "<save Aligned first>" in window.cli_command()
    assert "&lt;save Aligned first&gt;" in window.results.info.text()


def test_lists_add_remove_reorder(window):
    doc = window.docs[1]
    stages = window.panes[1].editor.lists["pipeline.stages"]
    stages.add_button.click()
    assert len(doc.scenario.pipeline.stages) == 4
    assert stages.table.rowCount() == 4
    stages.table.selectRow(0)
    stages.down_button.click()
    assert [s.name for s in doc.scenario.pipeline.stages][:2] == [
        "proposal",
        "discovery",
    ]
    stages.table.selectRow(3)
    stages.remove_button.click()
    assert len(doc.scenario.pipeline.stages) == 3
    sources = window.panes[1].editor.lists["marketing.sources"]
    sources.table.selectRow(0)
    sources.remove_button.click()
    shares = [s.share for s in doc.scenario.marketing.sources]
    assert len(shares) == 2 and math.fsum(shares) == pytest.approx(1.0)


def test_lever_switch_and_undo_redo(window):
    doc = window.docs[1]
    assert doc.scenario.nurture.enabled
    box = window.panes[1].levers.boxes["nurture"]
    box.setChecked(False)
    assert not doc.scenario.nurture.enabled and "nurture" not in doc.levers
    window.panes[1].editor.field("costs.alignment_weekly").widget.setValue(5000)
    assert doc.scenario.costs.alignment_weekly == 5000
    window.tabs.setCurrentIndex(1)
    window.undo_action.trigger()
    assert doc.scenario.costs.alignment_weekly == 3000
    window.undo_action.trigger()
    assert doc.scenario.nurture.enabled and box.isChecked()
    assert not doc.modified
    window.redo_action.trigger()
    assert not doc.scenario.nurture.enabled and not box.isChecked()
    window.redo_action.trigger()
    assert doc.scenario.costs.alignment_weekly == 5000
    assert window.panes[1].editor.field("costs.alignment_weekly").value() == 5000


def test_fields_say_which_lever_sets_them(window):
    """A lever's keys name list items (stages) by name, the editor's fields by
    index; a field set by a lever says so, and stops when the lever is off."""
    doc = window.docs[1]
    stage = [s.name for s in doc.scenario.pipeline.stages].index("proposal")
    dotted = f"pipeline.stages.{stage}.conversion"
    assert doc.lever_of(dotted) == "Shared messaging and enablement"
    assert doc.lever_of("company.annual_churn") == "Customer retention"
    assert doc.lever_of("deals.acv_median") is None
    window.panes[1].levers.boxes["retention"].setChecked(False)
    assert doc.lever_of("company.annual_churn") is None
    assert doc.lever_of(dotted) == "Shared messaging and enablement"


def test_run_fills_every_view(qtbot, wait_final, window):
    wait_final(window)
    results = window.results
    assert results.final
    results.refresh_all()
    overview = results.overview
    assert len(overview.cards) == 3
    assert "%" in overview.cards[0].body.text()
    assert "points" in overview.cards[2].body.text()
    fan, diff = overview.canvas.figure.axes
    assert len(fan.get_lines()) >= 2 and diff.get_lines()
    assert results.distribution.canvas.figure.axes[0].patches
    assert len(results.funnel.canvas.figure.axes) == 2
    assert len(results.dynamics.canvas.figure.axes) == 4
    table = results.table.table
    assert table.rowCount() >= 10 and table.columnCount() == 2 + 2 * 2 + 3
    text = results.table.text()
    assert text.splitlines()[0].startswith("Figure\tUnit")
    results.table.copy()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == text
    assert f"seed {SEED}" in results.info.text()
    from simulator.model.command import funnelsim_command

    command = funnelsim_command(relative=False)  # a whole path, or on the PATH
    assert f"{command} compare siloed aligned" in results.info.text()


def test_third_scenario(qtbot, wait_final, window):
    wait_final(window)
    count = window.final_results
    slot = window.add_scenario()
    assert slot == 2 and len(window.docs) == 3
    wait_final(window, after=count)
    assert len(window.results.comparison.alternatives) == 2
    assert window.remove_slot(2)
    assert len(window.docs) == 2


def test_cancel(qtbot, wait_final, window):
    wait_final(window)
    count = window.final_results
    window.runs_spin.setValue(50_000)  # long enough to be caught running
    qtbot.waitUntil(lambda: window.controller.busy, timeout=5000)
    qtbot.waitUntil(lambda: "Full run" in window.status.text(), timeout=20_000)
    started = time.monotonic()
    with qtbot.waitSignal(window.controller.busyChanged, timeout=10_000):
        window.cancel_button.click()
    assert time.monotonic() - started < 5
    assert window.status.text() == "Cancelled"
    assert window.final_results == count
    # The app stays usable: the next run completes.
    window.runs_spin.setValue(200)
    wait_final(window, after=count)


def test_worker_failure_becomes_message(qtbot, wait_final, window, monkeypatch):
    import gui.worker

    wait_final(window)
    count = window.final_results

    def broken(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(gui.worker, "compare", broken)
    window.schedule_run(immediate=True)
    qtbot.waitUntil(lambda: "injected failure" in window.messages.text, timeout=10_000)
    monkeypatch.undo()
    monkeypatch.setattr(SnapshotCommand, "merge_seconds", 0.0)
    window.schedule_run(immediate=True)
    wait_final(window, after=count)


def test_bad_file_names_the_parameter(window, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'schema_version = 1\nname = "Bad"\nextends = "siloed"\n'
        "[handoff]\nignore_base = 1.5\n"
    )
    before = window.docs[1]
    assert not window.open_file(bad, 1)
    message = window.messages.text
    assert "handoff.ignore_base" in message and "1.5" in message
    assert "bad.toml" in message
    assert window.docs[1] is before
    typo = tmp_path / "typo.toml"
    typo.write_text(
        'schema_version = 1\nname = "T"\nextends = "siloed"\n'
        "[handoff]\nignore_bsae = 0.2\n"
    )
    assert not window.open_file(typo, 1)
    assert "ignore_bsae" in window.messages.text


def test_open_save_round_trip(window, tmp_path, monkeypatch, settings):
    doc = window.docs[1]
    window.panes[1].editor.field("follow_up.qualify_ready").widget.setValue(60)
    window.panes[1].levers.boxes["retention"].setChecked(False)
    target = tmp_path / "mine.toml"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "")
    )
    assert window.save_as(1)
    assert not doc.modified and doc.path == target
    written = tomllib.loads(target.read_text())
    assert written["extends"] == "siloed"
    assert "nurture" in written["levers"] and "retention" not in written["levers"]
    assert written["follow_up"]["qualify_ready"] == pytest.approx(0.6)
    assert not list(tmp_path.glob(".mine.toml.*"))  # no temporary file left over
    saved = doc.scenario
    assert window.open_file(target, 0)
    assert window.docs[0].scenario == saved
    assert load_scenario(target) == saved
    assert settings.recent_files()[0] == str(target)


def test_drop_a_file(window, tmp_path):
    path = tmp_path / "dropped.toml"
    path.write_text('schema_version = 1\nname = "Dropped"\nextends = "siloed"\n')
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pane = window.panes[1]
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    pane.dropEvent(event)
    assert window.docs[1].name == "Dropped"


def test_unsaved_changes_prompt(window, monkeypatch, tmp_path):
    doc = window.docs[1]
    window.panes[1].editor.field("deals.acv_sigma").widget.setValue(0.9)
    asked = []

    def answer(button):
        def question(*args, **kwargs):
            asked.append(args[2])
            return button

        return question

    monkeypatch.setattr(
        QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel)
    )
    assert not window.load_preset(1, "siloed")
    assert window.docs[1] is doc and asked and "Aligned" in asked[-1]
    window.close()  # Cancel keeps the window open
    assert window.isVisible()

    target = tmp_path / "kept.toml"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "")
    )
    monkeypatch.setattr(
        QMessageBox, "question", answer(QMessageBox.StandardButton.Save)
    )
    assert window.load_preset(1, "siloed")
    assert load_scenario(target).deals.acv_sigma == pytest.approx(0.9)

    window.panes[1].editor.field("deals.acv_sigma").widget.setValue(1.1)
    monkeypatch.setattr(
        QMessageBox, "question", answer(QMessageBox.StandardButton.Discard)
    )
    assert window.load_preset(1, "aligned")
    assert window.docs[1].name == "Aligned" and not window.docs[1].modified


def test_settings_kept(qtbot, settings, monkeypatch, fast_runs):
    from gui.mainwindow import MainWindow

    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: pytest.fail("unexpected question")
    )
    win = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(win)
    win.show()
    win.runs_spin.setValue(321)
    win.resize(1111, 777)
    win.close()
    assert settings.run_settings()["runs"] == 321
    assert settings.window_geometry() is not None
    again = MainWindow(settings=settings, debounce_ms=20)
    qtbot.addWidget(again)
    assert again.runs_spin.value() == 321
    assert again.seed_edit.text() == str(fast_runs["seed"])
    again.controller.shutdown()


def test_entry_point_smoke(tmp_path):
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    code = (
        "import sys; from gui.app import main; sys.exit(main(['--smoke', '--runs', "
        f"'200', '--weeks', '60', '--settings', {str(tmp_path / 's.ini')!r}]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "smoke: window shown" in out.stdout


def test_no_display_gives_advice(monkeypatch, capsys):
    from gui.app import main

    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    assert main([]) == 2
    from simulator.model.command import funnelsim_command

    command = funnelsim_command()  # .venv/bin/funnelsim, unless on the PATH
    err = capsys.readouterr().err
    assert f"xvfb-run -a {command} gui" in err
    assert f"{command} compare siloed aligned" in err


def test_module_paths():
    assert (ROOT / "gui" / "app.py").is_file()
    assert Path(__file__).parent.name == "gui"


def test_invalid_edit_is_refused_with_a_message(window):
    doc = window.docs[0]
    name = window.panes[0].editor.field("marketing.sources.1.name")
    first = doc.scenario.marketing.sources[0].name
    name.widget.setText(first)  # a duplicate source name
    name.widget.editingFinished.emit()
    # (The engine currently reports the duplicate as a share-sum problem.)
    assert window.messages.text.startswith("Not applied:")
    assert "marketing" in window.messages.text
    assert not doc.modified
    assert name.value() == doc.scenario.marketing.sources[1].name  # reverted


def test_a_preview_reuses_the_last_layout_and_the_full_run_lays_out_again(qtbot):
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    from gui.results import ChartCanvas

    canvas = ChartCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(800, 400)
    canvas.show()  # (a hidden canvas leaves its figure's size to its first show)
    fig = canvas.figure

    def build(rows: int = 2, long_labels: bool = False) -> None:
        fig.clear()
        axes = fig.subplots(rows, 1)
        axes[0].set_title("a title")
        axes[-1].plot([0, 1e9])
        if long_labels:
            axes[-1].set_yticks([0, 1e9], ["a very long tick label indeed", "b"])

    def bounds() -> list[float]:
        return [float(x) for ax in fig.axes for x in ax.get_position().bounds]

    build()
    canvas.draw()
    laid_out = bounds()
    # A preview's draw: the same structure, so the last layout's positions,
    # even though the labels now need more room.
    canvas.quick_layout = True
    build(long_labels=True)
    canvas.draw()
    assert bounds() == laid_out
    assert not canvas.quick_layout  # for that one draw only
    assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    assert all(ax.get_in_layout() for ax in fig.axes)  # exports lay out again
    canvas.draw()  # any later draw: in full, making room for the labels
    assert bounds() != laid_out
    # Another structure (or a much resized canvas) is laid out in full anyway.
    canvas.quick_layout = True
    build(rows=3)
    canvas.draw()
    assert len(bounds()) == 12
    build()
    canvas.draw()
    laid_out = bounds()
    canvas.resize(800, 600)
    canvas.quick_layout = True
    build()
    canvas.draw()
    assert bounds() != laid_out


def test_the_wait_for_the_first_results_is_said_where_they_appear(qtbot):
    """Before the first results (the engine's first compile takes 15-25 s) the
    results area says what is being done; then the results take its place."""
    from gui.results import ResultsPanel

    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.resize(1280, 720)
    panel.show()
    panel.show_waiting("Preparing the simulation engine (once after an install)")
    assert panel.waiting.isVisible() and not panel.tabs.isVisible()
    assert "Preparing the simulation engine" in panel.waiting.text()
    assert "results will appear here" in panel.waiting.text()

    from simulator.model.scenario_io import load_scenario
    from simulator.run.runner import RunSettings, compare

    comparison = compare(
        load_scenario("siloed"),
        [load_scenario("aligned")],
        settings=RunSettings(runs=100, horizon_weeks=60, warmup_weeks=8, seed=1),
    )
    panel.show_comparison(comparison, True)
    assert panel.tabs.isVisible() and not panel.waiting.isVisible()
    panel.show_waiting("Full run: 2,000 runs")  # results stay on screen
    assert panel.tabs.isVisible() and not panel.waiting.isVisible()
