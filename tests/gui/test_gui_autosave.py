"""Nothing lost: unsaved edits are autosaved, removed on save and clean close, and
offered back after a crash; closing with unsaved changes asks."""

from __future__ import annotations

import json
import tomllib

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gui.autosave import AutosaveManager
from simulator.model.scenario_io import load_scenario, resolve_alternative


def _answer(button, asked):
    def question(*args, **kwargs):
        asked.append(args[2])
        return button

    return question


def _session_files(root):
    return sorted(p.name for p in root.glob("session-*/*") if p.suffix != ".lock")


def _crash(win):
    """What a crash leaves: the autosave folder as it is, its lock released by the
    dying process, no clean close."""
    win.autosave._burst.stop()
    win.autosave._deadline.stop()
    if win.autosave._lock is not None:
        win.autosave._lock.unlock()
        win.autosave._lock = None
    for doc in win.docs:
        doc.undo_stack.setClean()  # the fixture's close must not prompt


def test_edit_burst_is_autosaved_then_removed_on_save(
    qtbot, window, autosave_dir, tmp_path, monkeypatch
):
    manager = window.autosave
    assert manager.root == autosave_dir
    manager._burst.setInterval(50)
    window.panes[1].editor.field("deals.acv_sigma").widget.setValue(0.9)
    assert manager.pending and manager._deadline.isActive()
    qtbot.waitUntil(lambda: manager.writes >= 1, timeout=5000)
    folder = manager.folder
    assert (folder / "slot1.toml").is_file() and not (folder / "slot0.toml").exists()
    index = json.loads((folder / "index.json").read_text())
    entries = {e["slot"]: e for e in index["documents"]}
    assert entries[1]["file"] == "slot1.toml" and entries[0]["file"] is None
    assert entries[0]["preset_id"] == "siloed" and entries[1]["saved_at"]
    saved = tomllib.loads((folder / "slot1.toml").read_text())
    assert saved["deals"]["acv_sigma"] == pytest.approx(0.9)
    assert not list(folder.glob(".*.tmp"))  # written atomically

    target = tmp_path / "kept.toml"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "")
    )
    assert window.save_as(1)
    assert not (folder / "slot1.toml").exists()  # saved: its autosave goes at once
    index = json.loads((folder / "index.json").read_text())
    assert all(e["file"] is None for e in index["documents"])
    assert index["documents"][1]["path"] == str(target)


def test_undo_to_the_saved_state_removes_the_autosave(qtbot, window):
    manager = window.autosave
    window.panes[0].editor.field("deals.acv_sigma").widget.setValue(0.8)
    assert manager.write_now()
    assert (manager.folder / "slot0.toml").is_file()
    window.docs[0].undo_stack.undo()
    assert not window.docs[0].modified
    assert manager.write_now()
    assert not (manager.folder / "slot0.toml").exists()


def test_deadline_writes_while_edits_keep_coming(qtbot, autosave_dir):
    from gui.document import ScenarioDocument

    doc = ScenarioDocument.from_preset("aligned")
    manager = AutosaveManager(autosave_dir, burst_ms=10_000, max_delay_ms=100)
    manager.track([doc])
    doc.set_value("deals.acv_sigma", 0.7)
    manager.note_change()
    qtbot.wait(60)
    manager.note_change()  # the burst restarts, the deadline does not
    qtbot.waitUntil(lambda: manager.writes == 1, timeout=2000)
    assert (manager.folder / "slot0.toml").is_file()
    manager.close()
    assert not manager.folder.exists()


def test_clean_close_removes_the_autosave(qtbot, settings, fast_runs, autosave_dir):
    from gui.mainwindow import MainWindow

    win = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(win)
    win.panes[1].editor.field("deals.acv_sigma").widget.setValue(0.9)
    assert win.autosave.write_now() and win.autosave.folder.is_dir()
    win.docs[1].undo_stack.setClean()  # as if discarded at the prompt
    win.close()
    assert not win.isVisible()
    assert not list(autosave_dir.glob("session-*"))


