"""The PowerPoint deck of a comparison: 16:9 slides a consultant can hand over.

Charts are native PowerPoint charts (python-pptx chart objects a client can
restyle and whose data sits in the deck), pictures only where a native chart
cannot show the thing (the four small panels of the feedback loops; a waterfall
whose bars cross zero). Every slide has speaker notes saying how to read it and
what it assumes, and every shape is laid out on a 13.33 x 7.5 in slide with
room to spare. Qt-free: python-pptx, numpy and matplotlib only.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pptx import Presentation
from pptx.chart.data import CategoryChartData, XyChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import (
    XL_CHART_TYPE,
    XL_LABEL_POSITION,
    XL_LEGEND_POSITION,
    XL_MARKER_STYLE,
    XL_TICK_LABEL_POSITION,
)
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from simulator.report import charts
from simulator.report.export import (
    SLIDE_SIZE,
    _nb,
    caveat_lines,
    chart_figures,
    difference_rows,
    funnelsim_version,
    headline_lines,
    method_line,
)
from simulator.run.figures import FIGURE_LABELS
from simulator.run.results import uncertainty_note

WIDTH, HEIGHT = SLIDE_SIZE
MARGIN = 0.5
#: Where a slide's content goes, below its title and above its footer (inches).
BODY_TOP, BODY_BOTTOM = 1.25, 6.75
INK = RGBColor(0x22, 0x22, 0x22)
GREY = RGBColor(0x66, 0x66, 0x66)
CAVEAT = RGBColor(0x8A, 0x3B, 0x00)
GAIN = RGBColor(0x00, 0x9E, 0x73)
LOSS = RGBColor(0xD5, 0x5E, 0x00)
TOTAL = RGBColor(0x55, 0x55, 0x55)
#: Money on chart axes in millions, as Excel and PowerPoint format numbers.
MONEY_FORMAT = '"$"#,##0.0,,"M"'
SHARE_FORMAT = '0.0"\u00a0%"'
#: A change of a share (values in points, times 100).
POINTS_FORMAT = '+0.0"\u00a0pts";\u22120.0"\u00a0pts";0"\u00a0pts"'
#: Lines of text an assumptions slide holds (a wrapped row takes several).
ASSUMPTION_LINES = 17


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


# --------------------------------------------------------------------------- slides


class _Deck:
    """A presentation with the house layout: a title, a body, a footer."""

    def __init__(self, caveats: Sequence[str]) -> None:
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Inches(WIDTH), Inches(HEIGHT)
        self.blank = self.prs.slide_layouts[6]
        self.caveats = list(caveats)

    def slide(self, title: str, notes: str, *, footer: bool = True) -> Any:
        slide = self.prs.slides.add_slide(self.blank)
        # One line: a long title (long scenario names) gets a smaller font.
        per_inch = 72 / (0.62 * 28)
        size = min(28.0, 28.0 * (WIDTH - 2 * MARGIN) * per_inch / max(1, len(title)))
        self.text(
            slide,
            [title],
            (MARGIN, 0.35, WIDTH - 2 * MARGIN, 0.8),
            size=max(16.0, round(size)),
            bold=True,
        )
        slide.notes_slide.notes_text_frame.text = notes
        if footer and self.caveats:
            self.text(
                slide,
                [self.caveats[0]],
                (MARGIN, 6.85, WIDTH - 2 * MARGIN, 0.45),
                size=11,
                color=CAVEAT,
            )
        return slide

    @staticmethod
    def text(
        slide: Any,
        paragraphs: Sequence[str],
        box: tuple[float, float, float, float],
        *,
        size: float = 18,
        bold: bool = False,
        color: RGBColor = INK,
        align: Any = PP_ALIGN.LEFT,
        space_after: float = 0,
    ) -> Any:
        left, top, width, height = box
        shape = slide.shapes.add_textbox(
            Inches(left), Inches(top), Inches(width), Inches(height)
        )
        frame = shape.text_frame
        frame.word_wrap = True
        frame.vertical_anchor = MSO_ANCHOR.TOP
        for index, line in enumerate(paragraphs):
            para = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
            para.text = line
            para.alignment = align
            para.space_after = Pt(space_after)
            para.font.size = Pt(size)
            para.font.bold = bold
            para.font.color.rgb = color
        return shape

    def chart(
        self,
        slide: Any,
        kind: Any,
        data: Any,
        box: tuple[float, float, float, float] = (
            MARGIN,
            BODY_TOP,
            WIDTH - 2 * MARGIN,
            BODY_BOTTOM - BODY_TOP,
        ),
    ) -> Any:
        left, top, width, height = box
        frame = slide.shapes.add_chart(
            kind, Inches(left), Inches(top), Inches(width), Inches(height), data
        )
        chart = frame.chart
        chart.has_title = False  # the slide's title says it
        chart.font.size = Pt(12)
        chart.font.color.rgb = INK
        return chart

    def picture(self, slide: Any, figure: Any) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=150, facecolor="white")
        buffer.seek(0)
        width, height = WIDTH - 2 * MARGIN, BODY_BOTTOM - BODY_TOP
        slide.shapes.add_picture(
            buffer, Inches(MARGIN), Inches(BODY_TOP), Inches(width), Inches(height)
        )


def _top_down(chart: Any) -> None:
    """Categories of a horizontal bar chart from the top, with the value axis
    still at the bottom (reversing the categories alone moves it to the top)."""
    chart.category_axis.reverse_order = True
    # The value axis crosses the categories at the last one, now at the bottom
    # (python-pptx sets crossings on value axes only: set it in the XML).
    crosses = chart.value_axis._element.find(qn("c:crosses"))
    if crosses is not None:
        crosses.set("val", "max")


def _legend(chart: Any, position: Any = XL_LEGEND_POSITION.BOTTOM) -> None:
    chart.has_legend = True
    chart.legend.position = position
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(12)


def _axis_title(axis: Any, text: str) -> None:
    axis.has_title = True
    axis.axis_title.text_frame.text = text
    axis.axis_title.text_frame.paragraphs[0].font.size = Pt(12)
    axis.axis_title.text_frame.paragraphs[0].font.bold = False


def _line(series: Any, color: RGBColor, width: float, dashed: bool = False) -> None:
    series.format.line.color.rgb = color
    series.format.line.width = Pt(width)
    if dashed:
        series.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
    series.smooth = False
    series.marker.style = XL_MARKER_STYLE.NONE


def _fill(series: Any, color: RGBColor | None) -> None:
    if color is None:
        series.format.fill.background()  # no fill: the invisible base of a bar
        series.format.line.fill.background()
    else:
        series.format.fill.solid()
        series.format.fill.fore_color.rgb = color


# --------------------------------------------------------------------------- charts


def _fan_data(pairs: Sequence[tuple[str, dict[str, Any]]], scale: float) -> Any:
    data = XyChartData()
    for name, stats in pairs:
        for stat, label in (("p50", "median"), ("p5", "5th pct"), ("p95", "95th pct")):
            series = data.add_series(f"{name}: {label}")
            for week, value in enumerate(stats[stat]):
                if math.isfinite(float(value)):
                    series.add_data_point(week, float(value) * scale)
    return data


def _style_fan(chart: Any, colors: Sequence[RGBColor], weeks: int) -> None:
    for index, series in enumerate(chart.series):
        median = index % 3 == 0
        _line(series, colors[index // 3], 2.75 if median else 1.0, dashed=not median)
    x = chart.category_axis
    x.minimum_scale, x.maximum_scale = 0, max(1, weeks - 1)
    x.major_unit = 13 if weeks > 26 else 4
    x.has_major_gridlines = False
    _axis_title(x, "Week")
    chart.value_axis.has_major_gridlines = True
    chart.value_axis.major_gridlines.format.line.color.rgb = RGBColor(0xDD, 0xDD, 0xDD)
    _legend(chart)


def _histogram(results: Sequence[Any], figure: str, bins: int = 24) -> Any:
    values = [np.asarray(r.figures[figure], dtype=float) for r in results]
    values = [v[np.isfinite(v)] for v in values]
    everything = np.concatenate(values)
    lo, hi = float(everything.min()), float(everything.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    data = CategoryChartData()

    # Every third interval labelled, with a true minus sign and no space (the
    # axis title gives a share's unit): renderers wrap a crowded category label
    # at a space or a hyphen, even a no-break one, splitting the number.
    def label(value: float) -> str:
        if figure in charts.SHARE_FIGURES:
            text = f"{value * 100:.1f}"
        else:
            text = charts.fmt_figure(figure, value).replace(" ", "")
        return text.replace("-", "\u2212")

    data.categories = [label(c) if i % 3 == 1 else "" for i, c in enumerate(centres)]
    for result, v in zip(results, values, strict=True):
        counts, _ = np.histogram(v, edges)
        data.add_series(result.name, [float(c) / max(1, v.size) for c in counts])
    return data


def _waterfall_data(bridge: Any, scale: float = 1.0) -> tuple[Any, bool]:
    """A stacked bar chart's data with an invisible base series, values times
    ``scale``; ``False`` when some bar crosses zero, which stacked bars cannot
    float (bars stack away from zero, so each floating bar is its end nearer
    zero, invisible, then the stretch to its other end)."""
    labels = [bridge.baseline_name, *(s.name for s in bridge.steps)]
    labels.append(bridge.alternative_name)
    ends = [bridge.baseline_value, bridge.alternative_value]
    ends += [s.start for s in bridge.steps] + [s.end for s in bridge.steps]
    if min(ends) < 0 < max(ends):
        return None, False
    base, total, up, down = [0.0], [bridge.baseline_value * scale], [0.0], [0.0]
    for step in bridge.steps:
        nearer, farther = sorted((step.start, step.end), key=abs)
        base.append(nearer * scale)
        total.append(0.0)
        stretch = (farther - nearer) * scale
        up.append(stretch if step.delta > 0 else 0.0)
        down.append(stretch if step.delta < 0 else 0.0)
    base.append(0.0)
    total.append(bridge.alternative_value * scale)
    up.append(0.0)
    down.append(0.0)
    data = CategoryChartData()
    data.categories = labels
    data.add_series("base", base)
    data.add_series(bridge.baseline_name + " / " + bridge.alternative_name, total)
    data.add_series("adds", up)
    data.add_series("takes away", down)
    return data, True


def _number_format(unit: str, *, change: bool = False) -> str:
    """How chart axes show a unit; a change of a share is in points."""
    if unit.startswith("$"):
        return MONEY_FORMAT
    if unit == "share":
        return POINTS_FORMAT if change else SHARE_FORMAT
    return "#,##0"


def _scale(unit: str) -> float:
    return 100.0 if unit == "share" else 1.0


def _fmt_unit(value: float, unit: str, *, signed: bool = False) -> str:
    if unit.startswith("$"):
        return charts.fmt_money(value, signed=signed)
    if unit == "share":
        return _nb(charts.fmt_share(value, signed=signed))
    return charts.fmt_count(value, signed=signed)


def _fmt_delta(value: float, unit: str) -> str:
    """A difference: of a share, in points."""
    if unit == "share":
        return _nb(f"{value * 100:+.1f} points")
    return _fmt_unit(value, unit, signed=True)


# --------------------------------------------------------------------------- deck


def write_deck(
    comparison: Any,
    *,
    bridge: Any = None,
    drivers: Any = None,
    target: tuple[str, float] | None = None,
    title: str = "What alignment is worth",
) -> bytes:
    """The deck as bytes (:func:`simulator.report.export.write_pptx` writes it to
    a file,
    atomically)."""
    caveats = caveat_lines(comparison)
    deck = _Deck(caveats)
    results = comparison.results
    base = comparison.baseline
    colors = [_rgb(charts.scenario_color(i)) for i in range(len(results))]
    names = " vs ".join(r.name for r in results)
    settings = base.settings
    assumes = (
        f"It assumes the inputs on the assumption slides; {settings.runs:,} runs of "
        f"{settings.horizon_weeks} weeks after a {settings.warmup_weeks}-week warm-up."
    )

    # Title
    slide = deck.slide(
        title,
        "Title. What follows compares "
        + names
        + " with FunnelSim, a Monte Carlo model of the sales funnel: every number "
        "is a spread over simulated runs, not a forecast. "
        + (caveats[0] if caveats else ""),
        footer=False,
    )
    slide.shapes[0].top = Inches(2.3)
    slide.shapes[0].text_frame.paragraphs[0].font.size = Pt(40)
    deck.text(slide, [names], (MARGIN, 3.3, WIDTH - 2 * MARGIN, 0.7), size=24)
    deck.text(
        slide,
        [f"FunnelSim {funnelsim_version()} \u00b7 {_dt.date.today().isoformat()}"],
        (MARGIN, 4.0, WIDTH - 2 * MARGIN, 0.5),
        size=16,
        color=GREY,
    )
    if caveats:
        deck.text(
            slide,
            caveats,
            (MARGIN, 5.6, WIDTH - 2 * MARGIN, 1.2),
            size=14,
            color=CAVEAT,
        )

    # Executive summary
    slide = deck.slide(
        "Executive summary",
        "The headline in words. Growth is ARR at the end of year 1 over the ARR "
        "the runs start from. The gap and its range are paired: run i of every "
        "scenario shares its warm-up and random numbers, so the range is how much "
        "the gap itself varies with luck. Net value is revenue gained minus extra "
        "cost over the horizon: revenue, not margin, and ARR still growing at the "
        "end is not counted. " + uncertainty_note(comparison) + " " + assumes,
        footer=False,
    )
    paragraphs = headline_lines(comparison) + caveats
    box = deck.text(
        slide,
        paragraphs,
        (MARGIN, BODY_TOP, WIDTH - 2 * MARGIN, 4.9),
        size=_fitting_size(paragraphs, WIDTH - 2 * MARGIN, 4.9),
        space_after=12,
    )
    for para, line in zip(box.text_frame.paragraphs, paragraphs, strict=True):
        if line in caveats:
            para.font.color.rgb = CAVEAT
            para.font.bold = True
    deck.text(
        slide,
        [method_line(comparison)],
        (MARGIN, 6.4, WIDTH - 2 * MARGIN, 0.8),
        size=12,
        color=GREY,
    )

    # Net value
    for index, alt in enumerate(comparison.alternatives):
        nv = comparison.net_value(index)
        slide = deck.slide(
            f"What {alt.name} is worth over {settings.horizon_weeks} weeks",
            "Bars: medians over paired runs of the revenue gained, the extra cost "
            f"and their difference, {alt.name} minus {base.name}. The text gives "
            "the range of 90 % of runs and the return on the extra cost (net value "
            "over extra cost, run by run). Revenue is not margin: the cost of "
            "delivering what is sold is not modelled. " + assumes,
        )
        data = CategoryChartData()
        data.categories = ["Revenue gained", "Extra cost", "Net value"]
        data.add_series(
            "median of paired runs",
            [
                nv["revenue_gain"]["p50"],
                nv["extra_cost"]["p50"],
                nv["net"]["p50"],
            ],
        )
        chart = deck.chart(
            slide, XL_CHART_TYPE.COLUMN_CLUSTERED, data, (MARGIN, BODY_TOP, 7.2, 5.5)
        )
        chart.has_legend = False
        chart.value_axis.tick_labels.number_format = MONEY_FORMAT
        chart.value_axis.tick_labels.number_format_is_linked = False
        # Labels below the plot, clear of a bar under zero (a saving).
        chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
        plot = chart.plots[0]
        plot.gap_width = 60
        medians = (
            nv["revenue_gain"]["p50"],
            nv["extra_cost"]["p50"],
            nv["net"]["p50"],
        )
        for point, color, value in zip(
            plot.series[0].points, (GAIN, LOSS, TOTAL), medians, strict=True
        ):
            point.format.fill.solid()
            point.format.fill.fore_color.rgb = color
            # Its own text: an axis format in millions would read $355K as $0.4M.
            point.data_label.text_frame.text = charts.fmt_money(value)
            point.data_label.position = XL_LABEL_POSITION.OUTSIDE_END
            point.data_label.font.size = Pt(13)
        words = [
            _nb(
                f"Net value {charts.fmt_money(nv['net']['p50'], signed=True)}: "
                f"90 % of runs between {charts.fmt_money(nv['net']['p5'], signed=True)}"
                f" and {charts.fmt_money(nv['net']['p95'], signed=True)}."
            ),
            _nb(
                "Pays for itself in "
                f"{charts.fmt_share(nv['net']['p_positive'], digits=0)} of runs."
            ),
        ]
        ret = nv["return"]
        if ret["n"]:
            words.append(
                f"Return on the extra cost: {ret['p50']:.1f}\u00d7 (90\u00a0% of runs "
                f"{ret['p5']:.1f}\u00d7 to {ret['p95']:.1f}\u00d7)."
            )
        else:
            saved = -nv["extra_cost"]["p50"]
            words.append(
                "It costs no more than the baseline"
                + (f" ({charts.fmt_money(saved)} less)" if saved > 0 else "")
                + ": no return on a cost to compute."
            )
        deck.text(slide, words, (8.0, 1.6, 4.8, 4.8), size=18, space_after=14)

    # The table of differences (medians and P(better)), one slide per
    # alternative so that six columns always fit.
    rows = difference_rows(comparison)
    n_alts = len(comparison.alternatives)
    for index, alt in enumerate(comparison.alternatives):
        columns = [0, 1, 2 + index]
        columns += [1 + len(results) + 3 * index + k for k in range(3)]
        title = "Scenarios and their differences"
        if n_alts > 1:
            title = f"{alt.name} vs {base.name}: the differences"
        slide = deck.slide(
            title,
            "Medians over runs of every figure, then the difference run by run "
            "(paired), its 90 % range and the share of runs in which the "
            "alternative is better: higher, except for costs, CAC, customers lost "
            "and leads ignored or gone stale, where lower is better. Differences "
            f"of a growth rate are in points (pts). Baseline: {base.name}; "
            f"alternative: {alt.name}. " + assumes,
        )
        table = [[row[c] for c in columns] for row in rows]
        # Short headers (the names are in the title and the notes): a long
        # scenario name would make the header row four lines high.
        table[0] = [
            "Figure",
            "Baseline median",
            "Alternative median",
            "Difference (median)",
            "90 % of paired runs",
            "Better in",
        ]
        _table(slide, table)
    # Charts: ARR fans, the paired gain, the spread, the funnel
    weeks = settings.horizon_weeks
    slide = deck.slide(
        "ARR over time",
        "Each scenario's median ARR week by week (thick line) and the band in "
        "which 90 % of runs lie (dashed: 5th and 95th percentiles). Week 0 is "
        "the first reported week after the warm-up. " + assumes,
    )
    data = _fan_data([(r.name, r.series("arr")) for r in results], 1.0)
    chart = deck.chart(slide, XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS, data)
    _style_fan(chart, colors, weeks)
    chart.value_axis.tick_labels.number_format = MONEY_FORMAT
    chart.value_axis.tick_labels.number_format_is_linked = False
    _axis_title(chart.value_axis, "ARR")
    if comparison.alternatives and results[0].has_trajectories:
        for index, alt in enumerate(comparison.alternatives):
            slide = deck.slide(
                f"ARR gained by {alt.name}, run by run",
                f"{alt.name}'s ARR minus {base.name}'s in the same run (common random "
                "numbers), week by week: the median and the band of 90 % of runs. "
                "Where the band stays above zero, the alternative is ahead in "
                "nearly every run. " + assumes,
            )
            stats = comparison.weekly_paired(index, "arr")
            data = _fan_data([(f"{alt.name} \u2212 {base.name}", stats)], 1.0)
            chart = deck.chart(slide, XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS, data)
            _style_fan(chart, [colors[index + 1]], weeks)
            chart.value_axis.tick_labels.number_format = MONEY_FORMAT
            chart.value_axis.tick_labels.number_format_is_linked = False
            _axis_title(chart.value_axis, "ARR gained")

    figure = "arr_growth_y1" if "arr_growth_y1" in base.figures else "arr_end"
    if target is not None and target[0] in base.figures:
        figure = target[0]
    reached = ""
    if target is not None and target[0] == figure:
        from simulator.analysis.targets import figure_probability

        probabilities = [figure_probability(r, figure, target[1]) for r in results]
        reached = _nb(
            f"Target {charts.fmt_figure(figure, target[1])}: "
            f"{probabilities[0].verb} in "
            + ", ".join(
                f"{charts.fmt_share(p.p, digits=0)} of {r.name}'s runs"
                for r, p in zip(results, probabilities, strict=True)
            )
            + "."
        )
    slide = deck.slide(
        "How sure: spread over runs",
        f"{FIGURE_LABELS[figure]}: the share of runs in each interval, one colour "
        "per scenario. Where the shapes overlap, luck alone can make either "
        "scenario look better in a single year. "
        + (reached + " " if reached else "")
        + assumes,
    )
    box = (MARGIN, BODY_TOP, WIDTH - 2 * MARGIN, BODY_BOTTOM - BODY_TOP)
    if reached:
        deck.text(slide, [reached], (MARGIN, BODY_TOP - 0.1, box[2], 0.45), size=16)
        box = (MARGIN, BODY_TOP + 0.4, box[2], box[3] - 0.4)
    chart = deck.chart(
        slide, XL_CHART_TYPE.COLUMN_CLUSTERED, _histogram(results, figure), box
    )
    chart.plots[0].gap_width = 30
    chart.plots[0].overlap = 0
    for series, color in zip(chart.series, colors, strict=False):
        _fill(series, color)
    _percent_axis(chart)
    _axis_title(chart.value_axis, "Share of runs")
    _axis_title(
        chart.category_axis,
        FIGURE_LABELS[figure] + (" (%)" if figure in charts.SHARE_FIGURES else ""),
    )
    chart.category_axis.tick_labels.font.size = Pt(11)
    _legend(chart, XL_LEGEND_POSITION.TOP)

    slide = deck.slide(
        "Where leads go",
        "Mean leads per run reaching each step of the funnel over the horizon, "
        "one bar per scenario. Means, not medians, so each step and what leaks "
        "from it add up to the step before. " + assumes,
    )
    steps = [charts.funnel_steps(r) for r in results]
    data = CategoryChartData()
    data.categories = [s.name for s in steps[0]]
    for result, result_steps in zip(results, steps, strict=True):
        data.add_series(result.name, [s.count for s in result_steps])
    chart = deck.chart(slide, XL_CHART_TYPE.BAR_CLUSTERED, data)
    _top_down(chart)
    chart.value_axis.tick_labels.number_format = "#,##0"
    chart.value_axis.tick_labels.number_format_is_linked = False
    for series, color in zip(chart.series, colors, strict=False):
        _fill(series, color)
    chart.plots[0].gap_width = 40
    _legend(chart, XL_LEGEND_POSITION.BOTTOM)

    slide = deck.slide(
        "The feedback loops",
        "A picture, not a native chart: four small panels of weekly medians. "
        "Top left, the share of MQLs sales ignores (trust loop); top right, leads "
        "waiting for a first contact (capacity); bottom left, leads in nurture; "
        "bottom right, the budget's shares by source (closed loop). " + assumes,
    )
    dynamics = dict(chart_figures(comparison, size=(12.33, 5.5)))["The feedback loops"]
    deck.picture(slide, dynamics)

    if bridge is not None:
        _bridge_slides(deck, bridge, assumes)
    if drivers is not None:
        _tornado_slide(deck, drivers, assumes)
    _assumption_slides(deck, comparison)

    buffer = io.BytesIO()
    deck.prs.save(buffer)
    return buffer.getvalue()


def _table(slide: Any, rows: Sequence[Sequence[str]]) -> None:
    """The differences as a native table: labels, two medians, the difference,
    its range ("+$5.13M to +$7.11M") and a share, each column as wide as what it
    holds, every row on one line."""
    n_rows, n_cols = len(rows), len(rows[0])
    table_height = min(BODY_BOTTOM - BODY_TOP, 0.34 * n_rows)
    table = slide.shapes.add_table(
        n_rows,
        n_cols,
        Inches(MARGIN),
        Inches(BODY_TOP),
        Inches(WIDTH - 2 * MARGIN),
        Inches(table_height),
    ).table
    weights = (3.6, 1.45, 1.45, 1.45, 2.5, 0.95)
    scale = (WIDTH - 2 * MARGIN) / sum(weights)
    for c, weight in enumerate(weights):
        table.columns[c].width = Inches(weight * scale)
    for r, row in enumerate(rows):
        table.rows[r].height = Emu(int(Inches(table_height) / n_rows))
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            text = value.replace("\n", " ")
            if r > 0 and c > 0:
                text = _nb(text).replace(" to ", "\u00a0to ")
            cell.text = text
            cell.margin_top = cell.margin_bottom = Pt(1)
            para = cell.text_frame.paragraphs[0]
            para.font.size = Pt(10.5)
            para.font.bold = r == 0
            para.alignment = PP_ALIGN.LEFT if c == 0 else PP_ALIGN.RIGHT


def _fitting_size(
    paragraphs: Sequence[str], width: float, height: float, largest: float = 19
) -> float:
    """The largest font size (pt) at which ``paragraphs`` fill at most
    ``height`` inches of a ``width``-inch box, by a conservative estimate of
    0.6 em a character (DejaVu Sans is wide) and 1.2 lines of spacing plus 12 pt between
    paragraphs."""
    size = largest
    while size > 11:
        per_line = max(1, int(width * 72 / (0.6 * size)))
        lines = sum(-(-len(p) // per_line) for p in paragraphs)
        if lines * 1.2 * size + 12 * len(paragraphs) <= height * 72:
            break
        size -= 1
    return size


def _percent_axis(chart: Any) -> None:
    """Shares of runs are stored as fractions; show them as percentages."""
    chart.value_axis.tick_labels.number_format = "0%"
    chart.value_axis.tick_labels.number_format_is_linked = False


def _bridge_slides(deck: _Deck, bridge: Any, assumes: str) -> None:
    unit = bridge.unit
    label = FIGURE_LABELS.get(bridge.figure, bridge.figure)
    s = bridge.settings
    method = (
        f"{bridge.scenarios_simulated} scenarios x {s.runs:,} runs with common "
        f"random numbers; {bridge.statistic}s over runs; standard errors from "
        f"{bridge.bootstrap} bootstrap resamples of the runs."
    )
    slide = deck.slide(
        "Value bridge, lever by lever",
        f"From {bridge.baseline_name}'s {bridge.statistic} {label} to "
        f"{bridge.alternative_name}'s: each bar adds one lever to the ones before "
        "it, in this order. With levers that interact, a bar depends on the order; "
        "the next slide gives each lever's share averaged over every order. "
        + method
        + " "
        + assumes,
    )
    data, native = _waterfall_data(bridge, _scale(unit))
    if native:
        chart = deck.chart(slide, XL_CHART_TYPE.COLUMN_STACKED, data)
        plot = chart.plots[0]
        plot.gap_width = 40
        plot.overlap = 100
        fills = (None, TOTAL, GAIN, LOSS)
        for series, color in zip(chart.series, fills, strict=True):
            _fill(series, color)
        chart.has_legend = False
        chart.value_axis.tick_labels.number_format = _number_format(unit)
        chart.value_axis.tick_labels.number_format_is_linked = False
        chart.category_axis.tick_labels.font.size = Pt(10.5)
        _axis_title(chart.value_axis, label)
    else:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(12.33, 5.5), layout="constrained", dpi=100)
        charts.plot_bridge(fig.add_subplot(), bridge)
        deck.picture(slide, fig)

    slide = deck.slide(
        "Each lever's fair share",
        "Shapley values: each lever's effect averaged over every order in which "
        "the levers could be added; they add up exactly to the total difference. "
        "The label gives the value and its share of the total. Monte Carlo "
        "standard errors: "
        + "; ".join(
            f"{v.name} \u00b1 {_fmt_unit(v.se, unit)}"
            for v in bridge.shapley
            if not v.null and math.isfinite(v.se)
        )
        + ". "
        + method
        + " "
        + assumes,
    )
    data = CategoryChartData()
    data.categories = [v.name for v in bridge.shapley]
    data.add_series("Shapley value", [v.value * _scale(unit) for v in bridge.shapley])
    chart = deck.chart(slide, XL_CHART_TYPE.BAR_CLUSTERED, data)
    chart.has_legend = False
    _top_down(chart)
    chart.category_axis.tick_labels.font.size = Pt(11)
    chart.value_axis.tick_labels.number_format = _number_format(unit, change=True)
    chart.value_axis.tick_labels.number_format_is_linked = False
    plot = chart.plots[0]
    plot.gap_width = 50
    series = plot.series[0]
    _fill(series, GAIN)
    for point, value in zip(series.points, bridge.shapley, strict=True):
        share = "" if math.isnan(value.share) else f" ({value.share * 100:.0f}\u00a0%)"
        point.data_label.text_frame.text = f"{_fmt_delta(value.value, unit)}{share}"
        point.data_label.position = XL_LABEL_POSITION.OUTSIDE_END
        point.data_label.font.size = Pt(11)
        if value.value < 0:
            point.format.fill.solid()
            point.format.fill.fore_color.rgb = LOSS
    _axis_title(chart.value_axis, f"Fair share of the change in {label}")


def _tornado_slide(deck: _Deck, drivers: Any, assumes: str) -> None:
    unit = drivers.unit
    label = FIGURE_LABELS.get(drivers.figure, drivers.figure)
    slide = deck.slide(
        "What moves the result",
        f"Each input moved to its low and its high value, one at a time, and the "
        f"change in {drivers.scenario_name}'s {drivers.statistic} {label}; the "
        "largest swings first. A lever's low value is the scenario without it. "
        f"{drivers.scenarios_simulated} variants x {drivers.settings.runs:,} runs "
        "with common random numbers. " + assumes,
    )
    effects = list(drivers.effects)[:12]
    data = CategoryChartData()
    data.categories = [e.driver.label for e in effects]
    data.add_series("low value", [e.delta_low * _scale(unit) for e in effects])
    data.add_series("high value", [e.delta_high * _scale(unit) for e in effects])
    chart = deck.chart(slide, XL_CHART_TYPE.BAR_CLUSTERED, data)
    _top_down(chart)
    chart.category_axis.tick_labels.font.size = Pt(11)
    chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    plot = chart.plots[0]
    plot.overlap = 100
    plot.gap_width = 40
    _fill(plot.series[0], LOSS)
    _fill(plot.series[1], GAIN)
    chart.value_axis.tick_labels.number_format = _number_format(unit, change=True)
    chart.value_axis.tick_labels.number_format_is_linked = False
    _axis_title(
        chart.value_axis,
        f"Change in {label}",
    )
    _legend(chart)


# ------------------------------------------------------------------- assumptions


def provenance(citation: Any) -> str:
    """Cited, assumption, or the user's own, from a value's citation."""
    if citation is None:
        return "yours"
    if citation.confidence == "user":  # the user's own figure, whatever its source
        return "yours"
    source = citation.source.strip().lower()
    if source.startswith(("entered by you", "you", "user", "own")):
        return "yours"
    if citation.confidence == "assumption" or source.startswith("assumption"):
        return "assumption"
    return "cited"


def assumption_rows(comparison: Any) -> list[tuple[str, str, str, str]]:
    """``(input, value, kind, source)`` for every cited value of every scenario,
    once each (an alternative inherits its baseline's), by the schema's labels
    in plain numbers (:func:`simulator.model.provenance.assumption_rows`); a value an
    alternative changes names that alternative."""
    from simulator.model.provenance import assumption_rows as rows_of

    rows: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for index, result in enumerate(comparison.results):
        scenario = result.scenario
        baseline = comparison.results[0].scenario if index else None
        for row in rows_of(scenario, baseline):
            key = (row.parameter, row.value, row.source)
            if key in seen or row.section == "Simulation":
                continue
            seen.add(key)
            name = row.label if index == 0 else f"{row.label} ({scenario.name})"
            rows.append((name, row.value, row.kind, row.source))
    order = {"yours": 0, "assumption": 1, "cited": 2}
    rows.sort(key=lambda row: order[row[2]])
    return rows


def _assumption_pages(
    rows: list[tuple[str, str, str, str]],
) -> list[list[tuple[str, str, str, str]]]:
    """Rows split into slides by the lines they take (a source's values
    wrap over several lines), ASSUMPTION_LINES lines a slide."""
    pages: list[list[tuple[str, str, str, str]]] = [[]]
    used = 0
    for row in rows:
        lines = max(
            1, math.ceil(len(row[1]) / 42), math.ceil(min(len(row[3]), 90) / 62)
        )
        if pages[-1] and used + lines > ASSUMPTION_LINES:
            pages.append([])
            used = 0
        pages[-1].append(row)
        used += lines
    return [page for page in pages if page]


def _assumption_slides(deck: _Deck, comparison: Any) -> None:
    rows = assumption_rows(comparison)
    counts = {
        kind: sum(1 for r in rows if r[2] == kind)
        for kind in ("cited", "assumption", "yours")
    }
    pages = _assumption_pages(rows)
    for number, page in enumerate(pages, start=1):
        title = "Assumptions"
        if len(pages) > 1:
            title += f" ({number}/{len(pages)})"
        slide = deck.slide(
            title,
            f"Every input with a source: {counts['cited']} cited from a publication, "
            f"{counts['assumption']} assumptions (set or calibrated, no published "
            f"value), {counts['yours']} entered by you. Yours come first, then the "
            "assumptions, then the cited values; the model guide (docs/model.md) "
            "gives every source and the calibration.",
        )
        table = slide.shapes.add_table(
            len(page) + 1,
            4,
            Inches(MARGIN),
            Inches(BODY_TOP),
            Inches(WIDTH - 2 * MARGIN),
            Inches(0.36 * (len(page) + 1)),
        ).table
        for c, width in enumerate((2.9, 3.4, 1.25, WIDTH - 2 * MARGIN - 7.55)):
            table.columns[c].width = Inches(width)
        header = ("Input", "Value", "Kind", "Source")
        for r, row in enumerate([header, *page]):
            for c, value in enumerate(row):
                cell = table.cell(r, c)
                text = value if len(value) <= 90 else value[:87] + "..."
                cell.text = text
                cell.margin_top = cell.margin_bottom = Pt(1)
                para = cell.text_frame.paragraphs[0]
                para.font.size = Pt(10.5)
                para.font.bold = r == 0


__all__ = ["assumption_rows", "provenance", "write_deck"]
