"""Pure plotting functions for FunnelSim results (no Qt).

Every function draws on a matplotlib ``Axes`` it is given and returns it, so the
desktop app, the exported reports and the tests share one drawing code path::

    fig = Figure(figsize=(8, 4))
    plot_fan(fig.add_subplot(), result, series="arr")

A result is a :class:`simulator.run.results.RunResult` (``.name``, ``.series(name)``,
``.figures``, ``.series_names``, ``.settings``); a comparison is a
:class:`simulator.run.results.Comparison`. Only numpy and matplotlib are imported.

Colours come from the Okabe-Ito palette, which stays distinguishable with the
common forms of colour blindness; the baseline is always vermillion and the first
alternative blue, so a room can follow "red is today, blue is aligned".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator

from simulator.report import text as report_text
from simulator.run.figures import FIGURE_LABELS, SERIES_LABELS

# Labels hold dollar amounts and scenario names as their authors wrote them: a
# pair of "$" must not turn them into mathtext (or a formula that cannot be
# parsed into an error at drawing time).
matplotlib.rcParams["text.parse_math"] = False

#: Okabe-Ito colours, by name.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Colour of the baseline, then of each alternative.
SCENARIO_COLORS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
#: Line styles, a second cue besides colour (baseline solid, alternatives dashed...).
LineStyle = Literal["-", "--", "-.", ":"]
SCENARIO_LINESTYLES: tuple[LineStyle, ...] = ("-", "--", "-.", ":", "-", "--")

#: Font sizes readable at workshop distance (points).
FONT = {"title": 15, "label": 13, "tick": 12, "legend": 12, "note": 11, "annot": 12}

MONEY_SERIES = {"arr", "revenue", "bookings", "spend", "cost"}
MONEY_FIGURES = {
    "arr_end",
    "cac",
    "total_revenue",
    "total_bookings",
    "total_spend",
    "total_cost",
}
SHARE_SERIES = {"ignore_rate"}
SHARE_FIGURES = {"arr_growth_y1"}


# --------------------------------------------------------------------------- format


def fmt_money(value: float, *, signed: bool = False) -> str:
    """``10_800_000 -> "$10.8M"``, ``-4200 -> "-$4.2K"``, ``2e9 -> "$2.00B"``
    (the terminal tables' scaling: :func:`simulator.report.text.money_scale`)."""
    return report_text.fmt_money(value, signed=signed)


def fmt_share(value: float, *, signed: bool = False, digits: int = 1) -> str:
    """``0.123 -> "12.3 %"``."""
    if value is None or not math.isfinite(value):
        return "n/a"
    # A no-break space keeps the number and its % on one line in labels and cards.
    return f"{value * 100:{'+' if signed else ''}.{digits}f}\u00a0%"


def fmt_count(value: float, *, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:{'+' if signed else ''},.0f}"
    return f"{value:{'+' if signed else ''},.1f}"


def fmt_figure(
    figure: str, value: float, *, signed: bool = False, difference: bool = False
) -> str:
    """Format a per-run figure or series value with its unit. A ``difference``
    of two shares is in percentage points ("+5.2 points"), never "%"."""
    if figure in MONEY_FIGURES or figure in MONEY_SERIES:
        return fmt_money(value, signed=signed or difference)
    if figure in SHARE_FIGURES or figure in SHARE_SERIES:
        if difference:
            return report_text.fmt_points(value)
        return fmt_share(value, signed=signed)
    return fmt_count(value, signed=signed or difference)


#: Tick steps, times a power of ten: ticks fall on round values (2.5 % steps
#: would be labelled "2 %, 5 %, 8 %").
ROUND_STEPS = [1, 2, 5, 10]


class ScaledFormatter(Formatter):
    """Tick labels in one unit for the whole axis, with as many decimals as the
    tick step needs: ``$1.5M, $2.0M, $2.5M``; ``$500K, $1.0M`` never mixes
    (the largest tick picks $K, $M or $B); ``5 %, 10 %``; ``+2 points``."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind  # "money", "share", "points" or "count"
        self._ticks: list[float] = []

    def set_locs(self, locs: Any) -> None:
        """The axis's ticks, which set the unit and decimals of every label."""
        self._ticks = [float(v) for v in locs]

    def _step(self) -> float:
        locs = sorted(self._ticks)
        steps = [b - a for a, b in itertools.pairwise(locs) if b > a]
        return min(steps) if steps else 0.0

    @staticmethod
    def _decimals(step: float) -> int:
        if step <= 0 or not math.isfinite(step):
            return 0
        return max(0, min(3, math.ceil(-math.log10(step) - 1e-9)))

    def __call__(self, value: float, pos: int | None = None) -> str:
        step = self._step()
        if self.kind == "money":
            top = max((abs(v) for v in self._ticks), default=abs(value))
            divisor, suffix = report_text.money_scale(top)
            decimals = self._decimals(step / divisor) if suffix else 0
            shown = f"{abs(value) / divisor:,.{decimals}f}"
            if not float(shown.replace(",", "")):
                return "$0"
            return f"{'-' if value < 0 else ''}${shown}{suffix}"
        if self.kind in ("share", "points"):
            decimals = self._decimals(step * 100)
            shown = f"{value * 100:.{decimals}f}"
            if float(shown) == 0:
                shown = f"{0:.{decimals}f}"  # not "-0"
            if self.kind == "points":
                return ("+" if value > 0 and float(shown) else "") + shown
            return f"{shown}\u00a0%"
        decimals = self._decimals(step)
        shown = f"{value:,.{decimals}f}"
        return shown.removeprefix("-") if not float(shown.replace(",", "")) else shown


def _money_axis(axis: Any) -> None:
    _axis_for(axis, "arr")


def _share_axis(axis: Any) -> None:
    """Round percent ticks on an axis of shares (0..1)."""
    axis.set_major_locator(MaxNLocator(nbins="auto", steps=ROUND_STEPS))
    axis.set_major_formatter(ScaledFormatter("share"))


def _axis_for(axis: Any, name: str, *, difference: bool = False) -> None:
    """Round ticks and a unit's labels on an axis showing figure or series
    ``name`` (a ``difference`` of shares in points)."""
    if name in MONEY_SERIES or name in MONEY_FIGURES:
        kind = "money"
    elif name in SHARE_SERIES or name in SHARE_FIGURES:
        kind = "points" if difference else "share"
    else:
        kind = "count"
    axis.set_major_locator(MaxNLocator(nbins="auto", steps=ROUND_STEPS))
    axis.set_major_formatter(ScaledFormatter(kind))


def style_axes(
    ax: Axes,
    *,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Axes:
    """Large fonts, light grid, no top/right spines."""
    if title:
        _set_title(ax, title)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=FONT["label"])
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=FONT["label"])
    ax.tick_params(labelsize=FONT["tick"])
    ax.grid(True, color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _set_title(ax: Axes, title: str, *, pinned: bool = False) -> None:
    """Title ``ax`` in the charts' style. A pinned title stays at the top of the
    Axes rather than being placed clear of what sticks out above it, a search
    that lays out the y tick labels once more in every draw (about a tenth of
    it): for charts with nothing above the Axes, where both come to the same."""
    ax.set_title(
        title,
        fontsize=FONT["title"],
        loc="left",
        pad=10,
        y=1.0 if pinned else None,
        # (within the figure: a long title never runs off it; a pinned title is
        # redrawn alone over a kept background, which a wrap would not match)
        wrap=not pinned,
    )


def scenario_color(index: int) -> str:
    return SCENARIO_COLORS[index % len(SCENARIO_COLORS)]


def scenario_linestyle(index: int) -> LineStyle:
    return SCENARIO_LINESTYLES[index % len(SCENARIO_LINESTYLES)]


def _weeks(n: int) -> np.ndarray:
    return np.arange(n)


# --------------------------------------------------------------------------- charts

#: Opacity of the 5-95 and the 25-75 percentile band.
BAND_ALPHAS = (0.12, 0.28)
#: The percentiles that bound each band, in the order of ``BAND_ALPHAS``.
BAND_EDGES = (("p5", "p95"), ("p25", "p75"))


def fill_bands(
    ax: Axes, x: Any, stats: Any, color: str, alphas: tuple[float, float] = BAND_ALPHAS
) -> list[Any]:
    """The 5-95 and 25-75 percentile bands of per-week ``stats`` (keys ``p5``...
    ``p95``) in ``color``; returns the two artists."""
    return [
        ax.fill_between(x, stats[low], stats[high], color=color, alpha=a, linewidth=0)
        for (low, high), a in zip(BAND_EDGES, alphas, strict=True)
    ]


def set_bands(bands: Sequence[Any], x: Any, stats: Any) -> None:
    """Move the two bands drawn by :func:`fill_bands` to new per-week ``stats``."""
    for band, (low, high) in zip(bands, BAND_EDGES, strict=True):
        band.set_data(x, stats[low], stats[high])


def plot_fan(
    ax: Axes,
    result: Any,
    series: str = "arr",
    *,
    color: str | None = None,
    linestyle: str = "-",
    label: str | None = None,
    bands: bool = True,
) -> Axes:
    """Median of a weekly series with its 25-75 and 5-95 percentile bands.

    Parameters
    ----------
    ax
        Axes to draw on.
    result
        A ``RunResult``.
    series
        Name of a weekly series (``"arr"``, ``"revenue"``...).
    color, linestyle, label
        Style of this scenario; the label defaults to the scenario's name.
    bands
        Draw the percentile bands (else the median only).
    """
    color = color or SCENARIO_COLORS[0]
    stats = result.series(series)
    x = _weeks(len(stats["p50"]))
    if bands:
        fill_bands(ax, x, stats, color)
    ax.plot(
        x,
        stats["p50"],
        color=color,
        linestyle=linestyle,
        linewidth=2.6,
        label=label or result.name,
    )
    return ax


def plot_fans(ax: Axes, results: Sequence[Any], series: str = "arr") -> Axes:
    """Fan charts of several scenarios on one Axes, with a legend that explains the
    bands."""
    for index, result in enumerate(results):
        plot_fan(
            ax,
            result,
            series,
            color=scenario_color(index),
            linestyle=scenario_linestyle(index),
        )
    weeks = results[0].settings.horizon_weeks if results else 0
    style_axes(ax, xlabel="Week", ylabel=_unit_label(series))
    _set_title(ax, _fans_title(results, series), pinned=True)
    _axis_for(ax.yaxis, series)
    ax.set_xlim(0, max(weeks - 1, 1))
    _legend_with_bands(ax)
    return ax


def _fans_title(results: Sequence[Any], series: str) -> str:
    runs = results[0].settings.runs if results else 0
    what = f"median of {runs:,} runs" if runs else "median"
    return f"{SERIES_LABELS.get(series, series)}: {what}, with spread"


def update_fans(ax: Axes, results: Sequence[Any], series: str = "arr") -> Axes:
    """Show new results of the same scenarios (same names and horizon) on a fan
    chart drawn by :func:`plot_fans`, by moving its bands and medians and
    retitling it: a fraction of the cost of drawing it anew, with the same look.

    The data limits are recomputed from every artist on the Axes: remove any
    added after :func:`plot_fans` first.
    """
    for index, result in enumerate(results):
        _move_fan(ax, index, result.series(series))
    _set_title(ax, _fans_title(results, series), pinned=True)
    _rescale(ax)
    return ax


def _move_fan(ax: Axes, index: int, stats: Any) -> None:
    """Put per-week ``stats`` in the ``index``-th fan on ``ax``, as
    :func:`plot_fans` and :func:`plot_paired` draw them: two bands and a median
    line per fan, in that order."""
    x = _weeks(len(stats["p50"]))
    set_bands(ax.collections[2 * index : 2 * index + 2], x, stats)
    ax.lines[index].set_data(x, stats["p50"])


def _rescale(ax: Axes) -> None:
    """Data and view limits from the artists now on ``ax``, as when drawn anew
    (``relim`` counts the bands, which are Collections, from matplotlib 3.11)."""
    ax.relim()
    ax.autoscale_view()


def _unit_label(series: str) -> str:
    units = {
        "arr": "$ per year",
        "revenue": "$ per week",
        "bookings": "$ per week",
        "spend": "$ per week",
        "cost": "$ per week",
        "ignore_rate": "share",
        "nurture": "leads",
        "queue": "leads",
        "customers": "customers",
        "opportunities": "opportunities",
    }
    if series.startswith("share_"):
        return "share of budget"
    return units.get(series, "per week")


def legend_beside(ax: Axes, handles: Any = None, labels: Any = None) -> Any:
    """A legend to the right of the Axes, outside it: it never covers data
    (constrained layout makes room for it)."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    return ax.legend(
        handles,
        [_wrap(str(label), 20) for label in labels],
        fontsize=FONT["note"],
        loc="upper left",
        # A gap in font sizes, not in a share of the Axes' width: the layout,
        # which narrows the Axes to make room, then comes out the same at
        # every draw (a preview's reused layout matches the full run's).
        bbox_to_anchor=(1.0, 1.0),
        borderaxespad=0.8,
        frameon=False,
    )


def _legend_with_bands(ax: Axes) -> None:
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    handles += [Patch(color="#777777", alpha=0.45), Patch(color="#777777", alpha=0.15)]
    labels += ["middle 50 % of runs", "90 % of runs"]
    legend_beside(ax, handles, labels)


def plot_paired(ax: Axes, comparison: Any, series: str = "arr") -> Axes:
    """Paired difference (alternative minus baseline, run by run) of a weekly
    series, with its 25-75 and 5-95 bands, for each alternative."""
    baseline = comparison.baseline
    for index, alt in enumerate(comparison.alternatives):
        stats = comparison.weekly_paired(index, series)
        x = _weeks(len(stats["p50"]))
        color = scenario_color(index + 1)
        fill_bands(ax, x, stats, color)
        ax.plot(
            x,
            stats["p50"],
            color=color,
            linewidth=2.6,
            linestyle=scenario_linestyle(index + 1),
            label=f"{alt.name} \u2212 {baseline.name}",
        )
    ax.axhline(0, color="#333333", linewidth=1.2)
    style_axes(ax, xlabel="Week", ylabel=_unit_label(series))
    _set_title(
        ax,
        f"{SERIES_LABELS.get(series, series)}: gain over {baseline.name} "
        "(same runs paired)",
        pinned=True,
    )
    _axis_for(ax.yaxis, series, difference=True)
    ax.set_xlim(0, max(baseline.settings.horizon_weeks - 1, 1))
    legend_beside(ax)  # (the bands as on the chart above)
    return ax


def update_paired(ax: Axes, comparison: Any, series: str = "arr") -> Axes:
    """Show a new comparison of the same scenarios (same names and horizon) on a
    chart drawn by :func:`plot_paired`, by moving its bands and medians (see
    :func:`update_fans`: remove any artists added since first)."""
    for index in range(len(comparison.alternatives)):
        _move_fan(ax, index, comparison.weekly_paired(index, series))
    _rescale(ax)
    return ax


def plot_distribution(
    ax: Axes,
    results: Sequence[Any],
    figure: str = "arr_growth_y1",
    *,
    kind: str = "hist",
    bins: int = 40,
) -> Axes:
    """Distribution across runs of one per-run figure, one colour per scenario.

    ``kind`` is ``"hist"`` (share of runs per bin) or ``"ecdf"`` (share of runs at or
    below each value). A dotted vertical line marks each scenario's median.
    """
    data = []
    for result in results:
        values = np.asarray(result.figures.get(figure, np.array([])), dtype=float)
        data.append(values[np.isfinite(values)])
    everything = np.concatenate(data) if data else np.array([])
    if everything.size == 0:
        style_axes(ax, title=FIGURE_LABELS.get(figure, figure))
        ax.text(
            0.5,
            0.5,
            "No defined values in these runs",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=FONT["label"],
        )
        return ax
    lo, hi = float(everything.min()), float(everything.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    for index, (result, values) in enumerate(zip(results, data, strict=True)):
        color = scenario_color(index)
        if values.size == 0:
            continue
        if kind == "ecdf":
            ordered = np.sort(values)
            ax.step(
                ordered,
                np.arange(1, ordered.size + 1) / ordered.size,
                where="post",
                color=color,
                linewidth=2.4,
                linestyle=scenario_linestyle(index),
                label=result.name,
            )
        else:
            weights = np.full(values.size, 1.0 / values.size)
            ax.hist(
                values,
                bins=list(edges),
                weights=weights,
                color=color,
                alpha=0.35,
                label=result.name,
            )
            ax.hist(
                values,
                bins=list(edges),
                weights=weights,
                color=color,
                histtype="step",
                linewidth=2,
            )
        ax.axvline(float(np.median(values)), color=color, linestyle=":", linewidth=2)
    ylabel = "share of runs at or below" if kind == "ecdf" else "share of runs"
    style_axes(
        ax,
        title=FIGURE_LABELS.get(figure, figure),
        xlabel=_figure_unit(figure),
        ylabel=ylabel,
    )
    _axis_for(ax.xaxis, figure)
    _share_axis(ax.yaxis)
    if kind == "ecdf":
        ax.set_ylim(0, 1.02)
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="#555555", linestyle=":", linewidth=2))
    labels.append("median (dotted)")
    legend_beside(ax, handles, labels)
    return ax


def _figure_unit(figure: str) -> str:
    if figure == "arr_growth_y1":
        return "growth of ARR in the first 52 weeks"
    if figure == "cac":
        return "$ per deal won"
    if figure == "arr_end":
        return "$ per year"
    if figure in MONEY_FIGURES:
        return "$"
    if figure == "total_won":
        return "deals"
    if figure == "total_churned":
        return "customers"
    return "leads"


# --------------------------------------------------------------------------- funnel


@dataclass(frozen=True)
class FunnelStep:
    """One step of the funnel: how many leads reach it and what leaks before it."""

    name: str
    count: float
    leak_name: str | None = None
    leak: float = 0.0
    note: str = ""  # a second line under the leak

    def conversion(self, previous: float) -> float:
        return self.count / previous if previous > 0 else math.nan


def funnel_steps(result: Any) -> list[FunnelStep]:
    """Mean leads per run at each step from generated to won, and the leaks.

    Means (not medians) are used so that each step plus its leak adds up to the
    step before. Flows are counted over the reported horizon; the warm-up filled the
    funnel, so a lead generated before week 0 may be contacted after it and a step
    can be a little larger than the difference suggests (leaks are clipped at 0).
    """

    def mean(name: str) -> float:
        values = result.figures.get(f"total_{name}")
        if values is not None:
            return float(np.nanmean(values))
        if name in result.series_names:  # a flow without a total: sum its means
            return float(np.sum(result.series(name)["mean"]))
        return math.nan

    leads = mean("leads")
    mqls = mean("mqls")
    matured = mean("matured")  # leads returning from nurture, when recorded
    ignored = mean("ignored")
    contacted = mean("contacted")
    qualified = mean("qualified")
    won = mean("won")
    stale = mean("stale")
    new_mqls = mqls - matured if math.isfinite(matured) else mqls
    held_back = max(leads - new_mqls, 0.0)
    accepted = mqls - ignored
    returning = (
        f"(MQLs include {fmt_count(matured)} back from nurture)"
        if math.isfinite(matured) and matured >= 0.05
        else ""
    )
    stale_text = (
        f"not contacted ({fmt_count(stale)} stale)"
        if math.isfinite(stale)
        else "not contacted"
    )
    return [
        FunnelStep("Generated", leads),
        FunnelStep("MQLs", mqls, "held back by marketing", held_back, returning),
        FunnelStep("Accepted by sales", accepted, "ignored by sales", ignored),
        FunnelStep("Contacted", contacted, stale_text, max(accepted - contacted, 0.0)),
        FunnelStep(
            "Qualified",
            qualified,
            "rejected after contact",
            max(contacted - qualified, 0.0),
        ),
        FunnelStep(
            "Won", won, "lost in pipeline (or still open)", max(qualified - won, 0.0)
        ),
    ]


def plot_funnel(
    ax: Axes, result: Any, *, color: str | None = None, max_count: float | None = None
) -> Axes:
    """Funnel of one scenario: one bar per step on a log scale (won deals are
    hundreds of times fewer than leads), and beside the bars, in aligned columns,
    the count, the conversion from the step before and the leak.

    ``max_count`` fixes the scale, so funnels of several scenarios compare.
    """
    from matplotlib.transforms import blended_transform_factory

    color = color or SCENARIO_COLORS[0]
    steps = funnel_steps(result)
    counts = np.array(
        [max(s.count, 0.0) if math.isfinite(s.count) else 0.0 for s in steps]
    )
    y = np.arange(len(steps))[::-1].astype(float)
    floor = 0.5
    top = max_count if max_count else float(counts.max() or 1.0)
    decades = math.log10(max(top, 1.0) / floor)
    # Bars use the left 45 % of the axes, the text columns the rest.
    ax.set_xscale("log")
    ax.set_xlim(floor, floor * 10 ** (decades / 0.45))
    ax.barh(
        y, np.maximum(counts, floor), left=floor, color=color, alpha=0.85, height=0.66
    )
    text = blended_transform_factory(ax.transAxes, ax.transData)
    for x, header in (
        (0.47, "per run"),
        (0.61, "of previous"),
        (0.76, "leaked before"),
    ):
        ax.text(
            x,
            len(steps) - 0.35,
            header,
            transform=text,
            fontsize=FONT["note"],
            color="#555555",
            va="bottom",
        )
    for i, step in enumerate(steps):
        ax.text(
            0.47,
            y[i],
            fmt_count(step.count),
            transform=text,
            va="center",
            fontsize=FONT["annot"],
            fontweight="bold",
            color="#222222",
        )
        if i:
            conv = step.conversion(steps[i - 1].count)
            ax.text(
                0.61,
                y[i],
                fmt_share(conv, digits=1 if conv < 0.1 else 0),
                transform=text,
                va="center",
                fontsize=FONT["annot"],
                color="#222222",
            )
        if step.leak_name:
            leak = (
                f"{fmt_count(step.leak)} {step.leak_name}"
                if step.leak >= 0.05
                else f"none {step.leak_name}"
            )
            if step.note:
                leak += f"\n{step.note}"
            ax.text(
                0.76,
                y[i],
                leak,
                transform=text,
                va="center",
                fontsize=FONT["note"],
                color="#8a3b00",
                wrap=True,
            )
    ax.set_yticks(y, [s.name for s in steps])
    ax.set_ylim(-0.6, len(steps) - 0.1)
    weeks = result.settings.horizon_weeks
    style_axes(ax, title=f"{result.name}: leads per run over {weeks} weeks (mean)")
    ax.grid(False)
    ax.set_xticks([])
    ax.minorticks_off()
    ax.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    ax.tick_params(axis="y", length=0)
    ax.spines["bottom"].set_visible(False)
    return ax


# --------------------------------------------------------------------------- dynamics


def plot_series_median(
    ax: Axes,
    results: Sequence[Any],
    series: str,
    *,
    title: str | None = None,
    bands: bool = True,
) -> Axes:
    """Median (and 25-75 band) of a weekly series for each scenario."""
    for index, result in enumerate(results):
        if series not in result.series_names:
            continue
        stats = result.series(series)
        x = _weeks(len(stats["p50"]))
        color = scenario_color(index)
        if bands:
            ax.fill_between(
                x, stats["p25"], stats["p75"], color=color, alpha=0.22, linewidth=0
            )
        ax.plot(
            x,
            stats["p50"],
            color=color,
            linewidth=2.4,
            linestyle=scenario_linestyle(index),
            label=result.name,
        )
    style_axes(ax, title=title or SERIES_LABELS.get(series, series), xlabel="Week")
    _axis_for(ax.yaxis, series)
    if series in SHARE_SERIES:
        ax.set_ylim(0, 1)
    elif _flat_zero(ax):
        # nothing waiting in any run: one plain axis from 0, not "0, 0, 0, -0"
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=1, integer=True))
    ax.set_xlim(left=0)
    return ax


def _flat_zero(ax: Axes) -> bool:
    """Whether every line drawn on ``ax`` is 0 throughout."""
    values = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]
    return bool(values) and all(np.all(np.nan_to_num(v) == 0) for v in values if v.size)


def share_series_names(result: Any) -> list[str]:
    """Weekly budget-share series (``share_<source>``) when the engine records them."""
    return [name for name in result.series_names if name.startswith("share_")]


def plot_budget_shares(ax: Axes, results: Sequence[Any]) -> Axes:
    """Median budget share of each lead source over time; colour per source, line
    style per scenario. Says so when the results hold no shares."""
    sources: list[str] = []
    for result in results:
        for name in share_series_names(result):
            if name not in sources:
                sources.append(name)
    style_axes(ax, title="Budget share by source", xlabel="Week")
    if not sources:
        ax.text(
            0.5,
            0.5,
            "These results hold no budget shares over time",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=FONT["label"],
            color="#555555",
        )
        ax.set_xticks([])
        ax.set_yticks([])
        return ax
    palette = [
        OKABE_ITO[k]
        for k in (
            "orange",
            "sky_blue",
            "bluish_green",
            "blue",
            "vermillion",
            "reddish_purple",
            "black",
        )
    ]
    from matplotlib.lines import Line2D

    for s_index, name in enumerate(sources):
        for r_index, result in enumerate(results):
            if name not in result.series_names:
                continue
            median = result.series(name)["p50"]
            ax.plot(
                _weeks(len(median)),
                median,
                color=palette[s_index % len(palette)],
                linestyle=scenario_linestyle(r_index),
                linewidth=2.2,
            )
    # One legend entry per source (colour) and per scenario (line style), not
    # one per pair: it stays small enough to sit inside the panel.
    handles = [
        Line2D([], [], color=palette[i % len(palette)], linewidth=2.2)
        for i in range(len(sources))
    ] + [
        Line2D([], [], color="#555555", linestyle=scenario_linestyle(i))
        for i in range(len(results))
    ]
    labels = [name.removeprefix("share_").replace("_", " ") for name in sources]
    labels += [result.name for result in results]
    _share_axis(ax.yaxis)
    ax.set_ylim(0, 1)
    ax.set_xlim(left=0)
    legend_beside(ax, handles, labels)
    return ax


def plot_dynamics(axes: Sequence[Axes], results: Sequence[Any]) -> None:
    """The feedback loops at work: ignore rate (trust loop), queue (capacity),
    nurture pool and budget shares (closed loop), on four Axes."""
    plot_series_median(
        axes[0], results, "ignore_rate", title="Ignore rate (trust loop)"
    )
    plot_series_median(axes[1], results, "queue", title="Queue: leads waiting")
    plot_series_median(axes[2], results, "nurture", title="Nurture pool: leads")
    plot_budget_shares(axes[3], results)
    # One legend for the four panels, above them (each panel's lines are the
    # scenarios in the same colours).
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.legend(
        handles,
        labels,
        fontsize=FONT["legend"],
        loc="outside upper center",
        ncols=max(1, len(labels)),
        frameon=False,
    )


# --------------------------------------------------------------------------- story

#: Bars that raise a figure, bars that lower it (Okabe-Ito green and vermillion).
GAIN_COLOR = "#009E73"
LOSS_COLOR = "#D55E00"
#: A bar's Monte Carlo interval: +- this many standard errors (about 95 %).
SE_WHISKER = 1.96


def _wrap(text: str, width: int = 14) -> str:
    import textwrap

    return "\n".join(
        "\n".join(textwrap.wrap(line, width, break_long_words=False)) or line
        for line in text.split("\n")
    )


def plot_bridge(
    ax: Axes, bridge: Any, *, reference: tuple[float, float, int] | None = None
) -> Axes:
    """Waterfall from the baseline's value of a figure to the alternative's: one
    floating bar per step (lever) in the bridge's order, each with its Monte Carlo
    interval (+-1.96 s.e.), the end bars in the scenarios' colours.

    ``bridge`` is a :class:`simulator.analysis.bridge.Bridge`. The value axis does not
    start at 0 (the steps would be invisible next to the level); a note says so.
    ``reference`` is the comparison's own (baseline, alternative) value and its
    runs: where the bridge's fewer runs give another figure, the comparison's
    is written under the bar's, so the two views never disagree silently.
    """
    figure = bridge.figure
    steps = list(bridge.steps)
    n = len(steps)
    x = np.arange(n + 2)
    width = 10 if n > 6 else 16
    labels = [_wrap(bridge.baseline_name, width)]
    labels += [_wrap(s.name, width) for s in steps]
    labels.append(_wrap(bridge.alternative_name, width))
    ax.bar(0, bridge.baseline_value, color=SCENARIO_COLORS[0], width=0.7)
    ax.bar(n + 1, bridge.alternative_value, color=SCENARIO_COLORS[1], width=0.7)
    for i, step in enumerate(steps, start=1):
        color = (
            "#bbbbbb" if step.null else (GAIN_COLOR if step.delta >= 0 else LOSS_COLOR)
        )
        ax.bar(i, step.delta, bottom=step.start, color=color, width=0.7)
        if step.se > 0 and math.isfinite(step.se):
            ax.errorbar(
                i,
                step.end,
                yerr=SE_WHISKER * step.se,
                color="#333333",
                capsize=4,
                linewidth=1.4,
            )
        whisker = SE_WHISKER * step.se if math.isfinite(step.se) else 0.0
        ax.annotate(
            # (points on a line of their own: bars stand close together)
            fmt_figure(figure, step.delta, difference=True).replace(" ", "\n", 1),
            xy=(i, max(step.start, step.end + whisker)),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=FONT["note"] - 1,
            color="#222222",
            linespacing=1.0,
        )
    levels = [bridge.baseline_value, *(s.end for s in steps)]
    for i, level in enumerate(levels):
        ax.plot([i - 0.35, i + 1.35], [level, level], color="#777777", linewidth=0.8)
    ends = ((0, bridge.baseline_value), (n + 1, bridge.alternative_value))
    for i, value in ends:
        ax.text(
            i,
            max(value, 0.0),  # above the bar, also when it hangs below 0
            fmt_figure(figure, value),
            ha="center",
            va="bottom",
            fontsize=FONT["annot"],
            fontweight="bold",
        )
    # The Overview's figures, where the bridge's fewer runs give others.
    overview = ""
    if reference is not None and reference[2] != bridge.settings.runs:
        pairs = [
            (fmt_figure(figure, value), fmt_figure(figure, reference[side]))
            for side, (_i, value) in enumerate(ends)
        ]
        if any(mine != theirs for mine, theirs in pairs):
            overview = (
                f"\nThe Overview's {reference[2]:,} runs give "
                f"{bridge.baseline_name} {pairs[0][1]} and "
                f"{bridge.alternative_name} {pairs[1][1]}; these end bars are "
                f"the medians of the bridge's {bridge.settings.runs:,}."
            )
    tops = [bridge.baseline_value, bridge.alternative_value]
    tops += [max(s.start, s.end) for s in steps]
    bottoms = [min(s.start, s.end) for s in steps]
    bottoms += [bridge.baseline_value, bridge.alternative_value]
    lo, hi = min(bottoms), max(tops)
    span = (hi - lo) or abs(hi) or 1.0
    ax.set_ylim(lo - 0.35 * span, hi + 0.22 * span)  # (two-line labels on top)
    ax.set_xticks(x, labels)
    stat = "median" if bridge.statistic == "median" else "mean"
    style_axes(
        ax,
        title=f"{FIGURE_LABELS.get(figure, figure)} ({stat}): from "
        f"{bridge.baseline_name} to {bridge.alternative_name}, lever by lever",
    )
    # Many levers: smaller labels, wrapped narrow, stay apart side by side.
    ax.tick_params(axis="x", labelsize=FONT["note"] - (2 if n > 6 else 0), length=0)
    _axis_for(ax.yaxis, figure)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel(
        (
            "Levers added left to right; a bar depends on the order when levers "
            f"interact. Whiskers: ±{SE_WHISKER} s.e. (Monte Carlo, "
            f"{bridge.settings.runs:,} runs). The axis does not start at 0." + overview
        ),
        fontsize=FONT["note"],
        color="#555555",
        labelpad=8,
        wrap=True,
    )
    return ax


def plot_shapley(ax: Axes, bridge: Any) -> Axes:
    """Each lever's fair share of the difference (its Shapley value: the effect
    averaged over every order of adding the levers), as horizontal bars with
    +-1.96 s.e. error bars, in the bridge's order, first lever at the top."""
    figure = bridge.figure
    values = list(bridge.shapley)
    y = np.arange(len(values))[::-1]
    v = np.array([s.value for s in values])
    se = np.array([s.se if math.isfinite(s.se) else 0.0 for s in values])
    colors = [
        "#bbbbbb" if s.null else (GAIN_COLOR if s.value >= 0 else LOSS_COLOR)
        for s in values
    ]
    ax.barh(y, v, color=colors, height=0.65)
    ax.errorbar(
        v,
        y,
        xerr=SE_WHISKER * se,
        fmt="none",
        ecolor="#333333",
        capsize=4,
        linewidth=1.4,
    )
    ax.axvline(0, color="#333333", linewidth=1)
    reach = float(np.max(np.abs(v) + SE_WHISKER * se)) if v.size else 1.0
    reach = reach or 1.0
    for yi, s, e in zip(y, values, se, strict=True):
        share = f" ({fmt_share(s.share, digits=0)})" if math.isfinite(s.share) else ""
        x_text = s.value + np.sign(s.value or 1) * SE_WHISKER * e
        ax.text(
            x_text + np.sign(s.value or 1) * 0.02 * reach,
            yi,
            fmt_figure(figure, s.value, difference=True) + share,
            va="center",
            ha="left" if s.value >= 0 else "right",
            fontsize=FONT["annot"],
        )
    ax.set_yticks(y, [s.name for s in values])
    ax.set_xlim(-0.15 * reach if v.min(initial=0) >= 0 else -1.45 * reach, 1.45 * reach)
    method = (
        "exact over every order"
        if bridge.method == "exact"
        else f"{bridge.permutations} sampled orders"
    )
    style_axes(
        ax,
        title=f"Fair share of the {fmt_figure(figure, bridge.total, difference=True)} "
        f"difference (Shapley value, {method})",
        xlabel=f"Contribution to {_lower_first(FIGURE_LABELS.get(figure, figure))}"
        f"\nError bars: ±{SE_WHISKER} s.e. (Monte Carlo). The values sum to the "
        "total difference.",
    )
    _axis_for(ax.xaxis, figure, difference=True)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    return ax


