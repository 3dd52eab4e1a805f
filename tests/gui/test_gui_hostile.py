"""The app's open and drop path and its autosave restore on the corpus of
hostile files (tests/hostile): a refused file gives the same one-line message
as the command line, in place of whatever the message bar said before, and
leaves the slot as it was; an accepted one opens and runs, its name shown
literally (never as HTML)."""

from __future__ import annotations

import json
import os
import time

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLabel, QMessageBox

from simulator.model.scenario_io import save_scenario
from tests.test_hostile_inputs import ACCEPTED, HOSTILE, REFUSED, generated


def _answers(*buttons):
    asked = []
    queue = list(buttons)

    def question(*args, **kwargs):
        asked.append(args[2])
        return queue.pop(0)

    return question, asked


def _opened_a_good_file(window, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('schema_version = 1\nname = "Good"\nextends = "siloed"\n')
    assert window.open_file(good, 1)
    assert window.messages.text.startswith("Opened")


def _assert_refused(window, path, fragment, before):
    message = window.messages.text
    assert window.messages.kind == "error"
    assert message.startswith("Could not open the scenario. "), message
    assert fragment in message and "\n" not in message
    assert window.docs[1].name == before  # the slot is as it was


def test_refused_files_say_why_in_the_app(window, tmp_path):
    _opened_a_good_file(window, tmp_path)
    cases = {name: (HOSTILE / name, fragment) for name, fragment in REFUSED.items()}
    made = tmp_path / "made"
    made.mkdir()
    cases.update(generated(made))
    for name, (path, fragment) in cases.items():
        window.messages.show_message("Opened something else.", "info")
        started = time.perf_counter()
        assert not window.open_file(path, 1), name
        assert time.perf_counter() - started < 5, name
        _assert_refused(window, path, fragment, "Good")


def test_a_dropped_hostile_file_gives_the_message(window, tmp_path):
    _opened_a_good_file(window, tmp_path)
    path = tmp_path / "dropped.toml"
    path.write_text(
        'schema_version = 1\nname = "D"\nextends = "siloed"\n[simulation]\nseed = '
        + "9" * 5000
        + "\n"
    )
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.panes[1].dropEvent(event)
    _assert_refused(window, path, "thousands of digits", "Good")


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_files_open_and_run(qtbot, window, wait_final, name):
    seen = window.final_results
    # As the baseline: an alternative may not change the starting company,
    # which extreme_but_valid.toml does.
    assert window.open_file(HOSTILE / name, 0), window.messages.text
    doc = window.docs[0]
    assert doc.name == ACCEPTED[name]
    wait_final(window, after=seen)
    labels = window.results.findChildren(QLabel)
    titles = [label for label in labels if label.text() == ACCEPTED[name]]
    assert titles and all(
        label.textFormat() == Qt.TextFormat.PlainText for label in titles
    )
    window.grab()  # draws the charts with the name in their legends


def test_info_line_escapes_html(window, tmp_path):
    folder = tmp_path / "<b>x"
    folder.mkdir()
    path = folder / "s.toml"
    path.write_text('schema_version = 1\nname = "S"\nextends = "siloed"\n')
    assert window.open_file(path, 1)
    assert "&lt;b&gt;x" in window.panes[1].info.text()


def _hostile_leftover(root, body):
    folder = root / "session-20200101-000000-1-abc"
    folder.mkdir(parents=True)
    (folder / "slot1.toml").write_text(body, encoding="utf-8")
    index = {
        "version": 1,
        "saved_at": "2020-01-01T00:00:00+00:00",
        "documents": [
            {"slot": 0, "name": "Siloed", "preset_id": "siloed", "file": None},
            {"slot": 1, "name": "Broken", "preset_id": "aligned", "file": "slot1.toml"},
        ],
    }
    (folder / "index.json").write_text(json.dumps(index))
    return folder


BROKEN = (
    'schema_version = 1\nname = "B"\nextends = "siloed"\n[simulation]\nseed = '
    + ("9" * 5000)
    + "\n"
)


@pytest.mark.parametrize("discard", [True, False])
def test_a_failed_restore_says_so_and_offers_to_discard(
    qtbot, settings, fast_runs, autosave_dir, monkeypatch, discard
):
    from gui.mainwindow import MainWindow

    folder = _hostile_leftover(autosave_dir, BROKEN)
    no = QMessageBox.StandardButton.No
    yes = QMessageBox.StandardButton.Yes
    question, asked = _answers(yes, yes if discard else no)
    monkeypatch.setattr(QMessageBox, "question", question)
    win = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(win)
    assert win.offer_restore() == 0
    assert len(asked) == 2 and "Discard this autosave?" in asked[1]
    assert "thousands of digits" in asked[1]
    assert "Could not restore" in win.messages.text
    assert folder.exists() is not discard
    assert [d.name for d in win.docs] == ["Siloed", "Aligned"]
    win.autosave.close()


def test_a_leftover_index_cannot_point_away(autosave_dir, tmp_path):
    from gui.autosave import AutosaveManager

    outside = tmp_path / "outside.toml"
    outside.write_text('name = "Outside"\n')
    folder = _hostile_leftover(autosave_dir, BROKEN)
    index = json.loads((folder / "index.json").read_text())
    index["documents"][1]["file"] = str(outside)
    (folder / "index.json").write_text(json.dumps(index))
    manager = AutosaveManager(autosave_dir)
    assert manager.leftovers() == []  # nothing of its own left to restore


def test_run_settings_beyond_the_budget_ask_first(
    qtbot, tmp_path, settings, monkeypatch
):
    from gui.mainwindow import MainWindow

    heavy = tmp_path / "heavy.toml"
    heavy.write_text(
        'schema_version = 1\nname = "Heavy"\nextends = "siloed"\n'
        "[simulation]\nruns = 1000000\nhorizon_weeks = 1040\n"
    )
    win = MainWindow(
        settings=settings, scenarios=[str(heavy), "aligned"], debounce_ms=20
    )
    qtbot.addWidget(win)
    assert win.runs_spin.value() == 2000 and win.weeks_spin.value() == 104
    assert "run-weeks" in win.messages.text
    question, asked = _answers(QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "question", question)
    assert not win.use_baseline_run_settings()
    assert asked and win.runs_spin.value() == 2000
    question, asked = _answers(QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "question", question)
    assert win.use_baseline_run_settings()
    assert win.runs_spin.value() == 1_000_000 and win.weeks_spin.value() == 1040
    win.cancel_run()
    win.controller.shutdown()


def test_stale_temporary_files_go_at_start(qtbot, tmp_path, settings, fast_runs):
    from gui.mainwindow import MainWindow
    from simulator.model.scenario_io import load_scenario

    saved = tmp_path / "mine.toml"
    save_scenario(load_scenario("siloed"), saved)
    settings.add_recent(saved)
    leftover = tmp_path / ".mine.toml.k1ll3d00.tmp"
    leftover.write_text("half")
    past = time.time() - 3600
    os.utime(leftover, (past, past))
    win = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(win)
    assert not leftover.exists() and saved.exists()


def test_autosaved_edits_are_private(window):
    import stat

    window.panes[1].editor.field("deals.acv_sigma").widget.setValue(0.9)
    assert window.autosave.write_now()
    for written in ("slot1.toml", "index.json"):
        mode = (window.autosave.folder / written).stat().st_mode
        assert stat.S_IMODE(mode) == 0o600, written


def test_citations_show_as_written_in_tooltips(window, tmp_path):
    path = tmp_path / "cited.toml"
    path.write_text(
        'schema_version = 1\nname = "Cited"\nextends = "siloed"\n'
        "[deals]\nacv_sigma = 0.7\n"
        '[citations."deals.acv_sigma"]\nsource = "<img src=x>"\n'
        "note = \"<a href='http://example.com'>click</a>\"\n"
    )
    assert window.open_file(path, 1)
    tip = window.panes[1].editor.field("deals.acv_sigma").toolTip()
    assert "&lt;img src=x&gt;" in tip and "<a href" not in tip


def test_a_comparison_beyond_the_budget_asks_first(window, tmp_path, monkeypatch):
    from tests.test_hostile_inputs import HEAVY_COMPARISON

    path = tmp_path / "heavy.toml"
    path.write_text(HEAVY_COMPARISON)
    before = window.run_settings_dict()
    question, asked = _answers(QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "question", question)
    assert window.open_comparison(path, ask=False)
    assert asked and "run-weeks" in asked[0]
    assert window.run_settings_dict() == before
    assert "not taken" in window.messages.text
