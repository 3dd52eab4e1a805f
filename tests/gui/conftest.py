"""pytest-qt fixtures for the desktop app. Qt runs offscreen: no display needed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the checkout, when the project is not installed
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

#: Small runs keep the suite fast; the model is the same.
FAST_RUNS = {"runs": 300, "horizon_weeks": 60, "warmup_weeks": 12, "seed": 7}


@pytest.fixture
def settings(tmp_path):
    from gui.settings import AppSettings

    return AppSettings(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, settings, monkeypatch):
    """The main window on siloed vs aligned with few runs; it never asks anything
    modal (a test that wants the prompt patches QMessageBox itself)."""
    from PySide6.QtWidgets import QMessageBox

    from gui.mainwindow import MainWindow

    monkeypatch.setattr(
        QMessageBox, "question",
        lambda *a, **k: pytest.fail(f"unexpected modal question: {a[2:3]}"),
    )
    win = MainWindow(settings=settings, run_settings=dict(FAST_RUNS), debounce_ms=20,
                     preview_runs=100)
    qtbot.addWidget(win)
    win.show()
    yield win
    for doc in win.docs:
        doc.undo_stack.setClean()
    win.controller.shutdown()


def wait_final(qtbot, win, timeout=30_000):
    """Wait for the next full-run result shown by the window."""
    with qtbot.waitSignal(win.resultShown, timeout=timeout,
                          check_params_cb=lambda final: final):
        pass