def _lower_first(text: str) -> str:
    """Lower-case a label's first letter, unless it starts an acronym (ARR)."""
    if text[:2].isupper():
        return text
    return text[:1].lower() + text[1:]


def _driver_label(driver: Any) -> str:
    """A tornado row's label: what the input is (short), which list item, its
    range."""
    if driver.kind == "lever":
        return str(driver.label)
    text = driver.label.split(". ")[0].rstrip(".")
    if " (" in text:
        text = text.split(" (")[0]
    text = text.replace(" in this stage", "")
    parts = driver.id.split(".")
    if len(parts) >= 4:  # a list item, addressed by name: say which
        text = f"{parts[-2].replace('_', ' ')}: {text[0].lower()}{text[1:]}"
    if len(text) > 46:
        text = text[:45].rstrip() + "\u2026"
    unit = f" {driver.unit}" if driver.unit else ""
    return f"{text}\n{driver.low_label} to {driver.high_label}{unit}"


def plot_tornado(
    ax: Axes,
    drivers: Any,
    *,
    top: int = 10,
    reference: tuple[float, int] | None = None,
) -> Axes:
    """Tornado chart of a :class:`simulator.analysis.drivers.Tornado`: for the ``top``
    drivers with the largest swing (largest at the top), a bar from the figure at
    the driver's low value to the figure at its high value, around the scenario's
    own value (the vertical line). Light bars: low value (or without the lever),
    dark bars: high value (or with it)."""
    figure = drivers.figure
    effects = list(drivers.effects)[:top]
    base = drivers.base_value
    y = np.arange(len(effects))[::-1]
    low_color, high_color = OKABE_ITO["sky_blue"], OKABE_ITO["blue"]
    is_lever = bool(effects) and effects[0].driver.kind == "lever"
    for yi, e in zip(y, effects, strict=True):
        sides = [(e.delta_low, low_color), (e.delta_high, high_color)]
        # The larger bar first, so a smaller one on the same side stays visible.
        sides.sort(key=lambda side: -abs(side[0]))
        same_side = e.delta_low * e.delta_high > 0
        for rank, (delta, color) in enumerate(sides):
            ax.barh(yi, delta, left=base, color=color, height=0.62)
            if delta == 0:
                continue
            inside = same_side and rank == 1
            ax.text(
                base + delta,
                yi,
                f" {fmt_figure(figure, delta, difference=True)} ",
                va="center",
                ha=("right" if delta >= 0 else "left")
                if inside
                else ("left" if delta >= 0 else "right"),
                fontsize=FONT["note"],
                color="white" if inside else "#333333",
            )
    ax.set_yticks(y, [_driver_label(e.driver) for e in effects], fontsize=FONT["note"])
    ax.axvline(base, color="#333333", linewidth=1.2)
    reach = max(
        [abs(e.delta_low) for e in effects] + [abs(e.delta_high) for e in effects] + [0]
    )
    reach = reach or abs(base) * 0.01 or 1.0
    # Room beyond the longest bar for its label ("-10.6 points").
    ax.set_xlim(base - 1.8 * reach, base + 1.8 * reach)
    ax.set_ylim(-0.6, len(effects) - 0.4)
    stat = "median" if drivers.statistic == "median" else "mean"
    label = FIGURE_LABELS.get(figure, figure)
    names = ("without", "with") if is_lever else ("low value", "high value")
    style_axes(
        ax,
        title=f"What moves {_lower_first(label)} ({stat}) in {drivers.scenario_name}",
    )
    warmed = getattr(drivers, "warmed_up_as", "") or drivers.scenario_name
    as_is = f"Line: {fmt_figure(figure, base)} as is"
    if reference is not None and reference[1] != drivers.settings.runs:
        other = fmt_figure(figure, reference[0])
        if other != fmt_figure(figure, base):
            as_is += (
                f" ({drivers.settings.runs:,} runs; Overview, "
                f"{reference[1]:,} runs: {other})"
            )
    ax.set_xlabel(
        f"{as_is}, every variant starting from a "
        f"funnel warmed up as {warmed}.\nLight bar: {names[0]}, "
        f"dark bar: {names[1]}, everything else held "
        f"({drivers.settings.runs:,} runs, paired).",
        fontsize=FONT["note"],
        color="#333333",
        wrap=True,
    )
    _axis_for(ax.xaxis, figure)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", visible=False)
    return ax