def test_crash_then_restore(qtbot, settings, fast_runs, autosave_dir, monkeypatch):
    from gui.mainwindow import MainWindow

    first = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(first)
    first.panes[1].editor.field("deals.acv_sigma").widget.setValue(0.9)
    first.panes[0].editor.field("follow_up.qualify_ready").widget.setValue(55)
    assert first.autosave.write_now()
    assert _session_files(autosave_dir) == ["index.json", "slot0.toml", "slot1.toml"]
    _crash(first)

    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", _answer(QMessageBox.StandardButton.Yes, asked)
    )
    second = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(second)
    assert second.offer_restore() == 2
    assert "Siloed" in asked[0] and "Aligned" in asked[0]
    base, alt = second.docs[0], second.docs[1]
    assert base.modified and alt.modified  # unsaved documents
    assert alt.scenario.deals.acv_sigma == pytest.approx(0.9)
    assert base.scenario.follow_up.qualify_ready == pytest.approx(0.55)
    assert alt.preset_id == "aligned" and alt.extends == "siloed"
    # The alternative is the (edited) baseline with its changes.
    assert alt.scenario.follow_up.qualify_ready == pytest.approx(0.55)
    alt.undo_stack.undo()  # undo goes back to the preset, on this baseline
    assert alt.scenario == resolve_alternative(base.scenario, "aligned")
    alt.undo_stack.redo()
    # The old session is gone; the restored edits are kept by the new one.
    assert not first.autosave.folder.exists()
    assert (second.autosave.folder / "slot1.toml").is_file()
    assert "Restored" in second.messages.text
    assert second.offer_restore() == 0  # nothing left to offer
    for doc in (*first.docs, *second.docs):
        doc.undo_stack.setClean()
    second.close()
    first.autosave.close()


def test_restore_keeps_the_original_file(
    qtbot, settings, fast_runs, autosave_dir, monkeypatch, tmp_path
):
    from gui.mainwindow import MainWindow

    original = tmp_path / "mine.toml"
    original.write_text(
        'schema_version = 1\nname = "Mine"\nextends = "siloed"\n'
        "[deals]\nacv_sigma = 0.5\n"
    )
    before = original.read_text()
    first = MainWindow(
        settings=settings,
        scenarios=["siloed", str(original)],
        run_settings=fast_runs,
        debounce_ms=20,
    )
    qtbot.addWidget(first)
    first.panes[1].editor.field("deals.acv_sigma").widget.setValue(1.2)
    assert first.autosave.write_now()
    _crash(first)
    assert original.read_text() == before  # autosave never touches the file

    monkeypatch.setattr(
        QMessageBox, "question", _answer(QMessageBox.StandardButton.Yes, [])
    )
    second = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(second)
    assert second.offer_restore() == 1
    doc = second.docs[1]
    assert doc.path == original.resolve() and doc.modified
    assert doc.scenario.deals.acv_sigma == pytest.approx(1.2)
    assert second.save(1)  # Save writes to the original file
    assert load_scenario(original).deals.acv_sigma == pytest.approx(1.2)
    assert not (second.autosave.folder / "slot1.toml").exists()
    second.close()
    first.autosave.close()


def test_declining_the_restore_discards_it(
    qtbot, settings, fast_runs, autosave_dir, monkeypatch
):
    from gui.mainwindow import MainWindow

    first = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(first)
    first.panes[1].editor.field("deals.acv_sigma").widget.setValue(0.9)
    assert first.autosave.write_now()
    _crash(first)
    monkeypatch.setattr(
        QMessageBox, "question", _answer(QMessageBox.StandardButton.No, [])
    )
    second = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(second)
    assert second.offer_restore() == 0
    assert not second.docs[1].modified
    assert not first.autosave.folder.exists()
    second.close()
    first.autosave.close()


def test_a_running_session_is_not_a_leftover(qtbot, window, fast_runs, settings):
    from gui.mainwindow import MainWindow

    window.panes[1].editor.field("deals.acv_sigma").widget.setValue(0.9)
    assert window.autosave.write_now()
    other = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(other)
    assert other.autosave.leftovers() == []  # the window above still holds its lock
    assert other.offer_restore() == 0
    other.close()


def test_unreadable_autosave_is_not_fatal(qtbot, window, autosave_dir):
    stray = autosave_dir / "session-old-1"
    stray.mkdir(parents=True)
    (stray / "index.json").write_text("{ not json")
    (stray / "slot0.toml").write_text('schema_version = 1\nname = "Lost"\n')
    leftovers = window.autosave.leftovers()
    assert [d.name for d in leftovers[0].modified] == ["slot0"]
    (stray / "slot0.toml").unlink()
    assert window.autosave.leftovers() == []  # nothing worth offering: removed
    assert not stray.exists()


def test_close_with_unsaved_changes_asks(qtbot, settings, fast_runs, monkeypatch):
    from gui.mainwindow import MainWindow

    win = MainWindow(settings=settings, run_settings=fast_runs, debounce_ms=20)
    qtbot.addWidget(win)
    win.show()
    win.panes[1].editor.field("deals.acv_sigma").widget.setValue(0.9)
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", _answer(QMessageBox.StandardButton.Cancel, asked)
    )
    win.close()
    assert win.isVisible() and len(asked) == 1 and "Aligned" in asked[0]
    assert win.autosave.write_now() and (win.autosave.folder / "slot1.toml").exists()
    monkeypatch.setattr(
        QMessageBox, "question", _answer(QMessageBox.StandardButton.Discard, asked)
    )
    win.close()
    assert not win.isVisible() and len(asked) == 2
    assert not win.autosave.folder.exists()
