"""Exports of a comparison: CSV (with a reader), charts, a PDF report and a
PowerPoint deck.

Qt-free on purpose (matplotlib, python-pptx, numpy and the standard library), so
the desktop app and ``funnelsim report`` share it. Charts are drawn by the pure
functions of :mod:`simulator.report.charts` on plain
:class:`~matplotlib.figure.Figure` objects
(never pyplot).

CSV files start with a block of ``# key: value`` comment lines naming the
FunnelSim version, the scenarios, the seed, the runs and the weeks, so a number
pasted into a deck can be traced back to the run that made it. Values are written
with ``repr`` (17 significant digits), so reading them back gives the same floats.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from simulator.analysis.targets import (
    figure_probability,
    figure_reach_weeks,
    weekly_for_figure,
)
from simulator.model.plausibility import (
    result_warning_lines,
    result_warnings,
    start_line,
)
from simulator.model.safe_text import csv_cell, from_csv_cell, one_line
from simulator.model.scenario_io import write_atomic
from simulator.report import charts
from simulator.report.caveats import comparison_caveats
from simulator.report.text import net_value_line
from simulator.run.figures import FIGURE_LABELS, FIGURE_ORDER
from simulator.run.results import uncertainty_note

#: Weekly statistics written to the weekly CSV, in column order.
WEEKLY_STATS = ("mean", "sd", "p5", "p10", "p25", "p50", "p75", "p90", "p95")
#: Slide and page size (inches): 16:9 for slides, A4 landscape for the PDF.
SLIDE_SIZE = (13.333, 7.5)
PAGE_SIZE = (11.69, 8.27)


def funnelsim_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("funnelsim")
    except PackageNotFoundError:  # a bare checkout
        return "unknown"


def ordered_figures(result: Any) -> list[str]:
    names = [f for f in FIGURE_ORDER if f in result.figures]
    return names + sorted(f for f in result.figures if f not in names)


# --------------------------------------------------------------------------- CSV


@dataclass
class CsvExport:
    """What a FunnelSim CSV holds: the header block and the table.

    ``data[scenario][column]`` is a float array: for per-run files the columns are
    the figures (one value per run), for weekly files ``"<series>.<stat>"`` (one
    value per week).
    """

    kind: str  # "figures" or "weekly"
    meta: dict[str, str]
    scenarios: list[str]
    data: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def runs(self) -> int:
        return int(self.meta["runs"])

    @property
    def weeks(self) -> int:
        return int(self.meta["weeks"])

    @property
    def version(self) -> str:
        return self.meta["funnelsim_version"]


def _header(comparison: Any, kind: str) -> list[str]:
    s = comparison.baseline.settings
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    lines = [
        f"FunnelSim export: {kind}",
        f"kind: {kind}",
        f"funnelsim_version: {funnelsim_version()}",
        f"created: {now}",
        "scenarios: " + "; ".join(one_line(r.name) for r in comparison.results),
    ]
    for index, result in enumerate(comparison.results):
        role = "baseline" if index == 0 else "alternative"
        sc = result.scenario
        detail = f"{role}"
        if sc.extends:
            detail += f"; extends {sc.extends}"
        if sc.levers:
            detail += "; levers " + ", ".join(sc.levers)
        lines.append(f"scenario.{index}: {one_line(result.name)} ({one_line(detail)})")
    lines += [
        f"seed: {s.seed}",
        f"runs: {s.runs}",
        f"weeks: {s.horizon_weeks}",
        f"warmup_weeks: {s.warmup_weeks}",
        "paired: common random numbers; run i of every scenario shares its "
        "warm-up and random streams",
        "start: " + start_line(comparison),
    ]
    lines += [
        f"warning.{number}: {concern.message}"
        for number, concern in enumerate(result_warnings(comparison))
    ]
    return [f"# {line}\n" for line in lines]


def _num(value: float) -> str:
    value = float(value)
    return (
        repr(value)
        if math.isfinite(value)
        else ("nan" if value != value else repr(value))
    )


def _name_cell(result: Any) -> Any:
    """A scenario's name as a cell no spreadsheet runs as a formula."""
    return csv_cell(one_line(result.name))