def add_target_to_distribution(
    ax: Axes,
    results: Sequence[Any],
    figure: str,
    target: float,
    probabilities: Sequence[Any],
    *,
    note: str = "",
) -> list[Any]:
    """A target line on a distribution chart and, in a box, the probability of
    reaching it in each scenario with its standard error. ``probabilities`` are
    :class:`simulator.analysis.targets.TargetProbability`, one per result.
    Returns the artists added (remove them to move the target)."""
    line = ax.axvline(target, color="#222222", linewidth=2.4, linestyle="-")
    line.set_gid("target")
    rows = [
        f"Target {fmt_figure(figure, target)} (solid line"
        + (f"; {note}" if note else "")
        + "):"
    ]
    for result, prob in zip(results, probabilities, strict=True):
        rows.append(
            f"{result.name}: {prob.verb} {share_of_runs(prob.p, prob.se, prob.n)}"
        )
    # One text under the chart (inside, it hid the bars it is about).
    return [line, *caption_below(ax, ["\n".join(rows)])]


def share_of_runs(p: float, se: float, n: int) -> str:
    """``"in 75 % of runs (± 1.0 points s.e.)"``; at 0 or 1, where the binomial
    standard error is 0, the count of runs instead of a "± 0.0"."""
    if not math.isfinite(p) or n <= 0:
        return "in no run with a defined value"
    if p >= 1.0:
        return f"in every one of {n:,} runs"
    if p <= 0.0:
        return f"in none of {n:,} runs"
    # (never rounded to a certain 0 or 100 % that is not)
    shown = (
        ">99.9\u00a0%"
        if p > 0.999
        else "<0.1\u00a0%"
        if p < 0.001
        else fmt_share(p, digits=0 if 0.01 <= p <= 0.99 else 1)
    )
    return f"in {shown} of runs (± {se * 100:.1f} points s.e.)"


