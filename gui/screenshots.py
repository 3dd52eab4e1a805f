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
from dataclasses import replace
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument(
        "--sizes",
        default="1280x720,1366x768,1920x1080",
        help="screen sizes, comma-separated: every view at the first, the main "
        "ones at the others (files named by size)",
    )
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument(
        "--story-runs", type=int, default=200, help="runs per bridge/drivers variant"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # The pictures go into the documentation: the command as a reader types it.
    os.environ.setdefault("FUNNELSIM_COMMAND", "funnelsim")
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]

    from PySide6.QtCore import QEventLoop, QRect, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.mainwindow import MainWindow
    from gui.settings import AppSettings

    app = QApplication.instance() or QApplication(["funnelsim-screenshots"])
    assert isinstance(app, QApplication)
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
        width, height = sizes[0]
        window.fit_to_screen(free=QRect(0, 0, width, height))
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
            path = args.out / f"{width}x{height}_{name}.png"
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

        # The story: target on the distribution and the fan, bridge, drivers.
        targets = results.targets
        tabs.setCurrentWidget(results.distribution)
        targets.set_value(0.10)
        grab("8_target_distribution")
        tabs.setCurrentWidget(results.overview)
        results.overview.refresh()
        grab("8b_target_fan")
        for view, name in (
            (results.bridge, "6_bridge"),
            (results.drivers, "7_drivers"),
        ):
            tabs.setCurrentWidget(view)
            view.bar.runs.setValue(args.story_runs)
            done = QEventLoop()
            view.computed.connect(done.quit)
            view.runner.failed.connect(lambda _m, d=done: d.quit())
            view.compute()
            QTimer.singleShot(int(args.timeout * 1000), done.quit)
            done.exec()
            grab(name)
        results.bridge.shapley_button.setChecked(True)
        tabs.setCurrentWidget(results.bridge)
        grab("6b_bridge_shapley")
        results.bridge.waterfall_button.setChecked(True)
        tabs.setCurrentIndex(0)

        # The main views at the other screen sizes, the editor shown.
        for width, height in sizes[1:]:
            window.fit_to_screen(free=QRect(0, 0, width, height))
            for view, name in (
                (results.overview, "1_overview"),
                (results.distribution, "8_target_distribution"),
                (results.bridge, "6_bridge"),
                (results.drivers, "7_drivers"),
            ):
                tabs.setCurrentWidget(view)
                view.refresh()
                grab(name)
        width, height = sizes[0]
        window.fit_to_screen(free=QRect(0, 0, width, height))
        window.set_editor_shown(False)
        tabs.setCurrentWidget(results.overview)
        results.overview.refresh()
        grab("1b_overview_editor_folded")
        window.set_editor_shown(True)

        # Workshop mode: title, predict, reveal, closing.
        from gui.views.workshop import WorkshopWindow

        comparison = results.comparison
        workshop = WorkshopWindow(
            comparison.baseline.scenario,
            comparison.alternatives[0].scenario,
            replace(comparison.baseline.settings, runs=min(args.runs, 1000)),
            animation_ms=0,
        )
        workshop.resize(width, height)
        workshop.show()
        done = QEventLoop()
        workshop.ready.connect(done.quit)
        QTimer.singleShot(int(args.timeout * 1000), done.quit)
        done.exec()

        def grab_workshop(name: str) -> None:
            for _ in range(3):
                app.processEvents()
            path = args.out / f"{width}x{height}_{name}.png"
            workshop.grab().save(str(path))
            written.append(path)

        guesses = [0.0, 3.0, 6.0, 4.0, 2.0, 5.0, 3.0, 4.0, 1.0]
        grab_workshop("workshop_1_title")
        step = 0
        while workshop.slide.kind != "closing":
            workshop.next()
            slide = workshop.slide
            if slide.kind == "predict":
                previous = workshop.steps[slide.step - 1].value * 100
                workshop.guess.setValue(previous + guesses[step % len(guesses)])
                step += 1
            if slide.kind == "predict" and slide.step == 3:
                grab_workshop("workshop_2_predict")
            if slide.kind == "reveal" and slide.step == 3:
                grab_workshop("workshop_3_reveal")
        grab_workshop("workshop_4_closing")
        workshop.close()

        # The editor: levers of the alternative, then groups with highlights.
        window.tabs.setCurrentIndex(1)
        pane = window.panes[1]
        editor = pane.editor
        pages = {editor.toolbox.itemText(i): i for i in range(editor.toolbox.count())}
        pane.sections.setCurrentIndex(0)
        grab("editor_levers")
        pane.sections.setCurrentWidget(editor)
        for title, name in (
            ("Hand-off and trust", "editor_handoff"),
            ("Pipeline stages", "editor_stages"),
        ):
            editor.toolbox.setCurrentIndex(pages[title])
            grab(name)
        pane.ranges.choice.setCurrentIndex(
            max(0, pane.ranges.choice.findData("handoff.ignore_base"))
        )
        pane.ranges.add_button.click()
        pane.sections.setCurrentWidget(pane.ranges)
        grab("editor_ranges")
        assert pane.doc is not None
        pane.doc.undo_stack.undo()
        window.tabs.setCurrentIndex(0)
        base = window.panes[0]
        base.sections.setCurrentWidget(base.editor)
        base.editor.toolbox.setCurrentIndex(pages["Marketing and lead sources"])
        grab("editor_sources")
        window.close()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
