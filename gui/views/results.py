"""The results views: headline cards, fan charts, distribution, funnel, dynamics
and a copyable table. Drawing is done by the pure functions of
:mod:`simulator.report.charts`;
a view only owns its canvas and redraws when it is visible (a hidden view is
marked stale and redrawn when shown), so a burst of results costs one draw.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from matplotlib.text import Text
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.views.canvas import ChartCanvas, ResultView
from simulator.model.plausibility import result_warnings
from simulator.model.safe_text import csv_cell, one_line
from simulator.report import charts
from simulator.report.caveats import comparison_caveats
from simulator.run.figures import FIGURE_LABELS, FIGURE_ORDER, FIGURE_UNITS


def ordered_figures(result: Any) -> list[str]:
    names = [f for f in FIGURE_ORDER if f in result.figures]
    return names + sorted(f for f in result.figures if f not in names)


#: Width of the Overview's column of headline cards, in pixels.
CARD_COLUMN_WIDTH = 270
#: Below this width the Overview's cards go in a row above the charts, of
#: this height.
WIDE_OVERVIEW = 760
CARD_ROW_HEIGHT = 190
#: Qt's largest widget size (QWIDGETSIZE_MAX).
QWIDGETSIZE_MAX = (1 << 24) - 1


class Card(QFrame):
    """A headline number with a coloured edge."""

    def __init__(self, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.set_color(color)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 8, 6)
        layout.setSpacing(2)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # a scenario's name
        self.title.setStyleSheet("font-size: 13pt; font-weight: bold; border: none;")
        self.title.setWordWrap(True)
        self.body = QLabel()
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setStyleSheet("font-size: 11pt; border: none;")
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        # As tall as its wrapped text, never squeezed (the column scrolls).
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_color(self, color: str, *, difference: bool = False) -> None:
        """A scenario card has a coloured left edge; a difference card a coloured
        frame on a tinted background."""
        if difference:
            style = f"border: 2px solid {color}; background: #f4f8fb;"
        else:
            style = (
                f"border: 1px solid #cccccc; border-left: 8px solid {color}; "
                "background: white;"
            )
        self.setStyleSheet(f"QFrame#card {{ {style} border-radius: 4px; }}")

    def set_content(self, title: str, lines: list[str]) -> None:
        self.title.setText(title)
        self.body.setText("<br>".join(lines))


def growth_figure(result: Any) -> str:
    return "arr_growth_y1" if "arr_growth_y1" in result.figures else "arr_end"


def scenario_card_lines(result: Any) -> list[str]:
    s = result.summary
    weeks = result.settings.horizon_weeks
    lines = []
    if "arr_growth_y1" in s:
        g = s["arr_growth_y1"]
        lines.append(
            f"ARR growth, year 1: <b style='font-size:20pt'>"
            f"{charts.fmt_share(g['p50'], signed=True)}</b>"
        )
        lines.append(
            f"<span style='color:#555'>90 % of runs: "
            f"{charts.fmt_share(g['p5'], signed=True)} to "
            f"{charts.fmt_share(g['p95'], signed=True)}</span>"
        )
    else:
        lines.append(
            f"ARR after {weeks} weeks: <b style='font-size:20pt'>"
            f"{charts.fmt_money(s['arr_end']['p50'])}</b>"
        )
        lines.append(
            "<span style='color:#555'>(ARR growth needs a horizon of "
            "52 weeks or more)</span>"
        )
    lines.append(
        f"Revenue over {weeks} weeks: <b>"
        f"{charts.fmt_money(s['total_revenue']['p50'])}</b>"
    )
    cac = s["cac"]
    lines.append(
        f"CAC: <b>{charts.fmt_money(cac['p50'])}</b> per deal"
        + (
            f" <span style='color:#555'>({cac['n']:,} runs with a deal)</span>"
            if cac.get("n", 0) < result.settings.runs
            else ""
        )
    )
    return lines


def difference_card_lines(comparison: Any, index: int) -> list[str]:
    diff = comparison.differences[index]
    alt = comparison.alternatives[index]
    figure = growth_figure(alt)
    d = diff[figure]
    lines = []
    if figure == "arr_growth_y1":
        points = d["p50"] * 100
        lines.append(f"ARR growth: <b style='font-size:20pt'>{points:+.1f} points</b>")
        lines.append(
            f"<span style='color:#555'>90 % of paired runs: "
            f"{d['p5'] * 100:+.1f} to {d['p95'] * 100:+.1f} points</span>"
        )
    else:
        lines.append(
            f"ARR at the end: <b style='font-size:20pt'>"
            f"{charts.fmt_money(d['p50'], signed=True)}</b>"
        )
        lines.append(
            f"<span style='color:#555'>90 % of paired runs: "
            f"{charts.fmt_money(d['p5'], signed=True)} to "
            f"{charts.fmt_money(d['p95'], signed=True)}</span>"
        )
    p, se = d["p_better"], d["p_better_se"]
    runs = int(np.count_nonzero(~np.isnan(comparison.paired(index, figure))))
    # (at 0 or 1 a share's standard error is 0: the count of runs says more)
    lines.append("Better " + html.escape(charts.share_of_runs(p, se, runs)))
    lines.append(
        f"Revenue: <b>{charts.fmt_money(diff['total_revenue']['p50'], signed=True)}"
        "</b> (median of paired differences)"
    )
    lines += net_value_card_lines(comparison, index)
    return lines


def net_value_card_lines(comparison: Any, index: int) -> list[str]:
    """The alternative's revenue gain minus its extra cost over the horizon,
    with the range of 90 % of paired runs and the return on the extra cost."""
    if "total_cost" not in comparison.baseline.figures:
        return []
    nv = comparison.net_value(index)
    net, extra, ret = nv["net"], nv["extra_cost"], nv["return"]
    lines = [
        f"Net value: <b>{charts.fmt_money(net['p50'], signed=True)}</b> "
        f"<span style='color:#555'>(90\u00a0% of runs "
        f"{charts.fmt_money(net['p5'], signed=True)} to "
        f"{charts.fmt_money(net['p95'], signed=True)})</span>"
    ]
    cost = f"revenue gained \u2212 extra cost of {charts.fmt_money(extra['p50'])}"
    if ret["n"]:
        cost += (
            f"; <b>{ret['p50']:.1f}\u00d7</b> the cost "
            f"({ret['p5']:.1f}\u00d7 to {ret['p95']:.1f}\u00d7)"
        )
    lines.append(f"<span style='color:#555'>= {cost}</span>")
    return lines


class OverviewView(ResultView):
    """Headline cards, the fan chart and the paired-difference chart."""

    title = "Overview"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Cards in a column beside the charts: screens are wider than tall, and
        # the charts keep the height (a third or fourth scenario adds cards
        # below, reached by scrolling, rather than squeezing the charts).
        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        cards_panel = QWidget()
        self.cards_row = QVBoxLayout(cards_panel)
        self.cards_row.setContentsMargins(0, 0, 4, 0)
        self.cards_row.addStretch(1)
        self.cards_scroll = QScrollArea()
        self.cards_scroll.setObjectName("overview_cards")
        self.cards_scroll.setWidgetResizable(True)
        self.cards_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.cards_scroll.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        self.cards_scroll.setWidget(cards_panel)
        outer.addWidget(self.cards_scroll)
        self._outer = outer
        self._wide: bool | None = None
        self._arrange(wide=True)
        layout = QVBoxLayout()
        outer.addLayout(layout, 1)
        self.cards: list[Card] = []
        # The headline's caveat, in one line under the cards, when it applies.
        self.caveat = QLabel()
        self.caveat.setObjectName("headline_caveat")
        self.caveat.setWordWrap(True)
        self.caveat.setStyleSheet("color: #8a3b00;")
        self.caveat.setVisible(False)
        layout.addWidget(self.caveat)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Chart:"))
        self.series_box = QComboBox()
        self.series_box.setObjectName("fan_series")
        self.series_box.addItem("ARR", "arr")
        self.series_box.addItem("Revenue per week", "revenue")
        self.series_box.currentIndexChanged.connect(lambda _i: self.refresh())
        controls.addWidget(self.series_box)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.canvas = ChartCanvas(height=6.5)
        layout.addWidget(self.canvas, 1)
        # What the figure was last built for (see _layout), and its artists then.
        self._built_layout: object = None
        self._built_artists: set[Any] = set()

    @property
    def series(self) -> str:
        return str(self.series_box.currentData())

    def _arrange(self, *, wide: bool) -> None:
        """Cards in a column beside the charts when the view is wide, in a
        row above them when it is narrow (the charts keep a usable width)."""
        if wide == self._wide:
            return
        self._wide = wide
        scroll = self.cards_scroll
        if wide:
            self._outer.setDirection(QBoxLayout.Direction.LeftToRight)
            self.cards_row.setDirection(QBoxLayout.Direction.TopToBottom)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            scroll.setMinimumHeight(0)
            scroll.setMaximumHeight(QWIDGETSIZE_MAX)
            scroll.setFixedWidth(CARD_COLUMN_WIDTH)
        else:
            self._outer.setDirection(QBoxLayout.Direction.TopToBottom)
            self.cards_row.setDirection(QBoxLayout.Direction.LeftToRight)
            scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            scroll.setMinimumWidth(0)
            scroll.setMaximumWidth(QWIDGETSIZE_MAX)
            scroll.setFixedHeight(CARD_ROW_HEIGHT)

    def resizeEvent(self, event: Any) -> None:
        self._arrange(wide=event.size().width() >= WIDE_OVERVIEW)
        super().resizeEvent(event)

    def set_comparison(self, comparison: Any, *, preview: bool = False) -> None:
        super().set_comparison(comparison, preview=preview)
        self._update_cards()

    def _update_cards(self) -> None:
        comparison = self.comparison
        wanted = len(comparison.results) + len(comparison.alternatives)
        while len(self.cards) > wanted:
            card = self.cards.pop()
            self.cards_row.removeWidget(card)
            card.deleteLater()
        while len(self.cards) < wanted:
            card = Card("#999999")
            self.cards.append(card)
            self.cards_row.insertWidget(len(self.cards) - 1, card)  # (stretch last)
        # The comparison's headline (the difference cards) at the top of the
        # column, then each scenario's card.
        base = len(comparison.results)
        order = self.cards[base:] + self.cards[:base]
        shown = [self.cards_row.itemAt(i) for i in range(wanted)]
        if [item.widget() if item else None for item in shown] != order:
            for card in order:
                self.cards_row.removeWidget(card)
            for position, card in enumerate(order):
                self.cards_row.insertWidget(position, card)
        warnings: dict[str, list[str]] = {}
        for concern in result_warnings(comparison):
            warnings.setdefault(concern.where, []).append(
                f"<span style='color:#8a3b00'>⚠ {html.escape(concern.message)}</span>"
            )
        for index, result in enumerate(comparison.results):
            card = self.cards[index]
            card.set_color(charts.scenario_color(index))
            card.set_content(
                result.name,
                scenario_card_lines(result) + warnings.get(f"result:{index}", []),
            )
        caveats = comparison_caveats(
            comparison.baseline.scenario,
            [alt.scenario for alt in comparison.alternatives],
        )
        self.caveat.setText(" ".join(caveats))
        self.caveat.setVisible(bool(caveats))
        for index, alt in enumerate(comparison.alternatives):
            card = self.cards[base + index]
            card.set_color(charts.scenario_color(index + 1), difference=True)
            card.set_content(
                f"{alt.name} vs {comparison.baseline.name}",
                difference_card_lines(comparison, index)
                + warnings.get(f"difference:{index}", []),
            )

    def draw(self) -> None:
        if self.preview and self._can_update():
            # Only the data changed (a preview like the last comparison):
            # move the artists and redraw them alone (see ChartCanvas).
            self._update()
            self.canvas.redraw_data()
        else:
            self._build()
            self.canvas.draw_idle()

    def _layout(self) -> object:
        """What the figure's artists stand for: the series and horizon, and the
        scenarios by name (legend, titles). Comparisons alike in all of these
        differ only in data (and the run count in a title)."""
        comparison = self.comparison
        return (
            self.series,
            comparison.baseline.settings.horizon_weeks,
            tuple(result.name for result in comparison.results),
        )

    def _artists(self) -> set[Any]:
        """The figure's artists and its Axes' (overlays included)."""
        fig = self.canvas.figure
        return {*fig.get_children(), *(a for ax in fig.axes for a in ax.get_children())}

    def _can_update(self) -> bool:
        """Whether the figure was built for a comparison like this one and still
        has every artist of that build (nothing cleared or replaced them)."""
        return (
            self._built_layout == self._layout()
            and self._built_artists <= self._artists()
        )

    def _build(self) -> None:
        fig = self.canvas.figure
        fig.clear()
        top, bottom = fig.subplots(2, 1, height_ratios=(3, 2), sharex=True)
        charts.plot_fans(top, self.comparison.results, self.series)
        top.set_xlabel("")
        if self.comparison.alternatives:
            charts.plot_paired(bottom, self.comparison, self.series)
        else:
            bottom.set_visible(False)
        # The data, what sits on it and the titles (which give the run count),
        # drawn over the rest (ChartCanvas).
        for ax in (top, bottom):
            for artist in (*ax.collections, *ax.lines, *left_title(ax)):
                artist.set_animated(True)
        self._built_layout = self._layout()
        self._built_artists = self._artists()

    def _update(self) -> None:
        """Move the built figure's artists to the comparison. What was added
        since (the target, on ``drawn``) is removed first, as a build would clear
        it: its owner adds it again on ``drawn``, and until then it would count
        in the limits."""
        for artist in self._artists() - self._built_artists:
            artist.remove()
        top, bottom = self.canvas.figure.axes
        charts.update_fans(top, self.comparison.results, self.series)
        if self.comparison.alternatives:
            charts.update_paired(bottom, self.comparison, self.series)


def left_title(ax: Any) -> list[Any]:
    """The Text of ``ax``'s title on the left (the charts' titles), found among
    its children by its text: matplotlib offers no public handle on it."""
    text = ax.get_title(loc="left")
    return [
        child
        for child in ax.get_children()
        if isinstance(child, Text)
        and child.get_text() == text
        and child.get_horizontalalignment() == "left"
        and child is not ax.title
    ][:1]


class DistributionView(ResultView):
    """Histogram or ECDF of a chosen per-run figure."""

    title = "Distribution"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.controls = controls
        controls.addWidget(QLabel("Figure:"))
        self.figure_box = QComboBox()
        self.figure_box.setObjectName("distribution_figure")
        self.figure_box.currentIndexChanged.connect(lambda _i: self.refresh())
        controls.addWidget(self.figure_box)
        self.hist_button = QRadioButton("Histogram")
        self.ecdf_button = QRadioButton("Cumulative (ECDF)")
        self.hist_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.hist_button)
        group.addButton(self.ecdf_button)
        self.hist_button.toggled.connect(lambda _on: self.refresh())
        controls.addWidget(self.hist_button)
        controls.addWidget(self.ecdf_button)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.canvas = ChartCanvas(height=6)
        layout.addWidget(self.canvas, 1)

    @property
    def kind(self) -> str:
        return "ecdf" if self.ecdf_button.isChecked() else "hist"

    def set_comparison(self, comparison: Any, *, preview: bool = False) -> None:
        names = ordered_figures(comparison.baseline)
        current = self.figure_box.currentData() or "arr_growth_y1"
        self.figure_box.blockSignals(True)
        self.figure_box.clear()
        for name in names:
            self.figure_box.addItem(FIGURE_LABELS.get(name, name), name)
        self.figure_box.setCurrentIndex(
            max(0, names.index(current) if current in names else 0)
        )
        self.figure_box.blockSignals(False)
        super().set_comparison(comparison, preview=preview)

    def draw(self) -> None:
        fig = self.canvas.figure
        fig.clear()
        ax = fig.add_subplot()
        figure = self.figure_box.currentData() or "arr_growth_y1"
        charts.plot_distribution(ax, self.comparison.results, figure, kind=self.kind)
        self.canvas.draw_idle()


class FunnelView(ResultView):
    """Where leads go, from generated to won, per scenario."""

    title = "Funnel"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        note = QLabel(
            "Mean leads per run over the horizon at each step, the share "
            "that reaches it from the step before, and where the others "
            "leak out. Bars on a log scale: won deals are hundreds of times "
            "fewer than leads."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.canvas = ChartCanvas(height=6)
        layout.addWidget(self.canvas, 1)

    def draw(self) -> None:
        fig = self.canvas.figure
        fig.clear()
        results = self.comparison.results
        top = max(max(s.count for s in charts.funnel_steps(r)) for r in results)
        self.canvas.setMinimumHeight(300 * len(results))
        for index, result in enumerate(results):
            ax = fig.add_subplot(len(results), 1, index + 1)
            charts.plot_funnel(
                ax, result, color=charts.scenario_color(index), max_count=top
            )
        self.canvas.draw_idle()


class DynamicsView(ResultView):
    """The feedback loops over time."""

    title = "Dynamics"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        note = QLabel(
            "Median over runs (line) and middle half of runs (band). The "
            "trust loop shows in the ignore rate, capacity in the queue, "
            "the nurture loop in the pool, closed-loop budgeting in the "
            "budget shares."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.canvas = ChartCanvas(height=6.5)
        layout.addWidget(self.canvas, 1)

    def draw(self) -> None:
        fig = self.canvas.figure
        fig.clear()
        axes = fig.subplots(2, 2).ravel()
        charts.plot_dynamics(list(axes), self.comparison.results)
        self.canvas.draw_idle()


class TableView(ResultView):
    """Summaries of every per-run figure, copyable as tab-separated text."""

    title = "Table"
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.copy_button = QPushButton("Copy table")
        self.copy_button.setToolTip(
            "Copy as tab-separated text (paste into a spreadsheet or a slide)"
        )
        self.copy_button.clicked.connect(self.copy)
        controls.addWidget(
            QLabel(
                "Median and the range of the middle 90 % of runs; "
                "differences are paired run by run."
            )
        )
        controls.addStretch(1)
        controls.addWidget(self.copy_button)
        layout.addLayout(controls)
        self.table = QTableWidget()
        self.table.setObjectName("summary_table")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        layout.addWidget(self.table, 1)
        QShortcut(QKeySequence.StandardKey.Copy, self.table, self.copy)

    def rows(self) -> list[list[str]]:
        """The table as text: a header row, then one row per figure."""
        comparison = self.comparison
        header = ["Figure", "Unit"]
        for result in comparison.results:
            header += [f"{result.name}: median", f"{result.name}: 5-95 %"]
        for alt in comparison.alternatives:
            header += [
                f"{alt.name} \u2212 {comparison.baseline.name}: median",
                "5-95 %",
                "p(better)",
            ]
        out = [header]
        for figure in ordered_figures(comparison.baseline):
            row = [
                FIGURE_LABELS.get(figure, figure) + f" [{figure}]",
                FIGURE_UNITS.get(figure, ""),
            ]
            for result in comparison.results:
                s = result.summary[figure]
                row += [
                    charts.fmt_figure(figure, s["p50"]),
                    f"{charts.fmt_figure(figure, s['p5'])} to "
                    f"{charts.fmt_figure(figure, s['p95'])}",
                ]
            for index in range(len(comparison.alternatives)):
                d = comparison.differences[index][figure]
                row += [
                    charts.fmt_figure(figure, d["p50"], difference=True),
                    f"{charts.fmt_figure(figure, d['p5'], difference=True)} to "
                    f"{charts.fmt_figure(figure, d['p95'], difference=True)}",
                    charts.fmt_share(d["p_better"]),
                ]
            out.append(row)
        return out

    def draw(self) -> None:
        rows = self.rows()
        self.table.clear()
        self.table.setColumnCount(len(rows[0]))
        self.table.setRowCount(len(rows) - 1)
        self.table.setHorizontalHeaderLabels(rows[0])
        for r, row in enumerate(rows[1:]):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def text(self) -> str:
        if self.comparison is None:
            return ""
        # The header holds scenario names: neutralised for a spreadsheet
        # pasted into (the values below are the app's own numbers).
        header, *body = self.rows()
        safe = [str(csv_cell(one_line(cell))) for cell in header]
        return "\n".join("\t".join(row) for row in [safe, *body]) + "\n"

    def copy(self) -> None:
        text = self.text()
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)