#: Characters a line of a caption under a chart: a longer line made the layout
#: narrow the chart to make room for it, to a sliver on a small screen.
CAPTION_WIDTH = 72
#: A caption's font size (points): a size under the charts' notes, so that a
#: line of it fits under a chart beside the Overview's cards at 1280 pixels.
CAPTION_FONT = FONT["note"] - 1


def caption_below(ax: Axes, rows: Sequence[str]) -> list[Any]:
    """Lines of text under an Axes (below its x label, whether shown or hidden),
    left-aligned: notes about a chart that, inside it, would hide its data.

    One text a line, each under the one before: after an edit most lines read
    as before, and a view lays those back as drawn rather than drawing them
    again (gui.results.ChartCanvas)."""
    artists = []
    anchor: Any = ("axes fraction", ax.xaxis.label)
    gap = -4.0
    for row in rows:
        anchor = ax.annotate(
            _wrap(row, CAPTION_WIDTH),
            xy=(0, 0),
            xycoords=anchor,
            xytext=(0, gap),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=CAPTION_FONT,
            color="#333333",
        )
        artists.append(anchor)
        gap = -0.2 * CAPTION_FONT  # (a multi-line text's spacing, 1.2 lines)
    # The layout makes room down to the last line (the layout counts it), but
    # not for the width of the longer lines above it: left-aligned under the
    # Axes, a line wider than the Axes made the layout narrow them, and then
    # narrower still, to a sliver.
    for artist in artists[:-1]:
        artist.set_in_layout(False)
    return artists


