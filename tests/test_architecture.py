"""The engine knows no screen: importing it must not load Qt or matplotlib."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_simulator_imports_no_gui_or_plotting_modules() -> None:
    code = (
        "import sys\n"
        "import simulator.cli, simulator.runner, simulator.scenario_io\n"
        "import simulator.bench\n"
        "import simulator.results, simulator.report_text\n"
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
        [sys.executable, "-c", "import simulator.engine"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "ZipCacheLocator"},
    )
    assert done.returncode == 0, done.stderr


def test_the_compiled_steps_constants_match_the_lists_they_index() -> None:
    """kernel.py writes its row indices out (numba caches them as constants and
    would not notice a change in another file): they must match the lists."""
    from simulator import kernel, params
    from simulator.series import FLOWS, RECORDED

    for index, name in enumerate(params.PER_RUN_FIELDS):
        assert getattr(kernel, name.upper()) == index, name
    for index, name in enumerate(params.SWITCHES):
        assert getattr(kernel, name.upper()) == index, name
    for index, name in enumerate(RECORDED):
        assert getattr(kernel, f"S_{name.upper()}") == index, name
    assert len(RECORDED) == kernel.S_SHARES
    assert [RECORDED[row] for row in kernel.FLOW_ROWS] == list(FLOWS)
    from simulator.streams import KERNEL_SITES

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
