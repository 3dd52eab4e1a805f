"""The house's structure: the layers of simulator/ (import-linter contracts in
pyproject.toml), no screen in the engine, subcommands that do not import back
into the command line's central module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_simulator_imports_no_gui_or_plotting_modules() -> None:
    code = (
        "import sys\n"
        "import simulator.cli, simulator.run.runner, simulator.model.scenario_io\n"
        "import simulator.cli.bench\n"
        "import simulator.run.results, simulator.report.text\n"
        "from simulator.cli import _build_parser\n"
        "_build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'matplotlib', 'shiboken6'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert done.stdout.strip() == ""


def test_the_engine_runs_where_numba_cannot_cache() -> None:
    """Without a writable cache folder numba refuses to cache a compiled
    function; the engine then compiles it afresh instead of failing to import.
    (Only the zip-file locator allowed: it finds no folder for a plain file.)"""
    done = subprocess.run(
        [sys.executable, "-c", "import simulator.engine.chunk"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "ZipCacheLocator"},
    )
    assert done.returncode == 0, done.stderr


def test_the_compiled_steps_constants_match_the_lists_they_index() -> None:
    """kernel.py writes its row indices out (numba caches them as constants and
    would not notice a change in another file): they must match the lists."""
    from simulator.engine import kernel, params
    from simulator.engine.series import FLOWS, RECORDED

    for index, name in enumerate(params.PER_RUN_FIELDS):
        assert getattr(kernel, name.upper()) == index, name
    for index, name in enumerate(params.SWITCHES):
        assert getattr(kernel, name.upper()) == index, name
    for index, name in enumerate(RECORDED):
        assert getattr(kernel, f"S_{name.upper()}") == index, name
    assert len(RECORDED) == kernel.S_SHARES
    assert [RECORDED[row] for row in kernel.FLOW_ROWS] == list(FLOWS)
    from simulator.engine.streams import KERNEL_SITES

    for index, site in enumerate(KERNEL_SITES):
        row = "NURTURE_SITE" if site == "nurture" else site.upper()
        assert getattr(kernel, row) == index, site
    classes = ("READY", "NURTURE", "FUTURE", "JUNK", "N_CLASSES")
    for name in classes:
        assert getattr(kernel, name) == getattr(params, name), name


def test_commands_that_do_not_simulate_do_not_import_the_engine() -> None:
    """Listing, validating and help answer without numba (a third of a second)."""
    code = (
        "import sys, contextlib, io\n"
        "from simulator.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['list'])\n"
        "    main(['validate', 'scenarios/siloed.toml'])\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO
    )
    assert done.stdout.strip() == "False", done.stderr


def test_the_import_contracts_hold(monkeypatch, capsys) -> None:
    """The layers model -> engine -> run -> analysis -> report -> cli, Qt only
    in gui and matplotlib only in simulator.report and gui (pyproject.toml)."""
    from importlinter.cli import lint_imports

    monkeypatch.chdir(REPO)
    code = lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True)
    assert code == 0, capsys.readouterr().out


def test_subcommands_share_options_not_the_central_cli_module() -> None:
    """Each subcommand module imports what commands share from
    simulator.cli.options; only the central module imports the subcommands."""
    import grimp

    graph = grimp.build_graph("simulator")
    for module in sorted(graph.find_children("simulator.cli")):
        if module.endswith("__main__"):
            continue
        imported = graph.find_modules_directly_imported_by(module)
        assert "simulator.cli" not in imported, module
    assert "simulator.cli" not in graph.find_modules_directly_imported_by(
        "simulator.cli.options"
    )


def test_the_app_adds_its_command_through_the_entry_point() -> None:
    """``funnelsim gui`` comes from the app's entry point; the core names no app."""
    from importlib.metadata import entry_points

    from simulator.cli import COMMANDS_GROUP, _build_parser

    (point,) = [p for p in entry_points(group=COMMANDS_GROUP) if p.name == "gui"]
    assert point.value == "gui.app:register"
    args = _build_parser("gui").parse_args(["gui", "siloed", "--runs", "300"])
    assert args.scenarios == ["siloed"] and args.runs == 300