def write_figures_csv(comparison: Any, path: str | Path) -> Path:
    """Per-run figures: one row per scenario and run, one column per figure."""
    path = Path(path)
    names = ordered_figures(comparison.baseline)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(_header(comparison, "figures"))
        writer = csv.writer(fh)
        writer.writerow(["scenario", "run", *names])
        for result in comparison.results:
            columns = [np.asarray(result.figures[n], dtype=float) for n in names]
            for run in range(len(columns[0])):
                writer.writerow(
                    [_name_cell(result), run, *(_num(col[run]) for col in columns)]
                )
    return path


def write_weekly_csv(comparison: Any, path: str | Path) -> Path:
    """Weekly percentiles: one row per scenario, series and week."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(_header(comparison, "weekly"))
        writer = csv.writer(fh)
        writer.writerow(["scenario", "series", "week", *WEEKLY_STATS])
        for result in comparison.results:
            for series in result.series_names:
                stats = result.series(series)
                for week in range(len(stats["p50"])):
                    writer.writerow(
                        [
                            _name_cell(result),
                            series,
                            week,
                            *(_num(stats[k][week]) for k in WEEKLY_STATS),
                        ]
                    )
    return path


def weekly_path_for(path: str | Path) -> Path:
    """``out.csv -> out_weekly.csv``: where :func:`write_csv` puts the weekly
    percentiles next to the per-run figures."""
    path = Path(path)
    return path.with_name(f"{path.stem}_weekly{path.suffix or '.csv'}")


def write_csv(comparison: Any, path: str | Path) -> list[Path]:
    """Per-run figures to ``path`` and weekly percentiles next to it."""
    return [
        write_figures_csv(comparison, path),
        write_weekly_csv(comparison, weekly_path_for(path)),
    ]


def read_csv(path: str | Path) -> CsvExport:
    """Read a CSV written by :func:`write_figures_csv` or :func:`write_weekly_csv`."""
    meta: dict[str, str] = {}
    body: list[str] = []
    with Path(path).open(encoding="utf-8", newline="") as fh:
        for line in fh:
            if line.startswith("#") and not body:
                key, sep, value = line[1:].strip().partition(": ")
                if sep:
                    meta[key] = value
            else:
                body.append(line)
    if "kind" not in meta:
        raise ValueError(f"{path}: not a FunnelSim export (no '# kind:' line)")
    kind = meta["kind"]
    rows = list(csv.reader(body))
    header, rows = rows[0], rows[1:]
    scenarios = [
        meta[k].split(" (", 1)[0]
        for k in sorted(
            (k for k in meta if k.startswith("scenario.")),
            key=lambda k: int(k.split(".")[1]),
        )
    ]
    out = CsvExport(kind=kind, meta=meta, scenarios=scenarios)
    if kind == "figures":
        names = header[2:]
        collected: dict[str, list[list[float]]] = {}
        for row in rows:
            collected.setdefault(from_csv_cell(row[0]), []).append(
                [float(v) for v in row[2:]]
            )
        for scenario, values in collected.items():
            table = np.array(values, dtype=float).reshape(len(values), len(names))
            out.data[scenario] = {n: table[:, i] for i, n in enumerate(names)}
    elif kind == "weekly":
        stats = header[3:]
        weekly: dict[str, dict[str, list[float]]] = {}
        for row in rows:
            target = weekly.setdefault(from_csv_cell(row[0]), {})
            for stat, value in zip(stats, row[3:], strict=True):
                target.setdefault(f"{row[1]}.{stat}", []).append(float(value))
        out.data = {
            sc: {k: np.array(v, dtype=float) for k, v in cols.items()}
            for sc, cols in weekly.items()
        }
    else:
        raise ValueError(f"{path}: unknown export kind {kind!r}")
    return out


# --------------------------------------------------------------------------- text


def _nb(text: str) -> str:
    """Keep a number and its unit on one line (no-break spaces)."""
    return text.replace(" %", "\u00a0%").replace(" points", "\u00a0points")


def method_line(comparison: Any) -> str:
    s = comparison.baseline.settings
    return (
        f"{s.runs:,} runs of {s.horizon_weeks} weeks after a {s.warmup_weeks}-week "
        f"warm-up, seed {s.seed}; every scenario from the same warm-up with common "
        f"random numbers, so differences are paired run by run. FunnelSim "
        f"{funnelsim_version()}."
    )


def headline_lines(comparison: Any) -> list[str]:
    """The comparison in words: each scenario's headline, then for each
    alternative the gap with its range and how often it is ahead, and its net
    value. The PDF's first page and the deck's executive summary say these."""
    base = comparison.baseline
    growth = "arr_growth_y1" in base.summary
    lines = []
    for index, alt in enumerate(comparison.alternatives):
        d = comparison.differences[index]
        if growth:
            b, a = base.summary["arr_growth_y1"], alt.summary["arr_growth_y1"]
            gap = d["arr_growth_y1"]
            lines.append(
                f"{alt.name} grows ARR by {charts.fmt_share(a['p50'], signed=True)} "
                f"over year 1 and {base.name} by "
                f"{charts.fmt_share(b['p50'], signed=True)} (medians of "
                f"{base.runs:,} runs)."
            )
            lines.append(
                f"The gap is {gap['p50'] * 100:+.1f} points of growth (median of "
                f"paired runs); in 90 % of runs it lies between "
                f"{gap['p5'] * 100:+.1f} and {gap['p95'] * 100:+.1f} points, and "
                f"{alt.name} grows faster in "
                f"{charts.fmt_share(gap['p_better'], digits=0)} of runs."
            )
        else:
            b, a = base.summary["arr_end"], alt.summary["arr_end"]
            gap = d["arr_end"]
            lines.append(
                f"{alt.name} ends with ARR of {charts.fmt_money(a['p50'])} and "
                f"{base.name} with {charts.fmt_money(b['p50'])} (medians of "
                f"{base.runs:,} runs)."
            )
            lines.append(
                f"The gap is {charts.fmt_money(gap['p50'], signed=True)} of ARR "
                f"(median of paired runs); in 90 % of runs it lies between "
                f"{charts.fmt_money(gap['p5'], signed=True)} and "
                f"{charts.fmt_money(gap['p95'], signed=True)}, and {alt.name} is "
                f"ahead in {charts.fmt_share(gap['p_better'], digits=0)} of runs."
            )
        lines.append(net_value_line(comparison, index))
    lines += result_warning_lines(comparison)
    return [_nb(line) for line in lines]


def caveat_lines(comparison: Any) -> list[str]:
    """The headline's caveats (none for a what-if that adds no bundled lever)."""
    return comparison_caveats(
        comparison.baseline.scenario, [a.scenario for a in comparison.alternatives]
    )


