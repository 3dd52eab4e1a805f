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


@pytest.fixture(autouse=True)
def autosave_dir(tmp_path, monkeypatch):
    """Every window of a test autosaves to the test's own folder, never the
    user's (a subprocess started by a test inherits it too)."""
    folder = tmp_path / "autosave"
    monkeypatch.setenv("FUNNELSIM_AUTOSAVE_DIR", str(folder))
    return folder


@pytest.fixture
def settings(tmp_path):
    from gui.settings import AppSettings

    return AppSettings(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, settings, monkeypatch):
    """The main window on siloed vs aligned with few runs and no preview (the
    preview is tested on the controller); it never asks anything
    modal (a test that wants the prompt patches QMessageBox itself)."""
    from PySide6.QtWidgets import QMessageBox

    from gui.mainwindow import MainWindow

    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: pytest.fail(f"unexpected modal question: {a[2:3]}"),
    )
    win = MainWindow(
        settings=settings,
        run_settings=dict(FAST_RUNS),
        debounce_ms=20,
        preview_runs=100,
    )
    win.show()
    yield win
    for doc in win.docs:
        doc.undo_stack.setClean()
    win.close()
    win.controller.shutdown()
    win.deleteLater()


@pytest.fixture
def fast_runs():
    return dict(FAST_RUNS)


@pytest.fixture
def wait_final(qtbot):
    """``wait_final(win, after=n)``: wait until the window shows a full-run result
    newer than the ``n``-th (by default: any full result)."""

    def wait(win, *, after: int | None = None, timeout: int = 30_000) -> None:
        seen = 0 if after is None else after
        qtbot.waitUntil(lambda: win.final_results > seen, timeout=timeout)

    return wait