def add_target_to_fan(
    ax: Axes,
    results: Sequence[Any],
    level: float,
    reaches: Sequence[dict[float, int | None]],
    *,
    label: str,
    note: str = "",
) -> list[Any]:
    """The target as a horizontal line on a fan chart, and for each scenario the
    weeks in which it is reached with 50 % and 90 % probability (marked on the
    line; "not reached" when it is not within the horizon)."""
    artists: list[Any] = [
        ax.axhline(level, color="#222222", linewidth=1.8, linestyle="--", zorder=4)
    ]
    rows = [f"Target {label} (dashed): \u25cf 50 %, \u25c6 90 % of runs reach it"]
    if note:
        rows.append(f"({note})")
    for index, (result, reach) in enumerate(zip(results, reaches, strict=True)):
        color = scenario_color(index)
        parts = []
        for share, marker in ((0.5, "o"), (0.9, "D")):
            week = reach.get(share)
            parts.append(f"week {week}" if week is not None else "not reached")
            if week is not None:
                artists.append(
                    ax.plot(
                        [week],
                        [level],
                        marker=marker,
                        markersize=11,
                        color=color,
                        markeredgecolor="white",
                        linestyle="none",
                        zorder=6,
                    )[0]
                )
        rows.append(f"{result.name}: " + ", ".join(parts))
    # A caption under the chart: inside, it hid the fans and the very markers
    # it explains.
    artists += caption_below(ax, rows)
    return artists


__all__ = [
    "FONT",
    "OKABE_ITO",
    "SCENARIO_COLORS",
    "FuncFormatter",  # (the workshop formats its axes with it)
    "FunnelStep",
    "add_target_to_distribution",
    "add_target_to_fan",
    "fmt_count",
    "fmt_figure",
    "fmt_money",
    "fmt_share",
    "funnel_steps",
    "plot_bridge",
    "plot_budget_shares",
    "plot_distribution",
    "plot_dynamics",
    "plot_fan",
    "plot_fans",
    "plot_funnel",
    "plot_paired",
    "plot_series_median",
    "plot_shapley",
    "plot_tornado",
    "style_axes",
    "update_fans",
    "update_paired",
]
