"""``funnelsim sweep``: does the verdict survive the figures nobody has measured?

The sweep itself (:mod:`simulator.analysis.sweep`) runs a paired comparison at
each value of the decay constant and of the learning rate; this command prints
both medians, the paired difference with its standard error, ``p_better`` and
whether the alternative still beats the baseline.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from simulator.analysis.sweep import (
    DEFAULT_RATES,
    DEFAULT_TAUS,
    TAU_PARAMETER,
    Z_VERDICT,
    SweepPoint,
    sweep,
)
from simulator.cli.options import (
    EXIT_OK,
    add_run_options,
    refuse_comparison_files,
    settings_from,
)
from simulator.engine.series import FLOWS
from simulator.model.errors import ScenarioError
from simulator.model.safe_text import for_terminal
from simulator.model.scenario_io import (
    load_scenario,
    parse_override,
)
from simulator.report.text import fmt, fmt_change, fmt_spread
from simulator.run.figures import FIGURE_UNITS
from simulator.run.runner import RunSettings


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers"
        ) from None
    if not values or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} needs at least one finite number")
    return values


def format_table(
    points: Sequence[SweepPoint],
    baseline: str,
    alternative: str,
    figure: str,
    settings: RunSettings,
) -> str:
    unit = FIGURE_UNITS[figure]
    head = (
        f"Sweep of the unsourced figures: {baseline} vs {alternative}, figure "
        f"{figure}; {settings.runs:,} runs per point, {settings.horizon_weeks} weeks "
        f"after a {settings.warmup_weeks}-week warm-up, seed {settings.seed}.\n"
        "Each point is a paired comparison (one warm-up, common random numbers). "
        f"'beats' = the paired mean difference is more than {Z_VERDICT:g} standard "
        "errors above 0.\n"
    )
    rows = [
        (
            "parameter",
            "value",
            "applies to",
            f"{baseline} p50",
            f"{alternative} p50",
            "difference (mean ± se)",
            "P(better)",
            "beats?",
        )
    ]
    for p in points:
        value = (
            f"{p.value:g} h ({p.value * 60:.0f} min)"
            if p.parameter == TAU_PARAMETER
            else f"{p.value:g}"
        )
        rows.append(
            (
                p.parameter,
                value,
                p.applies_to,
                fmt(p.baseline_p50, unit),
                fmt(p.alternative_p50, unit),
                # A difference of shares (growth) in points, as compare says.
                f"{fmt_change(p.difference_mean, unit)} ± "
                f"{fmt_spread(p.difference_se, unit)}",
                f"{p.p_better * 100:.1f} % ± {p.p_better_se * 100:.1f}",
                {"better": "yes", "worse": "no (worse)", "unclear": "unclear"}[
                    p.verdict
                ],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(w) if i < 3 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    holds = all(p.beats for p in points)
    tail = (
        f"\nVerdict: {alternative} beats {baseline} at every point."
        if holds
        else f"\nVerdict: {alternative} does NOT beat {baseline} at every point: "
        "the conclusion depends on an unsourced figure."
    )
    return head + "\n" + "\n".join(lines) + tail


def cmd_sweep(args: argparse.Namespace) -> int:
    refuse_comparison_files([args.baseline, args.alternative], command="sweep")
    overrides = dict(parse_override(text) for text in args.overrides)
    baseline = load_scenario(args.baseline, overrides=overrides)
    settings = settings_from(args, baseline)
    figure = args.figure
    if figure not in _known_figures():
        raise ScenarioError(
            f"unknown figure; choose one of {', '.join(sorted(_known_figures()))}",
            file="command line",
            parameter="--figure",
        )
    points = sweep(
        args.baseline,
        args.alternative,
        taus=args.taus,
        rates=args.rates,
        rate_on=args.rate_on,
        overrides=overrides,
        settings=settings,
        figure=figure,
        threads=args.threads,
    )
    if args.json:
        out = {
            "baseline": args.baseline,
            "alternative": args.alternative,
            "figure": figure,
            "runs": settings.runs,
            "seed": settings.seed,
            "horizon_weeks": settings.horizon_weeks,
            "warmup_weeks": settings.warmup_weeks,
            "z_verdict": Z_VERDICT,
            "points": [{**asdict(p), "beats": p.beats} for p in points],
            "beats_everywhere": all(p.beats for p in points),
        }
        json.dump(out, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        table = format_table(points, args.baseline, args.alternative, figure, settings)
        print(for_terminal(table, keep_newlines=True))
    return EXIT_OK


def _known_figures() -> set[str]:
    return {f"total_{flow}" for flow in FLOWS} | {"arr_end", "arr_growth_y1", "cac"}


def register(subparsers: Any) -> None:
    """Add the ``sweep`` command to ``funnelsim``'s subparsers."""
    p = subparsers.add_parser(
        "sweep",
        help="does aligned still beat siloed when the unsourced figures change?",
        description="Sweep the two figures with no firm source - the response-decay "
        "time constant (8 vs 29 minutes) and the closed-loop learning rate (0 to "
        "1) - and print at each point whether the alternative still beats the "
        "baseline.",
    )
    p.add_argument(
        "baseline",
        nargs="?",
        default="siloed",
        help="bundled id or path (default: siloed)",
    )
    p.add_argument(
        "alternative",
        nargs="?",
        default="aligned",
        help="bundled id or path (default: aligned)",
    )
    p.add_argument(
        "--taus",
        type=_floats,
        default=DEFAULT_TAUS,
        metavar="H,H",
        help="decay time constants in hours (default: 0.133,0.49)",
    )
    p.add_argument(
        "--rates",
        type=_floats,
        default=DEFAULT_RATES,
        metavar="R,R",
        help="learning rates (default: 0,0.25,0.5,0.75,1)",
    )
    p.add_argument(
        "--rate-on",
        choices=("both", "alternative"),
        default="both",
        help="set the learning rate on both scenarios (default) or on the "
        "alternative only",
    )
    p.add_argument(
        "--figure",
        default="arr_growth_y1",
        help="per-run figure to compare (default: arr_growth_y1)",
    )
    add_run_options(p)
    p.set_defaults(handler=cmd_sweep)
