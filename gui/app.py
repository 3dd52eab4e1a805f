"""Entry point of the desktop app: ``funnelsim gui``.

The app adds that command to the ``funnelsim`` command line itself, through the
entry point group ``funnelsim.commands`` (see pyproject.toml): :func:`register`
adds the parser; the command line never imports the app. PySide6 and
matplotlib are imported when the app opens, so importing this module costs
nothing and never needs a display.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any


def no_display_help() -> str:
    """What to do without a display, with commands that work as typed here."""
    from simulator.model.command import funnelsim_command

    command = funnelsim_command()
    return (
        "funnelsim gui: no display found (neither DISPLAY nor WAYLAND_DISPLAY is "
        "set).\n"
        "  On a desktop, start it from a graphical session. On a server, run it in a\n"
        f"  virtual display:  xvfb-run -a {command} gui  (Debian: apt install xvfb),\n"
        f"  or use the command line instead:  {command} compare siloed aligned"
    )


#: What ``funnelsim gui`` does instead when there is no display.
HEADLESS_COMMAND = ["compare", "siloed", "aligned"]
DESCRIPTION = "Open the FunnelSim desktop app on a comparison."


def register(subparsers: Any) -> None:
    """Add ``funnelsim gui`` to the command line's subparsers."""
    parser = subparsers.add_parser(
        "gui", help="open the desktop app", description=DESCRIPTION
    )
    add_arguments(parser)
    parser.set_defaults(handler=gui_command)


def gui_command(args: argparse.Namespace) -> int:
    """``funnelsim gui``: the app, or without a display the default comparison
    in the terminal (with a word on how to see the app)."""
    if _has_display():
        return open_app(args)
    from simulator.cli import main as command_line
    from simulator.model.command import funnelsim_command

    command = funnelsim_command()
    print(
        "funnelsim: no display found (DISPLAY/WAYLAND_DISPLAY unset), so the app "
        "cannot open a window. Running the default comparison in the terminal "
        f"instead: {command} {' '.join(HEADLESS_COMMAND)}. "
        f"To see the app, run on a desktop or under `xvfb-run -a {command} gui`.",
        file=sys.stderr,
    )
    return command_line(HEADLESS_COMMAND)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="funnelsim gui", description=DESCRIPTION)
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="baseline then alternatives: bundled ids or .toml files "
        "(default: siloed aligned; at most 4)",
    )
    parser.add_argument(
        "--runs", type=int, help="Monte Carlo runs (default: last used)"
    )
    parser.add_argument("--weeks", type=int, help="reported weeks")
    parser.add_argument("--seed", type=int, help="random seed")
    parser.add_argument(
        "--settings",
        metavar="INI",
        help="keep window and run settings in this file "
        "(default: the platform's place; or $FUNNELSIM_SETTINGS)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="open, wait for the first full result, then quit "
        "(exit 0 when it arrived); for tests",
    )
    parser.add_argument(
        "--smoke-timeout", type=float, default=60.0, help=argparse.SUPPRESS
    )


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app (``python -m gui.app``); returns the exit status."""
    return open_app(build_parser().parse_args(list(argv) if argv is not None else None))


def open_app(args: argparse.Namespace) -> int:
    """Open the app on the parsed ``funnelsim gui`` arguments."""
    if len(args.scenarios) > 4:
        print(
            "funnelsim gui: at most 4 scenarios (a baseline and 3 alternatives)",
            file=sys.stderr,
        )
        return 2
    if not _has_display():
        print(no_display_help(), file=sys.stderr)
        return 2

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.mainwindow import MainWindow
    from gui.settings import AppSettings

    app = QApplication.instance() or QApplication(
        [sys.argv[0] if sys.argv else "funnelsim"]
    )
    app.setApplicationName("FunnelSim")
    app.setOrganizationName("FunnelSim")
    font = app.font()
    if font.pointSizeF() < 11:
        font.setPointSizeF(11)
        app.setFont(font)

    settings = AppSettings(args.settings)
    run_settings = settings.run_settings()
    window = MainWindow(
        settings=settings, scenarios=args.scenarios or None, run_settings=run_settings
    )
    overrides = {"runs": args.runs, "horizon_weeks": args.weeks, "seed": args.seed}
    if any(v is not None for v in overrides.values()):
        values = window.run_settings_dict()
        values.update({k: v for k, v in overrides.items() if v is not None})
        window.set_run_settings(values, run=False)
    window.show()
    if not args.smoke:
        # After a crash: offer the edits autosaved by the last session.
        window.offer_restore()

    if args.smoke:
        outcome = {"ok": False}

        def done(final: bool) -> None:
            if final:
                outcome["ok"] = True
                window.close()

        window.resultShown.connect(done)
        QTimer.singleShot(int(args.smoke_timeout * 1000), window.close)
        app.exec()
        if outcome["ok"]:
            print(
                f"smoke: window shown, full run of {window.run_settings().runs} "
                "runs displayed"
            )
        else:
            print(f"smoke: no result: {window.messages.label.text()}", file=sys.stderr)
        return 0 if outcome["ok"] else 1
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
