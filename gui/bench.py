"""How soon a preview is on screen after an edit: the app's budget is 0.2 s from
an edit of the alternative to its 1,000-run preview drawn on the Overview.

Measured on the real window (offscreen, 1280x720) with the bundled siloed and
aligned scenarios at their own run settings: the time from the edit (a spin
box's new value) to the Overview's chart painted with the preview. Shown by
``funnelsim bench`` when the app is installed.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

#: The budget from an edit of the alternative to its preview on screen.
PREVIEW_BUDGET_S = 0.2
#: The edited field: the alternative's median deal size, up and down in turns.
EDITED_FIELD = "deals.acv_median"


def _wait(app: object, done: Callable[[], bool], timeout_s: float = 120.0) -> None:
    """Run the event loop until ``done()``, as the app's own loop runs: asleep
    between events (a loop spinning on the GUI thread would take the
    interpreter's lock from the run it measures)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    end = time.perf_counter() + timeout_s
    wake = QTimer()  # (so that the timeout is seen even with no events)
    wake.start(50)
    try:
        while not done():
            if time.perf_counter() > end:
                raise TimeoutError("the app did not show the result in time")
            QCoreApplication.processEvents(
                QEventLoop.ProcessEventsFlag.WaitForMoreEvents
            )
    finally:
        wake.stop()


class Timing(NamedTuple):
    """One edit: seconds to the preview on screen, of which computing it (to
    its arrival on the GUI thread); whether it was drawn in full (not blitted)."""

    on_screen: float
    computing: float
    full_draw: bool


def _more_finals(window: Any, seen: int) -> bool:
    return bool(window.final_results > seen)


def preview_on_screen_seconds(edits: int = 7) -> list[Timing]:
    """Each of ``edits`` edits of the alternative to its preview painted on the
    Overview (each after the previous edit's full run)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["funnelsim-bench"])
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("FUNNELSIM_AUTOSAVE_DIR", str(Path(folder) / "autosave"))
        from gui.mainwindow import MainWindow
        from gui.settings import AppSettings

        window = MainWindow(settings=AppSettings(Path(folder) / "settings.ini"))
        window.resize(1280, 720)
        window.show()
        canvas = window.results.overview.canvas
        shown: dict[str, float] = {}
        full_draws: list[float] = []
        canvas.mpl_connect(
            "draw_event", lambda _event: full_draws.append(time.perf_counter())
        )

        def on_shown(final: bool) -> None:
            shown["final" if final else "preview"] = time.perf_counter()

        window.resultShown.connect(on_shown)
        try:
            _wait(app, lambda: window.final_results >= 1)
            _wait(app, lambda: not window.controller.busy)
            widget = window.panes[1].editor.field(EDITED_FIELD).widget
            seconds = []
            for index in range(edits):
                shown.clear()
                finals = window.final_results
                step = 1000.0 if index % 2 == 0 else -1000.0
                edited = time.perf_counter()
                widget.setValue(widget.value() + step)
                _wait(
                    app,
                    lambda: "preview" in shown and canvas.painted_at > shown["preview"],
                )
                seconds.append(
                    Timing(
                        canvas.painted_at - edited,
                        shown["preview"] - edited,
                        any(t > shown["preview"] for t in full_draws),
                    )
                )
                _wait(app, partial(_more_finals, window, finals))
                _wait(app, lambda: not window.controller.busy)
        finally:
            for doc in window.docs:
                doc.undo_stack.setClean()
            window.controller.shutdown()
            window.close()
            window.deleteLater()
    return seconds


def report() -> str:
    """The lines ``funnelsim bench`` prints."""
    timings = preview_on_screen_seconds()
    median = statistics.median(t.on_screen for t in timings)
    computing = statistics.median(t.computing for t in timings)
    drawing = statistics.median(t.on_screen - t.computing for t in timings)
    verdict = "within" if median <= PREVIEW_BUDGET_S else "OVER"
    full = sum(t.full_draw for t in timings)
    return (
        "  the app (offscreen, 1280x720): an edit of the alternative to its\n"
        f"    1,000-run preview drawn on the Overview, median of {len(timings)}"
        f"   {median:5.3f} s\n"
        f"    of which computing {computing:.3f} s, drawing {drawing:.3f} s; "
        f"{len(timings) - full} of {len(timings)} blitted\n"
        f"    each: {', '.join(f'{t.on_screen:.3f}' for t in timings)} s "
        f"({verdict} the {PREVIEW_BUDGET_S} s budget)"
    )


if __name__ == "__main__":  # pragma: no cover
    print(report())