def difference_rows(comparison: Any) -> list[list[str]]:
    """Header and one row per figure: medians, paired differences, P(better)."""
    header = ["Figure"]
    header += [f"{r.name}\nmedian" for r in comparison.results]
    for alt in comparison.alternatives:
        header += [
            f"{alt.name} \u2212 {comparison.baseline.name}\nmedian",
            "90 % of\npaired runs",
            "better in",
        ]
    rows = [header]
    for figure in ordered_figures(comparison.baseline):
        row = [FIGURE_LABELS.get(figure, figure)]
        row += [
            charts.fmt_figure(figure, r.summary[figure]["p50"])
            for r in comparison.results
        ]
        for index in range(len(comparison.alternatives)):
            d = comparison.differences[index][figure]
            row += [
                fmt_difference(figure, d["p50"]),
                f"{fmt_difference(figure, d['p5'])} to "
                f"{fmt_difference(figure, d['p95'])}",
                charts.fmt_share(d["p_better"], digits=0),
            ]
        rows.append(row)
    return rows


def fmt_difference(figure: str, value: float) -> str:
    """A difference of a figure with its sign; of a share, in points (19.5 %
    against -3.9 % is 23.4 points, not 23.4 %)."""
    if figure in charts.SHARE_FIGURES:
        if not math.isfinite(value):
            return "n/a"
        return f"{value * 100:+.1f}\u00a0pts"
    return charts.fmt_figure(figure, value, signed=True)


