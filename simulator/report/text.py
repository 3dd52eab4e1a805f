"""Plain-text tables of results, with units, for the terminal.

A table fits 100 columns: figures are named in words (:mod:`simulator.run.figures`),
each column holds one statistic, and a one-line legend says which. The key
figures are shown by default, every figure on request.
"""

from __future__ import annotations

import math
import textwrap

from simulator.model.plausibility import result_warning_lines
from simulator.report.caveats import comparison_caveats
from simulator.run.figures import (
    FIGURE_ORDER,
    FIGURE_SHORT_LABELS,
    FIGURE_UNITS,
)
from simulator.run.results import Comparison, RunResult

#: What a reader of a comparison looks at first: growth, money, deals, and the
#: leads the hand-off loses.
KEY_FIGURES = (
    "arr_growth_y1",
    "arr_end",
    "total_revenue",
    "total_won",
    "cac",
    "total_ignored",
    "total_churned",
    "total_cost",
)
#: Widest a table may be, in characters.
MAX_WIDTH = 100
#: Widest a scenario's name may be in a column header.
NAME_WIDTH = 10


#: Dollar amounts are written in thousands, millions or billions from these sizes.
MONEY_SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "K"))


def money_scale(size: float) -> tuple[float, str]:
    """The divisor and suffix for a dollar amount of this size: ``(1e6, "M")``
    for 2,400,000, ``(1.0, "")`` below a thousand. The terminal tables, the
    app's cards and its chart axes all scale money by this."""
    size = abs(size)
    for limit, suffix in MONEY_SCALES:
        # (999,999.9 rounds to "$1000K": it is written "$1.00M")
        if size >= limit * 0.9995:
            return limit, suffix
    return 1.0, ""


def fmt_money(
    value: float, *, signed: bool = False, decimals: int | None = None
) -> str:
    """``10_800_000 -> "$10.8M"``, ``-4200 -> "-$4.2K"``, ``2e9 -> "$2.00B"``:
    three significant digits unless ``decimals`` is given."""
    if value is None or not math.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    divisor, suffix = money_scale(value)
    scaled = abs(value) / divisor
    if decimals is None:
        decimals = 0 if not suffix or scaled >= 100 else 1 if scaled >= 10 else 2
        if suffix == "K":  # $4.2K, $42K: a tenth of a thousand is enough
            decimals = min(decimals, 1 if scaled < 10 else 0)
    return f"{sign}${scaled:,.{decimals}f}{suffix}"


def fmt_points(value: float, *, decimals: int = 1) -> str:
    """A difference of two shares in percentage points: ``0.052 -> "+5.2 points"``
    (never "%", which would read as a relative change)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if round(abs(value) * 100, decimals) == 0:
        return f"{0:.{decimals}f} points"  # not "-0.0" or "+0.0"
    return f"{value * 100:+.{decimals}f} points"


def fmt(value: float, unit: str) -> str:
    """A number as a person reads it: $1.2M, 12.5 %, 1,234 leads."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "share":
        return f"{value * 100:+.1f} %" if value < 0 else f"{value * 100:.1f} %"
    if unit.startswith("$"):
        return fmt_money(value, decimals=2 if abs(value) >= 1e3 else 0)
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def fmt_diff(value: float, unit: str) -> str:
    """A difference: shares in percentage points, the rest signed."""
    if unit == "share":
        return fmt_points(value)
    text = fmt(value, unit)
    return text if text.startswith(("-", "+", "n/a")) else "+" + text


def fmt_change(value: float, unit: str) -> str:
    """A difference with its sign; a difference of shares in percentage points."""
    if unit == "share" and not math.isnan(value):
        return f"{value * 100:+.1f} pts"
    return fmt_diff(value, unit)


def fmt_spread(value: float, unit: str) -> str:
    """A standard error: no sign; of shares in percentage points."""
    if unit == "share" and not math.isnan(value):
        return f"{value * 100:.1f} pts"
    return fmt(value, unit)


def two_digits(value: float) -> str:
    """A number to two significant digits, never in scientific notation:
    0.031 -> "0.031", 1.234 -> "1.2", 123.4 -> "120"."""
    if math.isnan(value) or value == 0 or math.isinf(value):
        return "n/a" if math.isnan(value) else f"{value:g}"
    digits = 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, digits)
    # rounding may carry into another digit (0.0996 -> 0.1)
    digits = max(0, 1 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:,.{digits}f}"


def fmt_se(value: float, unit: str) -> str:
    """A standard error to two significant digits (a 0.03-point s.e. is not
    "0.0"); of shares in percentage points."""
    if unit == "share":
        return f"{two_digits(value * 100)} pts"
    if unit.startswith("$") or math.isnan(value):
        return fmt(value, unit)
    return two_digits(value)


