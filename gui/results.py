"""The results views: headline cards, fan charts, distribution, funnel, dynamics
and a copyable table. Drawing is done by the pure functions of
:mod:`simulator.report.charts`;
a view only owns its canvas and redraws when it is visible (a hidden view is
marked stale and redrawn when shown), so a burst of results costs one draw.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
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
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.textcache import TextCache
from simulator.model.plausibility import result_warnings, start_line
from simulator.model.safe_text import csv_cell, one_line
from simulator.report import charts
from simulator.report.caveats import comparison_caveats
from simulator.report.text import two_digits
from simulator.run.figures import FIGURE_ORDER, FIGURE_UNITS
from simulator.run.results import uncertainty_note


def ordered_figures(result: Any) -> list[str]:
    names = [f for f in FIGURE_ORDER if f in result.figures]
    return names + sorted(f for f in result.figures if f not in names)


#: The least height of a chart, in pixels.
MIN_CANVAS_HEIGHT = 240
#: Width of the Overview's column of headline cards, in pixels.
CARD_COLUMN_WIDTH = 270
#: Below this width the Overview's cards go in a row above the charts, of
#: this height.
WIDE_OVERVIEW = 760
CARD_ROW_HEIGHT = 190
#: Qt's largest widget size (QWIDGETSIZE_MAX).
QWIDGETSIZE_MAX = (1 << 24) - 1


class ChartCanvas(FigureCanvasQTAgg):
    """A matplotlib canvas on a :class:`Figure` (never pyplot).

    Its figures are laid out by matplotlib's constrained layout, which takes
    about a third of a draw. A preview (the full run follows within a second or
    two) sets ``quick_layout`` for the one draw it causes: when the figure has
    the structure it had at its last full layout (the same grid of axes, each
    shown or hidden alike, on a canvas of nearly the same size), that layout's
    positions are reused instead.
    """

    #: Canvas size changes up to this share still reuse a layout (the preview's
    #: longer caption makes the canvas a few pixels shorter).
    QUICK_SIZE_TOLERANCE = 0.05
    #: Texts kept as drawn (gui.textcache): a chart's tick and axis labels,
    #: legend entries, titles and captions, for its previews and full runs.
    KEPT_TEXTS = 128

    # Blitting. Artists marked animated (what changes from one comparison to
    # the next: bands, medians, titles with the run count, a target's marks
    # and caption) are left out of a draw on screen and drawn on top of it
    # afterwards; a copy of the rest (the background: axes, ticks, labels) is
    # kept from that draw, and so are opaque legends, which are laid back over
    # the animated artists. A view that only moved animated artists sets
    # ``blit_next`` for its next draw, which, if every Axes kept its place and
    # limits, restores the background and redraws the animated artists alone:
    # a few hundredths of a second instead of a tenth or two, most of a draw
    # being text. In every draw on screen, a text drawn before at the same
    # place over the same pixels is laid back as drawn then (gui.textcache).
    # The pixels are those of a full draw; saved figures draw animated artists
    # like any other, in their order.

    def __init__(self, *, height: float = 4.0, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(8, height), layout="constrained", dpi=100)
        super().__init__(self.figure)
        self.setParent(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Small enough for a 1280x720 screen; the layout gives more when free.
        self.setMinimumHeight(min(int(height * 55), MIN_CANVAS_HEIGHT))
        self.quick_layout = False
        self.blit_next = False
        #: Called first in every draw (a view's last adjustments).
        self.before_draw: Callable[[], None] | None = None
        # The background of the last draw and what it shows (see _scene).
        self._background: Any = None
        self._background_scene: object = None
        self._top_regions: list[Any] = []
        #: Texts as drawn, laid back when drawn again unchanged (see textcache).
        self.texts = TextCache(self.KEPT_TEXTS)
        self._text_renderer: Any = None
        # The last full layout: canvas size, structure, axes positions.
        self._laid_out: tuple[tuple[int, int], object, list[Any]] | None = None

    def _structure(self) -> object:
        return tuple(
            (
                spec.get_geometry() if (spec := ax.get_subplotspec()) else None,
                ax.get_visible(),
                ax.axison,
            )
            for ax in self.figure.axes
        )

    def _can_reuse_layout(self, structure: object) -> bool:
        if not self.quick_layout or self._laid_out is None:
            return False
        (width, height), laid_structure, _ = self._laid_out
        tolerance = self.QUICK_SIZE_TOLERANCE
        return (
            laid_structure == structure
            and abs(self.width() - width) <= tolerance * width
            and abs(self.height() - height) <= tolerance * height
        )

    def _scene(self) -> object:
        """What a background shows: the canvas's size and each Axes' place and
        limits (an Axes' view limits are brought up to date here)."""
        return (
            self.width(),
            self.height(),
            self.device_pixel_ratio,
            tuple(
                (
                    # (a layout computed anew may differ in the last bits)
                    tuple(round(bound, 9) for bound in ax.get_position().bounds),
                    ax.get_xlim(),
                    ax.get_ylim(),
                    ax.get_visible(),
                )
                for ax in self.figure.axes
            ),
        )

    def _animated(self) -> list[Any]:
        fig = self.figure
        found = [a for ax in fig.axes for a in ax.get_children() if a.get_animated()]
        return sorted(found, key=lambda artist: artist.get_zorder())

    def _on_top(self) -> list[Any]:
        """Opaque legends of Axes with animated artists: drawn with the rest,
        and laid back over the animated artists as they were drawn."""
        return [
            legend
            for ax in self.figure.axes
            if (legend := ax.get_legend()) is not None
            and not legend.get_animated()
            and legend.get_frame_on()
            and legend.get_frame().get_alpha() == 1.0
            and any(a.get_animated() for a in ax.get_children())
        ]

    def _draw_animated(self, animated: list[Any]) -> None:
        """Draw ``animated`` in order (their texts through the text cache)."""
        renderer = self.get_renderer()
        for artist in animated:
            if artist.get_visible() and artist.axes.get_visible():
                artist.draw(renderer)

    def get_renderer(self) -> Any:
        renderer = super().get_renderer()
        if renderer is not self._text_renderer:  # new: the canvas was resized
            self.texts.clear()
            self.texts.install(renderer)
            self._text_renderer = renderer
        return renderer

    def draw(self) -> None:
        if self.before_draw is not None:
            self.before_draw()
        blit = self.blit_next
        self.blit_next = False  # for the one draw asked for
        if (
            blit
            and self._background is not None
            and self._background_scene == self._scene()
        ):
            self.restore_region(self._background)
            self._draw_animated(self._animated())
            for region in self._top_regions:
                self.restore_region(region)
            self.blit(self.figure.bbox)
            self.quick_layout = False
            return
        self._draw_in_full()
        animated = self._animated()
        self._background, self._top_regions = None, []
        if animated:
            self._background = self.copy_from_bbox(self.figure.bbox)
            self._background_scene = self._scene()
            renderer = self.get_renderer()
            self._top_regions = [
                self.copy_from_bbox(legend.get_window_extent(renderer))
                for legend in self._on_top()
            ]
            self._draw_animated(animated)
            for region in self._top_regions:
                self.restore_region(region)

    def _draw_in_full(self) -> None:
        fig = self.figure
        structure = self._structure()
        quick = self._can_reuse_layout(structure)
        self.quick_layout = False  # for the preview's draw only
        if not quick:
            super().draw()
            positions = [ax.get_position() for ax in fig.axes]
            self._laid_out = ((self.width(), self.height()), structure, positions)
            return
        assert self._laid_out is not None
        fig.set_layout_engine("none")
        for ax, position in zip(fig.axes, self._laid_out[2], strict=True):
            ax.set_position(position)
        super().draw()
        # Later draws and exports lay the figure out in full again.
        for ax in fig.axes:
            ax.set_in_layout(True)
        fig.set_layout_engine("constrained")

    def sizeHint(self) -> Any:
        # Fit the space given rather than ask for the figure's nominal inches.
        return self.minimumSize()

    def contextMenuEvent(self, event: Any) -> None:
        from gui.story import chart_menu

        chart_menu(self, event)


class ResultView(QWidget):
    """Base of a view: keeps the comparison, draws when visible."""

    title = ""
    #: Whether the view draws (a placeholder) before any comparison exists.
    draws_without_comparison = False
    drawn = Signal()  # after each draw: overlays (targets) add their artists

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: Any = None
        self.stale = False
        self.draw_count = 0

    def set_comparison(self, comparison: Any) -> None:
        self.comparison = comparison
        self.stale = True
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        if self.comparison is None and not self.draws_without_comparison:
            return
        self.stale = False
        self.draw()
        self.draw_count += 1
        self.drawn.emit()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.stale:
            self.refresh()

    def draw(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


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
    lines.append(
        f"Better in <b>{charts.fmt_share(p)}</b> of runs "
        f"<span style='color:#555'>(± {two_digits(se * 100)} points s.e.)</span>"
    )
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
        self._kept_limits: list[tuple[float, float]] | None = None
        self.canvas.before_draw = self._settle_scale

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

    def set_comparison(self, comparison: Any) -> None:
        super().set_comparison(comparison)
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
        if [self.cards_row.itemAt(i).widget() for i in range(wanted)] != order:
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
        # Moving the artists costs a fraction of building the figure anew, and
        # a preview, like the full run after it, usually has the same scenarios.
        preview = self.canvas.quick_layout
        if self._can_update():
            self._update(keep_scale=preview)
            # Only the data moved: redraw it over the last draw's background
            # (when every chart kept its place and scale, see ChartCanvas).
            self.canvas.blit_next = preview
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
            # (the charts' title is on the left; matplotlib keeps that Text
            # as _left_title and offers no public way to it)
            title = ax._left_title
            for artist in (*ax.collections, *ax.lines, title):
                artist.set_animated(True)
        self._built_layout = self._layout()
        self._built_artists = self._artists()

    def _update(self, *, keep_scale: bool = False) -> None:
        """Move the built figure's artists to the comparison. What was added
        since (the target, on ``drawn``) is removed first, as a build would clear
        it: its owner adds it again on ``drawn``, and until then it would count
        in the limits.

        With ``keep_scale`` (previews following one another) each chart is to
        keep its y limits if its content, target included, still fits them
        (decided when drawn, see :meth:`_settle_scale`)."""
        for artist in self._artists() - self._built_artists:
            artist.remove()
        axes = self.canvas.figure.axes
        self._kept_limits = [ax.get_ylim() for ax in axes] if keep_scale else None
        top, bottom = axes
        charts.update_fans(top, self.comparison.results, self.series)
        if self.comparison.alternatives:
            charts.update_paired(bottom, self.comparison, self.series)

    def _settle_scale(self) -> None:
        """Before the draw after a preview's update: each chart whose content
        (data and target) lies within its former y limits and fills most of
        them keeps those limits, so that only the data need be redrawn."""
        kept, self._kept_limits = self._kept_limits, None
        if kept is None:
            return
        for ax, limits in zip(self.canvas.figure.axes, kept, strict=True):
            ax.get_ylim()  # (settles any pending autoscaling first)
            if _fits(tuple(ax.dataLim.intervaly), limits):
                ax.set_ylim(limits, auto=None)  # (autoscaling stays on)


#: A preview keeps a chart's y limits while its content lies within them and
#: spans at least this share of them.
KEEP_SCALE_SHARE = 0.75


def _fits(content: tuple[float, ...], limits: tuple[float, float]) -> bool:
    low, high = limits
    return (
        low <= content[0]
        and content[1] <= high
        and content[1] - content[0] >= KEEP_SCALE_SHARE * (high - low)
    )


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

    def set_comparison(self, comparison: Any) -> None:
        names = ordered_figures(comparison.baseline)
        current = self.figure_box.currentData() or "arr_growth_y1"
        self.figure_box.blockSignals(True)
        self.figure_box.clear()
        for name in names:
            self.figure_box.addItem(charts.FIGURE_LABELS.get(name, name), name)
        self.figure_box.setCurrentIndex(
            max(0, names.index(current) if current in names else 0)
        )
        self.figure_box.blockSignals(False)
        super().set_comparison(comparison)

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
        QShortcut(QKeySequence.StandardKey.Copy, self.table, activated=self.copy)

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
                charts.FIGURE_LABELS.get(figure, figure) + f" [{figure}]",
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


class ResultsPanel(QWidget):
    """The results views in tabs, with a line saying what is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.info = QLabel("No results yet.")
        self.info.setObjectName("results_info")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.info)
        # Where the results will appear, what is being computed: the engine's
        # first compilation (20-25 s on a new install) and long runs.
        # It takes the place of the lines about the runs while a run is on
        # (gui.story puts both in one cell), and each keeps its room when
        # hidden: the charts never move or resize for it (a resize would lay
        # every chart out anew, in the middle of a run).
        self.busy = QFrame()
        self.busy.setObjectName("results_busy")
        self.busy.setStyleSheet(
            "QFrame#results_busy { background: #DDEEF8; border-radius: 4px; }"
        )
        busy_column = QVBoxLayout(self.busy)
        busy_column.setContentsMargins(8, 2, 8, 2)
        busy_column.setSpacing(2)
        self.busy_label = QLabel()
        self.busy_label.setObjectName("results_busy_label")
        self.busy_label.setWordWrap(True)
        self.busy_label.setStyleSheet("color: #00476e;")
        busy_column.addWidget(self.busy_label)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 1000)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setMaximumWidth(360)
        self.busy_bar.setTextVisible(False)
        busy_column.addWidget(self.busy_bar)
        for widget in (self.busy, self.info):
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        self.busy.hide()
        self.tabs = QTabWidget()
        self.tabs.setUsesScrollButtons(True)
        self.overview = OverviewView()
        self.distribution = DistributionView()
        self.funnel = FunnelView()
        self.dynamics = DynamicsView()
        self.table = TableView()
        self.views: list[ResultView] = [
            self.overview,
            self.distribution,
            self.funnel,
            self.dynamics,
            self.table,
        ]
        for view in self.views:
            if view is not self.funnel:
                self.tabs.addTab(view, view.title)
            else:  # one funnel per scenario: may need more height than there is
                scroll = QScrollArea()
                scroll.setWidgetResizable(True)
                scroll.setFrameShape(QScrollArea.Shape.NoFrame)
                scroll.setWidget(view)
                self.tabs.addTab(scroll, view.title)
        layout.addWidget(self.tabs, 1)
        # In the tabs' place until the first results arrive.
        self.waiting = QLabel()
        self.waiting.setObjectName("results_waiting")
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.waiting.setWordWrap(True)
        self.waiting.setStyleSheet("font-size: 16pt; color: #444")
        self.waiting.hide()
        layout.addWidget(self.waiting, 1)
        self.comparison: Any = None
        self.final = False
        self._command = ""
        from gui.story import install_story

        install_story(self)  # bridge, drivers, targets, exports, workshop

    def show_progress(self, label: str | None, fraction: float) -> None:
        """Say what is being computed (``label``, kept when ``None``) and how
        far it is, above the results it will replace."""
        if label is not None:
            if label.startswith("Preparing"):
                label += (
                    ": compiling the simulation engine, 20-25 s on a new "
                    "install; the results appear below"
                )
            self.busy_label.setText(label + "…")
        self.busy_bar.setValue(round(fraction * 1000))
        self._show_busy(True)

    def hide_progress(self) -> None:
        self._show_busy(False)

    def _show_busy(self, busy: bool) -> None:
        """The run's progress in place of the lines about the runs, or back."""
        self.info.setVisible(not busy)
        self.busy.setVisible(busy)

    def run_cancelled(self, what: str = "was cancelled") -> None:
        """A preview stays shown after Cancel (or a failure): say the full run
        will not follow."""
        self._show_busy(False)
        if self.comparison is not None and not self.final:
            self._set_info(
                f"Preview only: the full run {what} (Run or F5 starts it again). "
            )

    def show_waiting(self, label: str) -> None:
        """Say what is being computed where the results will appear, until the
        first results arrive (the engine's first compile takes 15-25 s)."""
        if self.comparison is None:
            self.waiting.setText(f"{label}…\n\nThe results will appear here.")
            self.tabs.hide()
            self.waiting.show()

    def show_comparison(
        self, comparison: Any, final: bool, *, command: str = ""
    ) -> None:
        self.comparison = comparison
        self.final = final
        if self.waiting.isVisible():
            self.waiting.hide()
            self.tabs.show()
        self._command = command
        self._set_info("" if final else "Preview — the full run follows. ")
        canvases = self.findChildren(ChartCanvas)
        for canvas in canvases:
            canvas.quick_layout = not final
        for view in self.views:
            view.set_comparison(comparison)
        for canvas in canvases:
            if not canvas.isVisible():  # draws later, when shown: in full
                canvas.quick_layout = False

    def _set_info(self, kind: str) -> None:
        comparison, command = self.comparison, self._command
        s = comparison.baseline.settings
        self.info.setText(
            f"{kind}{s.runs:,} runs · {s.horizon_weeks} weeks after a "
            f"{s.warmup_weeks}-week warm-up · seed {s.seed}"
            f"<br>{html.escape(start_line(comparison))}."
            f"<br>{uncertainty_note(comparison)}"
            + (
                f"<br><span style='color:#555; font-size:9pt'>Same numbers from "
                f"the command line: <code>{html.escape(command)}</code></span>"
                if command
                else ""
            )
        )

    def refresh_all(self) -> None:
        """Draw every view now, visible or not (screenshots, tests)."""
        for view in self.views:
            if view.comparison is not None:
                view.refresh()