def source_lines(comparison: Any, *, width: int = 150) -> list[tuple[str, str]]:
    """Assumptions and sources as ``(style, text)`` lines: ``"h"`` for a heading,
    ``"b"`` for an entry's first line, ``""`` for the rest. Parameters are
    named by the schema's labels with units and plain numbers
    (:func:`simulator.model.provenance.assumption_rows`); a value the user entered
    is credited to the user, never to a publication."""
    from simulator.model.parameter_text import SECTION_NAMES
    from simulator.model.provenance import assumption_rows

    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for index, result in enumerate(comparison.results):
        sc = result.scenario
        out.append(("h", f"{sc.name}"))
        if index > 0:
            out.append(("", "The baseline's company with these levers and changes."))
        if sc.description:
            for line in textwrap.wrap(sc.description, width):
                out.append(("", line))
        if sc.levers:
            out.append(("", "Levers: " + ", ".join(_lever_names(sc.levers))))
        section = ""
        baseline = comparison.results[0].scenario if index else None
        # grouped by section (a user's values come last in citation order)
        order = {name: n for n, name in enumerate(SECTION_NAMES)}
        rows = sorted(
            assumption_rows(sc, baseline), key=lambda r: order.get(r.section, 99)
        )
        for row in rows:
            key = (row.parameter, row.value, row.source)
            if key in seen:  # an alternative keeps the baseline's sources
                continue
            seen.add(key)
            if row.section != section:
                section = row.section
                out.append(("", f"{section}:"))
            for number, line in enumerate(textwrap.wrap(row.line(), width - 2)):
                out.append(("b", ("  " if number == 0 else "      ") + line))
            for line in textwrap.wrap(row.note, width - 6):
                out.append(("", "      " + line))
    return out


def _lever_names(lever_ids: Any) -> list[str]:
    from simulator.model.errors import ScenarioError
    from simulator.model.scenario_io import load_lever

    names = []
    for lever_id in lever_ids:
        try:
            names.append(load_lever(lever_id).name)
        except ScenarioError:
            names.append(str(lever_id))
    return names


# --------------------------------------------------------------------------- charts


def _fig(size: tuple[float, float]) -> Figure:
    return Figure(figsize=size, layout="constrained", dpi=100)


def chart_figures(
    comparison: Any,
    *,
    bridge: Any = None,
    drivers: Any = None,
    target: tuple[str, float] | None = None,
    size: tuple[float, float] = SLIDE_SIZE,
) -> list[tuple[str, Figure]]:
    """Every chart of a report as ``(title, Figure)``, drawn by
    :mod:`simulator.report.charts`.

    ``target`` is ``(figure, value)``: the distribution of that figure gets the
    target line and the ARR fan chart the weeks it is reached (when the figure is
    read on ARR).
    """
    results = comparison.results
    out: list[tuple[str, Figure]] = []
    fig = _fig(size)
    ax = fig.add_subplot()
    charts.plot_fans(ax, results, "arr")
    if target is not None:
        figure, value = target
        data, level = weekly_for_figure(results[0], figure, value)
        if data is not None and figure in ("arr_end", "arr_growth_y1"):
            reaches = [figure_reach_weeks(r, figure, value) or {} for r in results]
            charts.add_target_to_fan(
                ax,
                results,
                level,
                reaches,
                label=f"{charts.fmt_figure(figure, value)} "
                f"({charts.fmt_money(level)} ARR)",
            )
    out.append(("ARR over time", fig))
    if comparison.alternatives:
        fig = _fig(size)
        charts.plot_paired(fig.add_subplot(), comparison, "arr")
        out.append(("ARR gained, run by run", fig))
    figure = target[0] if target else "arr_growth_y1"
    if figure not in results[0].figures:
        figure = "arr_end"
    fig = _fig(size)
    ax = fig.add_subplot()
    charts.plot_distribution(ax, results, figure)
    if target is not None and target[0] in results[0].figures:
        probs = [figure_probability(r, target[0], target[1]) for r in results]
        charts.add_target_to_distribution(ax, results, target[0], target[1], probs)
    out.append(("How sure: spread over runs", fig))
    fig = _fig(size)
    top = max(max(s.count for s in charts.funnel_steps(r)) for r in results)
    for index, result in enumerate(results):
        charts.plot_funnel(
            fig.add_subplot(len(results), 1, index + 1),
            result,
            color=charts.scenario_color(index),
            max_count=top,
        )
    out.append(("Where leads go", fig))
    fig = _fig(size)
    charts.plot_dynamics(list(fig.subplots(2, 2).ravel()), results)
    out.append(("The feedback loops", fig))
    if bridge is not None:
        fig = _fig(size)
        charts.plot_bridge(fig.add_subplot(), bridge)
        out.append(("Value bridge, lever by lever", fig))
        fig = _fig(size)
        charts.plot_shapley(fig.add_subplot(), bridge)
        out.append(("Each lever's fair share", fig))
    if drivers is not None:
        fig = _fig(size)
        charts.plot_tornado(fig.add_subplot(), drivers)
        out.append(("What moves the result", fig))
    return out


