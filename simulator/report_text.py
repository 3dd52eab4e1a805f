"""Plain-text tables of results, with units, for the terminal."""

from __future__ import annotations

import math

from simulator.caveats import comparison_caveats
from simulator.figures import FIGURE_ORDER, FIGURE_UNITS
from simulator.plausibility import result_warning_lines
from simulator.results import Comparison, RunResult

#: Figures shown in the terminal, most telling first.
HEADLINE_FIGURES = FIGURE_ORDER


def fmt(value: float, unit: str) -> str:
    """A number as a person reads it: $1.2M, 12.5 %, 1,234 leads."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "share":
        return f"{value * 100:+.1f} %" if value < 0 else f"{value * 100:.1f} %"
    if unit.startswith("$"):
        sign = "-" if value < 0 else ""
        size = abs(value)
        for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if size >= limit:
                return f"{sign}${size / limit:.2f}{suffix}"
        return f"{sign}${size:,.0f}"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def fmt_diff(value: float, unit: str) -> str:
    text = fmt(value, unit)
    return text if text.startswith(("-", "+", "n/a")) else "+" + text


def fmt_multiple(value: float) -> str:
    """A return on cost as a person reads it: ``14.2\u00d7`` (no-break space
    inside nothing, so it never splits across lines)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.1f}\u00d7"


def net_value_line(comparison: Comparison, index: int) -> str:
    """One sentence: the alternative's revenue gain minus its extra cost over
    the horizon, the return on that cost, their ranges and how often it pays,
    as the terminal, the cards, the PDF and the deck all say it."""
    nv = comparison.net_value(index)
    gain, extra, net, ret = (
        nv["revenue_gain"],
        nv["extra_cost"],
        nv["net"],
        nv["return"],
    )
    weeks = comparison.baseline.settings.horizon_weeks
    text = (
        f"Net value over {weeks} weeks: revenue gained {fmt_diff(gain['p50'], '$')} "
        f"\u2212 extra cost {fmt_diff(extra['p50'], '$')} = "
        f"{fmt_diff(net['p50'], '$')} (median of paired runs; 90\u00a0% of runs "
        f"{fmt_diff(net['p5'], '$')} to {fmt_diff(net['p95'], '$')}; "
        f"mean {fmt_diff(net['mean'], '$')} \u00b1 {fmt(net['se'], '$')} s.e.)"
    )
    if ret["n"]:
        text += (
            f"; return on the extra cost {fmt_multiple(ret['p50'])} "
            f"({fmt_multiple(ret['p5'])} to {fmt_multiple(ret['p95'])})"
        )
    elif extra["p50"] <= 0:
        text += "; it costs no more than the baseline"
    text += f"; it pays for itself in {fmt(net['p_positive'], 'share')} of runs."
    return text


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def _figures(result: RunResult) -> list[str]:
    return [f for f in HEADLINE_FIGURES if f in result.figures]


def _title(result: RunResult) -> str:
    s = result.settings
    return (
        f"{s.runs:,} runs, {s.horizon_weeks} weeks after a {s.warmup_weeks}-week "
        f"warm-up, seed {s.seed}"
    )


def run_table(result: RunResult) -> str:
    rows = []
    for figure in _figures(result):
        unit = FIGURE_UNITS.get(figure, "")
        st = result.summary[figure]
        rows.append(
            [
                figure,
                unit,
                fmt(st["mean"], unit),
                fmt(st["se"], unit),
                fmt(st["p5"], unit),
                fmt(st["p50"], unit),
                fmt(st["p95"], unit),
            ]
        )
    header = ["figure", "unit", "mean", "± se", "p5", "median", "p95"]
    return f"{result.name}: {_title(result)}\n\n{_table(header, rows)}"


def comparison_table(comparison: Comparison) -> str:
    base = comparison.baseline
    parts = [
        f"Baseline {base.name!r} vs "
        + ", ".join(repr(a.name) for a in comparison.alternatives)
        + f": {_title(base)}; one warm-up, common random numbers.\n"
        "Differences are paired per run (alternative - baseline): mean ± standard "
        "error, 5-95 % range, and P(better) = share of runs where the alternative's "
        "figure is better (higher; lower for costs, CAC, lost leads and customers)."
    ]
    for index, alt in enumerate(comparison.alternatives):
        diffs = comparison.differences[index]
        rows = []
        for figure in _figures(base):
            unit = FIGURE_UNITS.get(figure, "")
            d = diffs[figure]
            rows.append(
                [
                    figure,
                    unit,
                    fmt(base.summary[figure]["p50"], unit),
                    fmt(alt.summary[figure]["p50"], unit),
                    f"{fmt_diff(d['mean'], unit)} ± {fmt(d['se'], unit).lstrip('+')}",
                    f"{fmt_diff(d['p5'], unit)} .. {fmt_diff(d['p95'], unit)}",
                    "n/a"
                    if math.isnan(d["p_better"])
                    else f"{d['p_better'] * 100:.1f} %",
                ]
            )
        header = [
            "figure",
            "unit",
            f"{base.name} p50",
            f"{alt.name} p50",
            "difference (mean ± se)",
            "5-95 % of difference",
            "P(better)",
        ]
        parts.append(_table(header, rows))
        if "total_revenue" in diffs and "total_cost" in diffs:
            parts.append(net_value_line(comparison, index))
    parts += comparison_caveats(
        base.scenario, [alt.scenario for alt in comparison.alternatives]
    )
    parts += result_warning_lines(comparison)
    return "\n\n".join(parts)
