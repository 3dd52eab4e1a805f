"""Render every view of the app offscreen to PNG files (for the README and docs).

Run as ``python -m gui.screenshots [--out docs/screenshots] [--runs 2000]`` or
through ``docs/render_screenshots.py``. Nothing is shown on screen: Qt's
``offscreen`` platform is used unless ``QT_QPA_PLATFORM`` says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(list(argv) if argv is not None else None)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.mainwindow import MainWindow
    from gui.settings import AppSettings

    app = QApplication.instance() or QApplication(["funnelsim-screenshots"])
    font = app.font()
    font.setPointSizeF(max(font.pointSizeF(), 11))
    app.setFont(font)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(
            settings=AppSettings(Path(tmp) / "settings.ini"),
            run_settings={
                "runs": args.runs,
                "horizon_weeks": 104,
                "warmup_weeks": 52,
                "seed": 20101,
            },
            debounce_ms=0,
        )
        window.resize(args.width, args.height)
        window.show()
        loop = QEventLoop()
        state = {"final": False}

        def shown(final: bool) -> None:
            if final:
                state["final"] = True
                loop.quit()

        window.resultShown.connect(shown)
        QTimer.singleShot(int(args.timeout * 1000), loop.quit)
        loop.exec()
        if not state["final"]:
            print(
                f"no result within {args.timeout} s: {window.messages.label.text()}",
                file=sys.stderr,
            )
            return 1
        window.messages.hide()
        written = []

        def grab(name: str) -> None:
            for _ in range(3):
                app.processEvents()
            path = args.out / f"{name}.png"
            window.grab().save(str(path))
            written.append(path)

        results = window.results
        tabs = results.tabs
        for index in range(tabs.count()):
            tabs.setCurrentIndex(index)
            view = results.views[index]
            view.refresh()
            grab(f"{index + 1}_{view.title.lower()}")
        tabs.setCurrentIndex(1)
        results.distribution.ecdf_button.setChecked(True)
        grab("2b_distribution_ecdf")
        results.distribution.hist_button.setChecked(True)
        tabs.setCurrentIndex(0)

        # The editor: levers of the alternative, then groups with highlights.
        window.tabs.setCurrentIndex(1)
        editor = window.panes[1].editor
        pages = {editor.toolbox.itemText(i): i for i in range(editor.toolbox.count())}
        for title, name in (
            ("Alignment levers", "editor_levers"),
            ("Hand-off and trust", "editor_handoff"),
            ("Pipeline stages", "editor_stages"),
        ):
            editor.toolbox.setCurrentIndex(pages[title])
            grab(name)
        window.tabs.setCurrentIndex(0)
        base_editor = window.panes[0].editor
        base_editor.toolbox.setCurrentIndex(pages["Marketing and lead sources"])
        grab("editor_sources")
        window.close()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
