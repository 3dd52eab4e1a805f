"""``funnelsim sweep``: does the verdict survive the figures nobody has measured?

Two inputs of the bundled scenarios have no firm source (docs/model.md,
"Sensitivity"):

* the response-decay time constant ``follow_up.decay_tau_hours``: 0.49 h (29 min)
  fits the HBR 2011 audit, 0.133 h (8 min) fits the MIT / InsideSales Lead Response
  Management study;
* the closed-loop learning rate ``marketing.reallocation.rate``: how far the
  budget moves at each review, from 0 (never) to 1 (its maximum).

At each sweep point the command runs a paired comparison (one warm-up with the
baseline, common random numbers) and prints both medians, the paired difference
with its standard error, ``p_better`` and whether the alternative still beats the
baseline. Only numpy and the standard library are used.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from simulator.cli import (
    EXIT_OK,
    add_run_options,
    refuse_comparison_files,
    settings_from,
)
from simulator.errors import ScenarioError
from simulator.figures import FIGURE_UNITS
from simulator.report_text import fmt, fmt_change, fmt_spread
from simulator.runner import RunSettings, compare
from simulator.safe_text import for_terminal
from simulator.scenario_io import (
    load_scenario,
    parse_override,
    resolve_alternative,
)
from simulator.series import FLOWS

TAU_PARAMETER = "follow_up.decay_tau_hours"
RATE_PARAMETER = "marketing.reallocation.rate"
#: 8 minutes (Lead Response Management study) and 29 minutes (HBR 2011 fit).
DEFAULT_TAUS = (0.133, 0.49)
#: From "never moves" to the schema's maximum.
DEFAULT_RATES = (0.0, 0.25, 0.5, 0.75, 1.0)
#: The verdict needs the paired mean difference this many standard errors from 0.
Z_VERDICT = 2.0


@dataclass(frozen=True)
class SweepPoint:
    """The result of one paired comparison of the sweep."""

    parameter: str
    value: float
    applies_to: str
    baseline_p50: float
    alternative_p50: float
    difference_mean: float
    difference_se: float
    p_better: float
    p_better_se: float
    verdict: str  # "better", "worse" or "unclear"

    @property
    def beats(self) -> bool:
        return self.verdict == "better"


def verdict(mean: float, se: float) -> str:
    """``better`` when the paired mean difference is more than ``Z_VERDICT``
    standard errors above 0, ``worse`` when as far below, else ``unclear``."""
    if not math.isfinite(mean):
        return "unclear"
    if mean - Z_VERDICT * se > 0:
        return "better"
    if mean + Z_VERDICT * se < 0:
        return "worse"
    return "unclear"


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


def run_point(
    baseline_ref: str,
    alternative_ref: str,
    *,
    parameter: str,
    value: float,
    on_baseline: bool,
    overrides: dict[str, Any],
    settings: RunSettings | None,
    figure: str,
    threads: int | None = None,
) -> SweepPoint:
    """One paired comparison with ``parameter`` set to ``value`` on the alternative
    (and on the baseline too when ``on_baseline``). The caller's ``overrides``
    (``--set``) describe the company: they apply to the baseline, which the
    alternative inherits (its levers then act on them); the swept value is set
    on the alternative after its levers, so that it holds there whatever they
    set."""
    point = {parameter: value}
    base = load_scenario(
        baseline_ref, overrides={**overrides, **(point if on_baseline else {})}
    )
    alt = resolve_alternative(base, alternative_ref, overrides=point)
    comparison = compare(base, [alt], settings=settings, threads=threads)
    diff = comparison.differences[0][figure]
    return SweepPoint(
        parameter=parameter,
        value=value,
        applies_to="both" if on_baseline else "alternative",
        baseline_p50=comparison.baseline.summary[figure]["p50"],
        alternative_p50=comparison.alternatives[0].summary[figure]["p50"],
        difference_mean=diff["mean"],
        difference_se=diff["se"],
        p_better=diff["p_better"],
        p_better_se=diff["p_better_se"],
        verdict=verdict(diff["mean"], diff["se"]),
    )


def sweep(
    baseline_ref: str = "siloed",
    alternative_ref: str = "aligned",
    *,
    taus: Sequence[float] = DEFAULT_TAUS,
    rates: Sequence[float] = DEFAULT_RATES,
    rate_on: str = "both",
    overrides: dict[str, Any] | None = None,
    settings: RunSettings | None = None,
    figure: str = "arr_growth_y1",
    threads: int | None = None,
) -> list[SweepPoint]:
    """Run every sweep point: the decay constants (on both scenarios: it describes
    buyers, not the organisation), then the learning rates (on both, or on the
    alternative only with ``rate_on="alternative"``)."""
    overrides = dict(overrides or {})
    points = [
        run_point(
            baseline_ref,
            alternative_ref,
            parameter=TAU_PARAMETER,
            value=tau,
            on_baseline=True,
            overrides=overrides,
            settings=settings,
            figure=figure,
            threads=threads,
        )
        for tau in taus
    ]
    points += [
        run_point(
            baseline_ref,
            alternative_ref,
            parameter=RATE_PARAMETER,
            value=rate,
            on_baseline=rate_on == "both",
            overrides=overrides,
            settings=settings,
            figure=figure,
            threads=threads,
        )
        for rate in rates
    ]
    return points


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