def save_figure(figure: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Save one chart; the format follows the suffix (``.png``, ``.svg``, ``.pdf``)."""
    path = Path(path)
    figure.savefig(path, dpi=dpi, facecolor="white")
    return path


# --------------------------------------------------------------------------- PDF


def _text_page(
    title: str, lines: Sequence[tuple[str, str]], *, size: tuple[float, float]
) -> Figure:
    fig = Figure(figsize=size, dpi=100)
    fig.text(0.05, 0.94, title, fontsize=20, fontweight="bold", va="top")
    y = 0.87
    for style, text in lines:
        weight = "bold" if style in ("h", "b") else "normal"
        fontsize = 13 if style == "h" else 9
        if style == "h":
            y -= 0.01
        fig.text(0.05, y, text, fontsize=fontsize, fontweight=weight, va="top")
        y -= 0.034 if style == "h" else 0.022
    return fig


def _paginate(
    lines: Sequence[tuple[str, str]], per_page: int = 34
) -> list[list[tuple[str, str]]]:
    pages: list[list[tuple[str, str]]] = [[]]
    for line in lines:
        if len(pages[-1]) >= per_page:
            pages.append([])
        pages[-1].append(line)
    return pages


def _title_page(comparison: Any, title: str, size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, dpi=100)
    fig.text(0.06, 0.84, title, fontsize=28, fontweight="bold")
    names = " vs ".join(r.name for r in comparison.results)
    fig.text(0.06, 0.77, names, fontsize=18, color="#333333")
    y = 0.68
    for line in headline_lines(comparison):
        for part in textwrap.wrap(line, 105, break_on_hyphens=False):
            fig.text(0.06, y, part, fontsize=12.5, va="top")
            y -= 0.038
        y -= 0.018
    for caveat in caveat_lines(comparison):
        y -= 0.01
        for part in textwrap.wrap(caveat, 110, break_on_hyphens=False):
            fig.text(
                0.06,
                y,
                part,
                fontsize=12,
                fontweight="bold",
                color="#8a3b00",
                va="top",
            )
            y -= 0.036
    today = _dt.date.today().isoformat()
    footer = (
        f"{method_line(comparison)} Made on {today}. A Monte Carlo model: ranges "
        "show the spread over simulated runs, not a forecast."
    )
    for index, part in enumerate(textwrap.wrap(footer, 150)):
        fig.text(0.06, 0.09 - 0.028 * index, part, fontsize=9.5, color="#555")
    return fig


def _table_page(comparison: Any, size: tuple[float, float]) -> Figure:
    rows = difference_rows(comparison)
    fig = Figure(figsize=size, dpi=100)
    fig.text(
        0.04,
        0.95,
        "Scenarios and their differences",
        fontsize=20,
        fontweight="bold",
        va="top",
    )
    ax = fig.add_axes((0.03, 0.06, 0.94, 0.82))
    ax.axis("off")
    table = ax.table(
        cellText=rows[1:],
        colLabels=rows[0],
        loc="upper center",
        cellLoc="right",
        colLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.55)
    for (r, c), cell in table.get_celld().items():
        if c == 0:
            cell.set_text_props(ha="left")
        if r == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_height(cell.get_height() * 1.8)
            cell.set_facecolor("#eeeeee")
    table.auto_set_column_width(list(range(len(rows[0]))))
    note = (
        "Medians over runs. Differences are paired run by run (common random "
        "numbers); differences of a growth rate are in points (pts). 'Better in' is "
        "the share of paired runs where the alternative is better: higher, or lower "
        "for costs, CAC, customers lost, leads ignored and leads gone stale."
    )
    for index, part in enumerate(textwrap.wrap(note, 160)):
        fig.text(0.04, 0.05 - 0.022 * index, part, fontsize=9, color="#555555")
    return fig


def write_pdf(
    comparison: Any,
    path: str | Path,
    *,
    bridge: Any = None,
    drivers: Any = None,
    target: tuple[str, float] | None = None,
    title: str = "What alignment is worth",
) -> Path:
    """A PDF report: title page with the headline, the table of differences, every
    chart, the bridge, the drivers, then the assumptions and their sources."""
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        pdf.savefig(_title_page(comparison, title, PAGE_SIZE))
        pdf.savefig(_table_page(comparison, PAGE_SIZE))
        for name, fig in chart_figures(
            comparison, bridge=bridge, drivers=drivers, target=target, size=PAGE_SIZE
        ):
            fig.suptitle(name, fontsize=18, fontweight="bold", x=0.02, ha="left")
            pdf.savefig(fig)
        s = comparison.baseline.settings
        method = [
            ("h", "How these numbers were made"),
            (
                "",
                f"{s.runs:,} Monte Carlo runs per scenario, {s.horizon_weeks} "
                f"reported weeks after a {s.warmup_weeks}-week warm-up, seed {s.seed}.",
            ),
            (
                "",
                "Every scenario continues from the same warm-up with common random "
                "numbers, so differences are paired run by run.",
            ),
            ("", uncertainty_note(comparison)),
            ("", start_line(comparison) + "."),
            *[("b", line) for line in result_warning_lines(comparison)],
            (
                "",
                "The inputs below are assumptions with the sources given; "
                "values marked as entered by you are the user's own.",
            ),
        ]
        lines = method + source_lines(comparison)
        pages = _paginate(lines)
        for number, page in enumerate(pages, start=1):
            heading = "Assumptions and sources"
            if len(pages) > 1:
                heading += f" ({number}/{len(pages)})"
            pdf.savefig(_text_page(heading, page, size=PAGE_SIZE))
        info = pdf.infodict()
        info["Title"] = title
        info["Creator"] = f"FunnelSim {funnelsim_version()}"
    write_atomic(path, buffer.getvalue())  # whole or not at all
    return path


# --------------------------------------------------------------------------- PPTX


def write_pptx(
    comparison: Any,
    path: str | Path,
    *,
    bridge: Any = None,
    drivers: Any = None,
    target: tuple[str, float] | None = None,
    title: str = "What alignment is worth",
) -> Path:
    """A PowerPoint deck (16:9, native charts, speaker notes; see
    :mod:`simulator.report.deck`), written whole or not at all."""
    from simulator.report.deck import write_deck

    path = Path(path)
    data = write_deck(
        comparison, bridge=bridge, drivers=drivers, target=target, title=title
    )
    write_atomic(path, data)
    return path


__all__ = [
    "CsvExport",
    "chart_figures",
    "difference_rows",
    "funnelsim_version",
    "headline_lines",
    "read_csv",
    "save_figure",
    "source_lines",
    "weekly_path_for",
    "write_csv",
    "write_figures_csv",
    "write_pdf",
    "write_pptx",
    "write_weekly_csv",
]