def fmt_share(p: float) -> str:
    """A share of runs; never rounded to a certain 0 or 100 % that is not."""
    if math.isnan(p):
        return "n/a"
    if 0 < p < 0.001:
        return "<0.1 %"
    if 0.999 < p < 1:
        return ">99.9 %"
    return f"{p * 100:.1f} %"


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


def _short(name: str, width: int = NAME_WIDTH) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _figures(result: RunResult, every: bool) -> list[str]:
    shown = FIGURE_ORDER if every else KEY_FIGURES
    return [f for f in shown if f in result.figures]


def _title(result: RunResult) -> str:
    s = result.settings
    return (
        f"{s.runs:,} runs · totals over {s.horizon_weeks} weeks after a "
        f"{s.warmup_weeks}-week warm-up · seed {s.seed}"
    )


def _legend(text: str, every: bool) -> str:
    """A table's legend, and that it shows the key figures when it does."""
    if not every:
        text += "\nKey figures; --all shows every figure."
    return text


def run_table(result: RunResult, *, every: bool = False) -> str:
    rows = []
    for figure in _figures(result, every):
        unit = FIGURE_UNITS.get(figure, "")
        st = result.summary[figure]
        rows.append(
            [FIGURE_SHORT_LABELS.get(figure, figure)]
            + [fmt(st[key], unit) for key in ("mean", "p5", "p50", "p95")]
            + [fmt_se(st["se"], unit)]
        )
    header = ["Figure", "Mean", "5th pct", "Median", "95th pct", "± s.e."]
    legend = (
        "Over the runs: mean, 5th and 95th percentile and median; "
        "s.e.: standard error of the mean."
    )
    title = textwrap.fill(f"{result.name}: {_title(result)}", MAX_WIDTH)
    return "\n".join([title, "", _table(header, rows), _legend(legend, every)])


def headline(comparison: Comparison, index: int) -> str:
    """One sentence on the alternative's first key figure against the baseline,
    with its standard error and the share of paired runs it is better in."""
    base, alt = comparison.baseline, comparison.alternatives[index]
    figure = next(f for f in (*KEY_FIGURES, *FIGURE_ORDER) if f in base.figures)
    unit = FIGURE_UNITS.get(figure, "")
    d = comparison.differences[index][figure]
    better = fmt_share(d["p_better"])
    label = FIGURE_SHORT_LABELS.get(figure, figure)
    if math.isnan(d["mean"]):
        return f"{label}: undefined in every run of {alt.name} or {base.name}."
    size, se = fmt_spread(abs(d["mean"]), unit), fmt_se(d["se"], unit)
    if figure == "arr_growth_y1":
        more = "more" if d["mean"] >= 0 else "less"
        size, se = size.removesuffix(" pts"), se.removesuffix(" pts")
        said = f"{alt.name} grows ARR {size} ± {se} points {more} than {base.name} "
        said += "in year 1"
    else:
        higher = "higher" if d["mean"] >= 0 else "lower"
        said = f"{label}: {alt.name} {size} ± {se} {higher} than {base.name}"
    sentence = f"{said}, better in {better} of paired runs."
    return textwrap.fill(sentence, MAX_WIDTH)


def comparison_table(comparison: Comparison, *, every: bool = False) -> str:
    base = comparison.baseline
    parts = []
    for index, alt in enumerate(comparison.alternatives):
        diffs = comparison.differences[index]
        rows = []
        for figure in _figures(base, every):
            unit = FIGURE_UNITS.get(figure, "")
            d = diffs[figure]
            rows.append(
                [
                    FIGURE_SHORT_LABELS.get(figure, figure),
                    fmt(base.summary[figure]["mean"], unit),
                    fmt(alt.summary[figure]["mean"], unit),
                    fmt_change(d["mean"], unit),
                    fmt_se(d["se"], unit),
                    fmt_change(d["p5"], unit),
                    fmt_change(d["p95"], unit),
                    fmt_share(d["p_better"]),
                ]
            )
        header = [
            "Figure",
            _short(base.name),
            _short(alt.name),
            "Difference",
            "± s.e.",
            "5th pct",
            "95th pct",
            "Better",
        ]
        legend = (
            f"Means; Difference: {_short(alt.name)} - {_short(base.name)} in each run "
            "(± s.e., percentiles); Better: share of runs"
        )
        lines = [headline(comparison, index), textwrap.fill(_title(base), MAX_WIDTH)]
        lines += ["", _table(header, rows), _legend(legend, every)]
        if "total_revenue" in diffs and "total_cost" in diffs:
            lines += ["", textwrap.fill(net_value_line(comparison, index), MAX_WIDTH)]
        parts.append("\n".join(lines))
    caveats = comparison_caveats(
        base.scenario, [alt.scenario for alt in comparison.alternatives]
    )
    notes = [*caveats, *result_warning_lines(comparison)]
    parts += [textwrap.fill(note, MAX_WIDTH) for note in notes]
    return "\n\n".join(parts)
