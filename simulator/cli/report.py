"""``funnelsim report``: a comparison as a PDF report, a PowerPoint deck and CSV.

The drawing and writing live in :mod:`simulator.report.export` and
:mod:`simulator.report.deck`
(matplotlib and python-pptx, no Qt); they are imported inside the handler, so
building the command-line parser loads neither.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from simulator.cli.options import (
    ProgressBar,
    add_run_options,
    load_with_overrides,
    settings_from,
    settings_from_file,
)
from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import resolve_reference
from simulator.model.schema import Scenario
from simulator.run.runner import RunSettings, compare

#: Runs of the value bridge unless --bridge-runs is given: an exact bridge over the
#: 8 bundled levers simulates 256 scenarios.
DEFAULT_BRIDGE_RUNS = 200


def register(subparsers: Any) -> None:
    """Add the ``report`` command."""
    p = subparsers.add_parser(
        "report",
        help="export a comparison: PDF report, PowerPoint deck, CSV",
        description="Run BASELINE vs ALTERNATIVE and write a PDF report (headline, "
        "differences, charts, value bridge, drivers, assumptions and sources), a "
        "16:9 PowerPoint deck (executive summary, net value, native editable "
        "charts, speaker notes, assumptions) and/or CSV files (per-run figures, "
        "and weekly percentiles next to them as NAME_weekly.csv) whose header "
        "names the scenarios, seed, runs, weeks and FunnelSim version.",
    )
    p.add_argument(
        "baseline",
        help="bundled id or path, or a comparison file (alone: its scenarios, run "
        "settings and target; the value bridge explains its first alternative)",
    )
    p.add_argument(
        "alternative", nargs="?", help="bundled id or path (with a scenario baseline)"
    )
    p.add_argument("--pdf", metavar="FILE", help="write the PDF report here")
    p.add_argument("--pptx", metavar="FILE", help="write the PowerPoint deck here")
    p.add_argument(
        "--csv",
        metavar="FILE",
        help="write per-run figures here and weekly percentiles to FILE_weekly.csv",
    )
    p.add_argument(
        "--title", default="What alignment is worth", help="title of report and deck"
    )
    p.add_argument(
        "--target",
        metavar="FIGURE=VALUE",
        help="mark a target, e.g. arr_growth_y1=0.1: the chance of reaching it "
        "and the weeks it is reached with 50 %% and 90 %% probability",
    )
    p.add_argument(
        "--no-bridge",
        action="store_true",
        help="leave out the value bridge and the drivers (they need extra runs)",
    )
    p.add_argument(
        "--bridge-runs",
        type=int,
        default=DEFAULT_BRIDGE_RUNS,
        metavar="N",
        help=f"runs per scenario of the bridge (default {DEFAULT_BRIDGE_RUNS})",
    )
    add_run_options(p)
    p.set_defaults(handler=cmd_report)


def _target(text: str | None, figures: Any) -> tuple[str, float] | None:
    if not text:
        return None
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise ScenarioError(f"--target {text!r}: expected FIGURE=VALUE")
    if name not in figures:
        known = ", ".join(sorted(figures))
        raise ScenarioError(f"--target: unknown figure {name!r} (known: {known})")
    try:
        return name, float(value)
    except ValueError:
        raise ScenarioError(f"--target {text!r}: {value!r} is not a number") from None


def cmd_report(args: argparse.Namespace) -> int:
    if not (args.pdf or args.pptx or args.csv):
        raise ScenarioError("nothing to write: give --pdf, --pptx and/or --csv")
    if args.bridge_runs < 1:
        raise ScenarioError("--bridge-runs must be at least 1")
    for option, suffix in (("pdf", ".pdf"), ("pptx", ".pptx"), ("csv", ".csv")):
        target = getattr(args, option)
        if target and Path(target).is_dir():
            raise ScenarioError(
                f"--{option} {target}: is a folder; give a file name, e.g. "
                f"{Path(target) / ('funnelsim' + suffix)}"
            )
    scenarios, settings, saved_target = _comparison(args)
    baseline, alternative = scenarios[0], scenarios[1]
    bar = ProgressBar(settings.runs, "compare")
    try:
        comparison = compare(
            baseline,
            scenarios[1:],
            settings=settings,
            threads=args.threads,
            progress=bar,
        )
    finally:
        bar.close()
    target = _target(args.target, comparison.baseline.figures) or saved_target
    bridge = drivers = None
    if not args.no_bridge and (args.pdf or args.pptx):
        bridge, drivers = _story(baseline, alternative, settings, args)

    from simulator.report import export as report

    written = []
    if args.csv:
        written += report.write_csv(comparison, args.csv)
    common: dict[str, Any] = {
        "bridge": bridge,
        "drivers": drivers,
        "target": target,
        "title": args.title,
    }
    if args.pdf:
        written.append(report.write_pdf(comparison, args.pdf, **common))
    if args.pptx:
        written.append(report.write_pptx(comparison, args.pptx, **common))
    if args.json:
        import json

        json.dump({"written": [str(p) for p in written]}, sys.stdout)
        sys.stdout.write("\n")
    else:
        for path in written:
            print(path)
    return 0


def _comparison(
    args: argparse.Namespace,
) -> tuple[list[Scenario], RunSettings, tuple[str, float] | None]:
    """The scenarios, run settings and saved target of the report: a baseline
    and an alternative, or one comparison file."""
    if args.alternative is not None:
        scenarios = load_with_overrides(
            [args.baseline, args.alternative], args.overrides, command="report"
        )
        return scenarios, settings_from(args, scenarios[0]), None
    from simulator.run.comparison_file import is_comparison_file, load_comparison

    path = resolve_reference(args.baseline)
    if not is_comparison_file(path):
        raise ScenarioError(
            "report needs a baseline and an alternative, or one comparison file",
            file=args.baseline,
        )
    if args.overrides:
        raise ScenarioError(
            "--set applies to scenario files; change the comparison file instead",
            file=args.baseline,
        )
    saved, scenarios = load_comparison(path)
    settings = settings_from_file(args, saved.run, scenarios[0])
    return scenarios, settings, saved.target


def _story(
    baseline: Any, alternative: Any, settings: RunSettings, args: argparse.Namespace
) -> tuple[Any, Any]:
    """The value bridge (ARR at the end of the horizon) and a lever tornado of the
    alternative, with ``--bridge-runs`` runs."""
    from dataclasses import replace

    from simulator.analysis.bridge import value_bridge
    from simulator.analysis.drivers import lever_drivers, tornado
    from simulator.cli.story import PercentBar

    story_settings = replace(settings, runs=min(args.bridge_runs, settings.runs))
    bar = PercentBar("bridge")
    try:
        bridge = value_bridge(
            baseline,
            alternative,
            settings=story_settings,
            threads=args.threads,
            progress=bar,
        )
    finally:
        bar.close()
    try:
        # Taking a lever out goes back to the baseline's values (the
        # alternative is the baseline with its levers).
        levers = lever_drivers(alternative, parent=baseline)
    except ScenarioError:  # an alternative that extends nothing: no levers to move
        return bridge, None
    bar = PercentBar("drivers")
    try:
        drivers = tornado(
            alternative,
            levers,
            settings=story_settings,
            threads=args.threads,
            progress=bar,
        )
    finally:
        bar.close()
    return bridge, drivers
