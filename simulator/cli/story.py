"""``funnelsim bridge`` and ``funnelsim sensitivity``: where the value comes from.

Both commands simulate many variants of a scenario with common random numbers, so
they default to fewer runs (:data:`DEFAULT_RUNS`) than ``run`` and ``compare``; the
horizon is the one ``compare`` uses (the baseline's ``[simulation]``), so a figure
such as ``arr_end`` means the same in every view. ``--runs`` and ``--weeks``
override.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any

from simulator.analysis.bridge import (
    DEFAULT_FIGURE,
    Bridge,
    value_bridge,
)
from simulator.analysis.drivers import (
    DEFAULT_SPAN,
    Skipped,
    Tornado,
    lever_drivers,
    parameter_drivers,
    tornado,
)
from simulator.cli.options import (
    add_run_options,
    emit_result,
    load_with_overrides,
    non_negative_int,
    positive_int,
    refuse_comparison_files,
    settings_from,
)
from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import (
    company_of,
    load_scenario,
    parse_override,
    resolve_alternative,
)
from simulator.model.schema import Scenario
from simulator.report.text import _table, fmt, fmt_change, fmt_spread
from simulator.run.runner import RunSettings

#: Runs per scenario unless --runs is given: a bridge over 8 levers simulates 256
#: scenarios, a tornado over ~30 parameters about 60.
DEFAULT_RUNS = 500


def register(subparsers: Any) -> None:
    """Add the ``bridge`` and ``sensitivity`` commands."""
    p = subparsers.add_parser(
        "bridge",
        help="value bridge: waterfall and Shapley values of a difference, by lever",
        description="Explain the difference between two scenarios lever by lever: a "
        "waterfall in a chosen order and each lever's Shapley value (its effect "
        "averaged over all orders), with common random numbers. Defaults: "
        f"{DEFAULT_RUNS} runs, the baseline's horizon (as compare), the median of "
        f"{DEFAULT_FIGURE} (ARR at the end of the horizon).",
    )
    p.add_argument("baseline", help="bundled id or path")
    p.add_argument("alternative", help="bundled id or path")
    _figure_options(p)
    p.add_argument(
        "--order",
        type=_id_list,
        help="waterfall order, comma-separated step ids (lever ids, 'other'); "
        "steps not named follow in the alternative's order",
    )
    p.add_argument(
        "--permutations",
        type=positive_int,
        help="estimate Shapley values from this many sampled orders instead of "
        "exactly (exact by default for up to 9 steps)",
    )
    add_run_options(p)
    p.set_defaults(handler=cmd_bridge)

    p = subparsers.add_parser(
        "sensitivity",
        help="drivers (tornado): which parameters or levers move a figure most",
        description="Move each parameter between a low and a high value (default "
        "±20 % of its value, clipped to its allowed range), or switch each lever "
        "off and on, with everything else held; rank by the change in the figure. "
        f"Defaults: {DEFAULT_RUNS} runs, the scenario's horizon (as compare), the "
        f"median of {DEFAULT_FIGURE}.",
    )
    p.add_argument("scenario", help="bundled id or path")
    _figure_options(p)
    what = p.add_mutually_exclusive_group()
    what.add_argument(
        "--levers",
        nargs="?",
        const="",
        type=str,
        metavar="ID,...",
        help="switch levers off and on instead of moving parameters (default: the "
        "scenario's levers and every bundled lever)",
    )
    what.add_argument(
        "--params",
        type=_id_list,
        metavar="NAME,...",
        help="dotted parameters to move (default: every numeric parameter except "
        "structural ones, the starting size and shares that sum to 1)",
    )
    p.add_argument(
        "--span",
        type=float,
        default=DEFAULT_SPAN,
        help="relative move of each parameter, low = value x (1 - span), "
        "high = value x (1 + span) (default 0.2)",
    )
    p.add_argument(
        "--range",
        dest="ranges",
        action="append",
        default=[],
        metavar="NAME=LOW,HIGH",
        help="a published range for a parameter (replaces ±span; adds it if not "
        "listed)",
    )
    p.add_argument(
        "--top", type=positive_int, help="show only the first N drivers in the table"
    )
    add_run_options(p)
    p.set_defaults(handler=cmd_sensitivity)


def _figure_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--figure",
        default=DEFAULT_FIGURE,
        help=f"per-run figure to explain (default {DEFAULT_FIGURE}; e.g. "
        "arr_growth_y1, total_revenue, total_won, cac)",
    )
    p.add_argument(
        "--statistic",
        choices=("median", "mean"),
        default="median",
        help="statistic over runs (default median)",
    )
    p.add_argument(
        "--bootstrap",
        type=non_negative_int,
        default=200,
        help="bootstrap resamples for standard errors (default 200; 0: none)",
    )


def _id_list(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return items


def _parse_range(text: str) -> tuple[str, tuple[float, float]]:
    name, sep, values = text.partition("=")
    low_text, comma, high_text = values.partition(",")
    try:
        if not (sep and comma and name.strip()):
            raise ValueError
        low, high = float(low_text), float(high_text)
    except ValueError:
        raise ScenarioError(
            "expected NAME=LOW,HIGH, e.g. --range handoff.ignore_base=0.3,0.6",
            parameter=f"--range {text!r}",
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ScenarioError("range ends must be finite", parameter=f"--range {text!r}")
    return name.strip(), (low, high)


def _settings(args: argparse.Namespace, baseline: Any) -> RunSettings:
    if args.runs is None:
        args.runs = DEFAULT_RUNS
    return settings_from(args, baseline)


class PercentBar:
    """A percentage bar on stderr (tqdm), only for a terminal."""

    def __init__(self, label: str) -> None:
        self._bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                total=100,
                desc=label,
                unit="%",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )

    def __call__(self, fraction: float) -> None:
        if self._bar is not None:
            self._bar.n = round(fraction * 100)
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# --------------------------------------------------------------------- bridge


def cmd_bridge(args: argparse.Namespace) -> int:
    baseline, alternative = load_with_overrides(
        [args.baseline, args.alternative], args.overrides, command="bridge"
    )
    settings = _settings(args, baseline)
    bar = PercentBar("bridge")
    try:
        result = value_bridge(
            baseline,
            alternative,
            figure=args.figure,
            statistic=args.statistic,
            order=args.order,
            settings=settings,
            permutations=args.permutations,
            bootstrap=args.bootstrap,
            threads=args.threads,
            progress=bar,
        )
    finally:
        bar.close()
    return emit_result(args, result, bridge_text)


def _pm(value: float, se: float, unit: str) -> str:
    """A change with its standard error; of a share (growth) in points."""
    text = fmt_change(value, unit)
    if math.isnan(se):
        return text
    return f"{text} ± {fmt_spread(se, unit)}"


def _settings_line(settings: RunSettings, scenarios: int, seconds: float) -> str:
    return (
        f"{settings.runs:,} runs x {settings.horizon_weeks} weeks after a "
        f"{settings.warmup_weeks}-week warm-up, seed {settings.seed}; {scenarios} "
        f"scenarios with common random numbers in {seconds:.1f} s"
    )


def bridge_text(bridge: Bridge) -> str:
    """The bridge as terminal tables with units."""
    unit = bridge.unit
    what = f"{bridge.statistic} of {bridge.figure} ({unit})"
    lines = [
        f"Value bridge {bridge.baseline_name!r} -> {bridge.alternative_name!r}: {what}",
        _settings_line(bridge.settings, bridge.scenarios_simulated, bridge.seconds)
        + ".",
        "",
        "Waterfall: steps added one at a time in this order; with interacting "
        "levers a bar depends on the order.",
    ]
    rows = [
        [f"{bridge.baseline_name} (baseline)", "", fmt(bridge.baseline_value, unit)]
    ]
    for step in bridge.steps:
        change = (
            "0 (changes only costs)" if step.null else _pm(step.delta, step.se, unit)
        )
        rows.append([f"+ {step.id}", change, fmt(step.end, unit)])
    rows.append([f"{bridge.alternative_name}", "", fmt(bridge.alternative_value, unit)])
    rows.append(["total difference", _pm(bridge.total, bridge.total_se, unit), ""])
    lines.append(_table(["step", "change (± se)", bridge.statistic], rows))
    lines.append("")
    if bridge.method == "exact":
        how = "exact, over every subset of steps"
    else:
        how = f"estimated from {bridge.permutations} sampled orders"
    lines.append(
        f"Shapley values: each step's effect averaged over all orders ({how}); they "
        "sum to the total difference."
    )
    rows = []
    for value in bridge.shapley:
        rows.append(
            [
                value.id,
                value.name,
                "0 (changes only costs)"
                if value.null
                else _pm(value.value, value.se, unit),
                "n/a" if math.isnan(value.share) else f"{value.share * 100:.1f} %",
            ]
        )
    rows.append(
        [
            "total",
            "",
            fmt_change(sum(v.value for v in bridge.shapley), unit),
            "100.0 %" if bridge.total else "n/a",
        ]
    )
    lines.append(_table(["step", "name", "Shapley (± se)", "share"], rows))
    if bridge.bootstrap:
        lines.append(
            f"± se: Monte Carlo standard error from {bridge.bootstrap} bootstrap "
            "resamples of the runs (paired across scenarios)."
        )
    lines += [f"Note: {note}" for note in bridge.notes]
    return "\n".join(lines)


# --------------------------------------------------------------------- sensitivity


def cmd_sensitivity(args: argparse.Namespace) -> int:
    ranges = dict(_parse_range(text) for text in args.ranges)
    if args.levers is not None:
        if ranges:
            raise ScenarioError("--range applies to parameters, not to --levers")
        # Switching levers off and on reads the scenario as its company with
        # changes (the comparison rule): --set describes that company, and a
        # lever taken out goes back to the company's value.
        scenario, company = _scenario_on_company(args.scenario, args.overrides)
        levers = _id_list(args.levers) if args.levers.strip() else None
        if company is not None:
            drivers = lever_drivers(scenario, levers, parent=company)
        else:
            drivers = lever_drivers(scenario, levers)
        skipped: list[Skipped] = []
        settings = _settings(args, scenario)
    else:
        (scenario,) = load_with_overrides(
            [args.scenario], args.overrides, command="sensitivity"
        )
        settings = _settings(args, scenario)
        drivers, skipped = parameter_drivers(
            scenario, args.params, span=args.span, ranges=ranges
        )
    bar = PercentBar("sensitivity")
    try:
        result = tornado(
            scenario,
            drivers,
            figure=args.figure,
            statistic=args.statistic,
            settings=settings,
            bootstrap=args.bootstrap,
            skipped=skipped,
            threads=args.threads,
            progress=bar,
        )
    finally:
        bar.close()
    return emit_result(
        args, result, lambda drivers: tornado_text(drivers, top=args.top)
    )


def _scenario_on_company(
    ref: str, overrides: Sequence[str]
) -> tuple[Scenario, Scenario | None]:
    """``ref`` as the company it was written for with its changes (levers and
    values, :func:`~simulator.model.scenario_io.resolve_alternative`), ``overrides``
    applied to that company; the company is ``None`` when ``ref`` is itself
    one (no lever in force), and the overrides then apply to it last."""
    refuse_comparison_files([ref], command="sensitivity")
    company_path = company_of(ref)
    if company_path is None:
        (scenario,) = load_with_overrides([ref], overrides, command="sensitivity")
        return scenario, None
    parsed = dict(parse_override(text) for text in overrides)
    company = load_scenario(company_path, overrides=parsed)
    return resolve_alternative(company, ref), company


def tornado_text(result: Tornado, *, top: int | None = None) -> str:
    """The tornado as a terminal table with units, largest swing first."""
    unit = result.unit
    lines = [
        f"Drivers of the {result.statistic} of {result.figure} ({unit}) in "
        f"{result.scenario_name!r}: {fmt(result.base_value, unit)} as it stands; "
        "each input moved alone.",
        _settings_line(result.settings, result.scenarios_simulated, result.seconds)
        + ".",
        "",
    ]
    rows = []
    shown = result.effects[:top] if top else result.effects
    for rank, effect in enumerate(shown, start=1):
        d = effect.driver
        rows.append(
            [
                f"{rank}. {d.id}",
                f"{d.low_label} .. {d.high_label} {d.unit}".rstrip(),
                _pm(effect.delta_low, effect.se_low, unit),
                _pm(effect.delta_high, effect.se_high, unit),
                f"{fmt_spread(effect.swing, unit)} ± "
                f"{fmt_spread(effect.swing_se, unit)}"
                if not math.isnan(effect.swing_se)
                else fmt_spread(effect.swing, unit),
            ]
        )
    header = [
        "input",
        "low .. high",
        "change at low (± se)",
        "change at high (± se)",
        "swing (± se)",
    ]
    lines.append(_table(header, rows))
    if top and len(result.effects) > top:
        lines.append(f"... and {len(result.effects) - top} more (see --json).")
    if result.skipped:
        lines.append("")
        lines.append("Not moved:")
        lines += [f"  {s.id}: {s.reason}" for s in result.skipped]
    if result.bootstrap:
        lines.append(
            f"± se: Monte Carlo standard error from {result.bootstrap} bootstrap "
            "resamples of the runs (paired across variants)."
        )
    lines += [f"Note: {note}" for note in result.notes]
    return "\n".join(lines)
