"""A chart on screen (:class:`ChartCanvas`, with its one redraw path) and the
base of every results view (:class:`ResultView`)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QSizePolicy, QWidget

#: The least height of a chart, in pixels.
MIN_CANVAS_HEIGHT = 240


class ChartCanvas(FigureCanvasQTAgg):
    """A matplotlib canvas on a :class:`Figure` (never pyplot), laid out by
    constrained layout.

    One redraw path, after matplotlib's blitting tutorial. A view whose layout
    changed (a new figure, other scenarios, another series) calls
    :meth:`draw_idle`: a full draw. Artists marked animated (the data: bands,
    medians, the titles with the run count, a target's marks) are left out of
    it; the rest is kept as the background, and the animated artists are drawn
    over it. A view that only moved its animated artists (a preview) calls
    :meth:`redraw_data`: if every Axes kept its place and each chart's data
    still fit its scale, the background is laid back and the animated artists
    drawn over it (a few milliseconds); otherwise the canvas is drawn in full.
    Saved figures draw animated artists like any other.
    """

    #: The data fit a chart's scale when they lie within its y limits and span
    #: at least this share of them (else the chart is rescaled: drawn in full).
    KEEP_SCALE_SHARE = 0.75

    def __init__(self, *, height: float = 4.0, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(8, height), layout="constrained", dpi=100)
        super().__init__(self.figure)
        self.setParent(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Small enough for a 1280x720 screen; the layout gives more when free.
        self.setMinimumHeight(min(int(height * 55), MIN_CANVAS_HEIGHT))
        self.painted_at = 0.0
        # The last full draw's background and what it shows (see _scene).
        self._background: Any = None
        self._background_scene: tuple[Any, ...] | None = None
        self._data_pending = False
        self.mpl_connect("draw_event", self._on_draw)

    def _scene(self) -> tuple[Any, ...]:
        """What a background shows: the canvas's size and each Axes' place and
        limits (an Axes' pending autoscaling is done here)."""
        return (
            self.width(),
            self.height(),
            self.device_pixel_ratio,
            tuple(
                (id(ax), ax.get_position().bounds, ax.get_xlim(), ax.get_ylim())
                for ax in self.figure.axes
            ),
        )

    def _animated(self) -> list[Any]:
        """The animated artists to draw, in the order a full draw would."""
        fig = self.figure
        shown = [ax for ax in fig.axes if ax.get_visible()]
        found = [*(child for ax in shown for child in ax.get_children()), *fig.texts]
        return sorted(
            (a for a in found if a.get_animated() and a.get_visible()),
            key=lambda artist: artist.get_zorder(),
        )

    def _on_draw(self, event: Any) -> None:
        """After a full draw (which leaves the animated artists out): keep the
        background, then draw the animated artists over it."""
        if event.canvas is not self or self.is_saving():
            return  # (a figure saved to a file draws everything itself)
        self._background = self.copy_from_bbox(self.figure.bbox)
        self._background_scene = self._scene()
        renderer = self.get_renderer()
        for artist in self._animated():
            artist.draw(renderer)

    def draw(self) -> None:
        with warnings.catch_warnings():
            # A chart squeezed by a small window is drawn unlaid-out, which is
            # what the user asked for by the window's size.
            warnings.filterwarnings(
                "ignore", "constrained_layout not applied", UserWarning
            )
            super().draw()

    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        """Draw in full when the event loop is next idle (the layout changed)."""
        self._background = None
        super().draw_idle(*args, **kwargs)

    def redraw_data(self) -> None:
        """Redraw the animated artists when the event loop is next idle: over
        the last background when it still applies, else in full."""
        if not self._data_pending:
            self._data_pending = True
            QTimer.singleShot(0, self._redraw_data_now)

    def _redraw_data_now(self) -> None:
        self._data_pending = False
        if self._background is None or self._background_scene is None:
            return  # a full draw is on its way
        _, _, _, axes_before = self._background_scene
        before = {key: ylim for key, _bounds, _xlim, ylim in axes_before}
        for ax in self.figure.axes:
            kept = before.get(id(ax))
            if kept is not None and self._fits(ax, kept):
                ax.set_ylim(kept, auto=None)  # (autoscaling stays on)
        if self._scene() != self._background_scene:
            super().draw_idle()
            return
        self.restore_region(self._background)
        renderer = self.get_renderer()
        for artist in self._animated():
            artist.draw(renderer)
        self.blit(self.figure.bbox)

    def _fits(self, ax: Any, limits: tuple[float, float]) -> bool:
        ax.get_ylim()  # (brings the data limits up to date first)
        content = ax.dataLim.intervaly
        low, high = limits
        return bool(
            low <= content[0]
            and content[1] <= high
            and content[1] - content[0] >= self.KEEP_SCALE_SHARE * (high - low)
        )

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        #: When the canvas was last painted (for measuring, see gui.bench).
        self.painted_at = time.perf_counter()

    def sizeHint(self) -> Any:
        # Fit the space given rather than ask for the figure's nominal inches.
        return self.minimumSize()

    def contextMenuEvent(self, event: Any) -> None:
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
        #: Whether the comparison is a preview (its full run follows).
        self.preview = False
        self.stale = False
        self.draw_count = 0

    def set_comparison(self, comparison: Any, *, preview: bool = False) -> None:
        self.comparison = comparison
        self.preview = preview
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


def chart_menu(canvas: Any, event: Any, *, name: str = "chart") -> None:
    """Context menu of a chart: save it as PNG or SVG."""
    menu = QMenu(canvas)
    for kind in ("PNG", "SVG"):
        menu.addAction(f"Save chart as {kind}…").triggered.connect(
            lambda _=False, k=kind: save_chart_dialog(canvas, k.lower(), name=name)
        )
    menu.exec(event.globalPos())


def save_chart_dialog(canvas: Any, kind: str, *, name: str = "chart") -> Path | None:
    path, _ = QFileDialog.getSaveFileName(
        canvas,
        f"Save chart as {kind.upper()}",
        f"{name}.{kind}",
        f"{kind.upper()} (*.{kind})",
    )
    if not path:
        return None
    if not path.lower().endswith(f".{kind}"):
        path += f".{kind}"
    from simulator.report.export import save_figure

    return save_figure(canvas.figure, path)
