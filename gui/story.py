"""The story views: value bridge, drivers (tornado), targets and chart exports.

Bridges and tornados simulate many variants, so they run off the GUI thread in a
:class:`TaskRunner` (one task at a time: a new request cancels the one in flight;
progress and results arrive by signal on the GUI thread) and only when asked
(the Compute button), never on every edit. Drawing is done by the pure functions
of :mod:`simulator.report.charts`.
"""

from __future__ import annotations

import contextlib
import html
import math
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.results import ChartCanvas, ResultView
from simulator.analysis.bridge import INTERACTIVE_BOOTSTRAP, INTERACTIVE_RUNS
from simulator.analysis.targets import (
    LOWER_IS_BETTER,
    default_target,
    figure_probability,
    figure_reach_weeks,
    weekly_for_figure,
)
from simulator.model.errors import ScenarioError, SimulationCancelled
from simulator.report import charts

#: Figures a bridge or tornado can explain, for people.
STORY_FIGURES = ("arr_growth_y1", "arr_end", "total_revenue", "total_won", "cac")
STORY_RUNS = INTERACTIVE_RUNS

Task = Callable[[Callable[[float], None], Callable[[], bool]], Any]


# --------------------------------------------------------------------------- worker


class TaskSignals(QObject):
    progress = Signal(int, float)
    returned = Signal(int, object)
    errored = Signal(int, str)
    cancelled = Signal(int)
    finished = Signal(int)


class TaskWorker(QRunnable):
    """Run ``task(progress, should_stop)`` on a pool thread; signals carry the
    job id so a superseded task's reports are dropped."""

    def __init__(self, job: int, task: Task) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.job = job
        self.task = task
        self.signals = TaskSignals()
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    def run(self) -> None:
        job, sig = self.job, self.signals
        try:
            result = self.task(
                lambda f: sig.progress.emit(job, float(f)), self._stop.is_set
            )
            if self._stop.is_set():
                raise SimulationCancelled("cancelled")
            sig.returned.emit(job, result)
        except SimulationCancelled:
            sig.cancelled.emit(job)
        except ScenarioError as exc:
            sig.errored.emit(job, str(exc))
        except Exception as exc:  # a worker must never take the app down
            sig.errored.emit(job, f"{type(exc).__name__}: {exc}")
        finally:
            sig.finished.emit(job)


class TaskRunner(QObject):
    """One background task at a time; widgets only see the newest task's news."""

    progressChanged = Signal(float)
    resultReady = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._job = 0
        self._current: TaskWorker | None = None
        self._workers: dict[int, TaskWorker] = {}

    @property
    def busy(self) -> bool:
        return self._current is not None

    def start(self, task: Task) -> None:
        if self._current is not None:
            self._current.cancel()
        was_busy = self.busy
        self._job += 1
        worker = TaskWorker(self._job, task)
        sig = worker.signals
        sig.progress.connect(self._on_progress)
        sig.returned.connect(self._on_returned)
        sig.errored.connect(self._on_errored)
        sig.cancelled.connect(self._on_cancelled)
        sig.finished.connect(self._on_finished)
        self._workers[self._job] = worker
        self._current = worker
        if not was_busy:
            self.busyChanged.emit(True)
        self._pool.start(worker)

    def cancel(self) -> None:
        if self._current is not None:
            self._current.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.cancel()
        self._pool.waitForDone(timeout_ms)

    def _mine(self, job: int) -> bool:
        return self._current is not None and self._current.job == job

    def _on_progress(self, job: int, fraction: float) -> None:
        if self._mine(job):
            self.progressChanged.emit(fraction)

    def _on_returned(self, job: int, result: object) -> None:
        if self._mine(job):
            self.resultReady.emit(result)

    def _on_errored(self, job: int, message: str) -> None:
        if self._mine(job):
            self.failed.emit(message)

    def _on_cancelled(self, job: int) -> None:
        if self._mine(job):
            self.cancelled.emit()

    def _on_finished(self, job: int) -> None:
        self._workers.pop(job, None)
        if self._mine(job):
            self._current = None
            self.busyChanged.emit(False)


# --------------------------------------------------------------------------- views


class ComputeBar(QWidget):
    """Compute and Cancel buttons, runs, progress and a status line."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        column.addLayout(row)
        row.addWidget(QLabel("Runs per variant:"))
        self.runs = QSpinBox()
        self.runs.setRange(20, 100_000)
        self.runs.setSingleStep(100)
        self.runs.setValue(STORY_RUNS)
        self.runs.setGroupSeparatorShown(True)
        row.addWidget(self.runs)
        # The Overview's runs give the Overview's numbers exactly (the same
        # seed, warm-up and common random numbers); fewer are quicker.
        self.match_button = QPushButton("As the Overview")
        self.match_button.setToolTip(
            "Run as many runs per variant as the Overview: its end values are "
            "then the Overview's to the last digit"
        )
        self.match_button.clicked.connect(
            lambda: self.runs.setValue(self.overview_runs or self.runs.value())
        )
        self.overview_runs = 0
        row.addWidget(self.match_button)
        self.compute_button = QPushButton("Compute")
        row.addWidget(self.compute_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(runner.cancel)
        row.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        row.addWidget(self.progress)
        row.addStretch(1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555555;")
        column.addWidget(self.status)
        runner.progressChanged.connect(
            lambda f: self.progress.setValue(round(f * 1000))
        )
        runner.busyChanged.connect(self._on_busy)
        runner.failed.connect(lambda m: self.status.setText(f"Failed: {m}"))
        runner.cancelled.connect(lambda: self.status.setText("Cancelled."))

    def set_overview_runs(self, runs: int) -> None:
        self.overview_runs = int(runs)
        self.match_button.setText(f"As the Overview ({runs:,})")

    def _on_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        if busy:
            self.progress.setValue(0)
            self.status.setText("Computing in the background…")


def _comparison_value(result: Any, figure: str) -> tuple[float, int] | None:
    """A result's median of ``figure`` as the Overview shows it, and its runs."""
    summary = result.summary.get(figure)
    if summary is None:
        return None
    return float(summary["p50"]), int(result.settings.runs)


def _figure_box(default: str = "arr_growth_y1") -> QComboBox:
    box = QComboBox()
    for name in STORY_FIGURES:
        box.addItem(charts.FIGURE_LABELS.get(name, name), name)
    box.setCurrentIndex(STORY_FIGURES.index(default))
    return box


class BridgeView(ResultView):
    """The value bridge from the baseline to the first alternative: a waterfall
    lever by lever and each lever's Shapley value, computed on request."""

    title = "Bridge"
    draws_without_comparison = True  # a "press Compute" placeholder
    computed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.bridge: Any = None
        self._scenarios: tuple[Any, Any] = (None, None)
        self._reference: tuple[float, float, int] | None = None
        layout = QVBoxLayout(self)
        note = QLabel(
            "Where the difference comes from, lever by lever (hover for more)."
        )
        note.setToolTip(
            "The baseline's median, then each lever of the alternative added in "
            "turn (waterfall), and each lever's fair share averaged over every "
            "order (Shapley value). Simulates every combination of levers with "
            "common random numbers."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Figure:"))
        self.figure_box = _figure_box()
        controls.addWidget(self.figure_box)
        self.waterfall_button = QRadioButton("Waterfall")
        self.shapley_button = QRadioButton("Fair share (Shapley)")
        self.waterfall_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.waterfall_button)
        group.addButton(self.shapley_button)
        self.waterfall_button.toggled.connect(lambda _on: self.refresh())
        controls.addWidget(self.waterfall_button)
        controls.addWidget(self.shapley_button)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.bar = ComputeBar(self.runner)
        layout.addWidget(self.bar)
        self.canvas = ChartCanvas(height=7.5)
        layout.addWidget(self.canvas, 1)
        self.bar.compute_button.clicked.connect(self.compute)
        self.runner.resultReady.connect(self._on_bridge)

    def set_comparison(self, comparison: Any) -> None:
        old = self.comparison
        self.bar.set_overview_runs(comparison.baseline.settings.runs)
        super().set_comparison(comparison)
        if self.bridge is not None and old is not comparison:
            names = (self.bridge.baseline_name, self.bridge.alternative_name)
            if (
                len(comparison.results) < 2
                or names
                != (
                    comparison.results[0].name,
                    comparison.results[1].name,
                )
                or comparison.results[1].scenario != self._scenarios[1]
            ):
                self.bar.status.setText(
                    "The scenarios changed: Compute to bring the bridge up to date."
                )

    def compute(self) -> None:
        comparison = self.comparison
        if comparison is None or not comparison.alternatives:
            self.bar.status.setText("A bridge needs a baseline and an alternative.")
            return
        figure = self.figure_box.currentData()
        settings = replace(comparison.baseline.settings, runs=self.bar.runs.value())
        if figure == "arr_growth_y1" and settings.horizon_weeks < 52:
            figure = "arr_end"
        base, alt = comparison.baseline.scenario, comparison.alternatives[0].scenario
        self._scenarios = (base, alt)
        ends = [_comparison_value(r, figure) for r in comparison.results[:2]]
        self._reference = (
            (ends[0][0], ends[1][0], ends[0][1]) if ends[0] and ends[1] else None
        )

        def task(progress: Callable[[float], None], stop: Callable[[], bool]) -> Any:
            from simulator.analysis.bridge import value_bridge

            return value_bridge(
                base,
                alt,
                figure=figure,
                settings=settings,
                bootstrap=INTERACTIVE_BOOTSTRAP,
                progress=progress,
                should_stop=stop,
            )

        self.runner.start(task)

    def _on_bridge(self, bridge: Any) -> None:
        self.bridge = bridge
        self.bar.status.setText(
            f"{bridge.scenarios_simulated} scenarios x {bridge.settings.runs:,} runs "
            f"in {bridge.seconds:.1f} s; Shapley values "
            + ("exact." if bridge.method == "exact" else "from sampled orders.")
        )
        self.stale = True
        self.refresh()
        self.computed.emit()

    def draw(self) -> None:
        fig = self.canvas.figure
        fig.clear()
        if self.bridge is None:
            ax = fig.add_subplot()
            ax.axis("off")
            ax.text(
                0.5,
                0.5,
                "Press Compute to build the bridge\n(it simulates every combination "
                "of levers: seconds to a minute)",
                ha="center",
                va="center",
                fontsize=charts.FONT["label"],
                color="#555555",
            )
        elif self.waterfall_button.isChecked():
            charts.plot_bridge(
                fig.add_subplot(), self.bridge, reference=self._reference
            )
        else:
            charts.plot_shapley(fig.add_subplot(), self.bridge)
        self.canvas.draw_idle()


class DriversView(ResultView):
    """A tornado chart: which levers or parameters move a figure most."""

    title = "Drivers"
    draws_without_comparison = True  # a "press Compute" placeholder
    computed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.drivers: Any = None
        self._reference: tuple[float, int] | None = None
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Scenario:"))
        self.scenario_box = QComboBox()
        controls.addWidget(self.scenario_box)
        self.kind_box = QComboBox()
        self.kind_box.addItem("Levers off and on", "levers")
        self.kind_box.addItem("Parameters ±20 %", "parameters")
        controls.addWidget(self.kind_box)
        controls.addWidget(QLabel("Figure:"))
        self.figure_box = _figure_box()
        controls.addWidget(self.figure_box)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.bar = ComputeBar(self.runner)
        layout.addWidget(self.bar)
        self.canvas = ChartCanvas(height=7)
        layout.addWidget(self.canvas, 1)
        self.bar.compute_button.clicked.connect(self.compute)
        self.runner.resultReady.connect(self._on_drivers)

    def set_comparison(self, comparison: Any) -> None:
        self.bar.set_overview_runs(comparison.baseline.settings.runs)
        current = self.scenario_box.currentIndex()
        self.scenario_box.blockSignals(True)
        self.scenario_box.clear()
        for result in comparison.results:
            self.scenario_box.addItem(result.name)
        default = 1 if len(comparison.results) > 1 else 0
        self.scenario_box.setCurrentIndex(current if current >= 0 else default)
        self.scenario_box.blockSignals(False)
        super().set_comparison(comparison)

    def compute(self) -> None:
        comparison = self.comparison
        if comparison is None:
            return
        index = max(0, self.scenario_box.currentIndex())
        scenario = comparison.results[index].scenario
        figure = self.figure_box.currentData()
        kind = self.kind_box.currentData()
        settings = replace(comparison.baseline.settings, runs=self.bar.runs.value())
        if figure == "arr_growth_y1" and settings.horizon_weeks < 52:
            figure = "arr_end"
        parent = comparison.baseline.scenario if index > 0 else None
        # The comparison's value of this figure, for the chart to say when the
        # tornado's fewer runs give another.
        self._reference = _comparison_value(comparison.results[index], figure)

        def task(progress: Callable[[float], None], stop: Callable[[], bool]) -> Any:
            from simulator.analysis import drivers as d

            skipped: list[Any] = []
            if kind == "levers":
                # An alternative is the baseline with its levers: taking one
                # out goes back to the baseline's values, not its file's extends.
                if parent is not None:
                    found = d.lever_drivers(scenario, parent=parent)
                else:
                    found = d.lever_drivers(scenario)
            else:
                found, skipped = d.parameter_drivers(scenario)
            return d.tornado(
                scenario,
                found,
                # An alternative starts from the baseline's funnel, as in the
                # comparison: its value here is the Overview's.
                warm_up=parent,
                figure=figure,
                settings=settings,
                bootstrap=INTERACTIVE_BOOTSTRAP,
                skipped=skipped,
                progress=progress,
                should_stop=stop,
            )

        self.runner.start(task)

    def _on_drivers(self, drivers: Any) -> None:
        self.drivers = drivers
        self.bar.status.setText(
            f"{drivers.scenarios_simulated} variants x {drivers.settings.runs:,} runs "
            f"in {drivers.seconds:.1f} s."
        )
        self.stale = True
        self.refresh()
        self.computed.emit()

    def draw(self) -> None:
        fig = self.canvas.figure
        fig.clear()
        ax = fig.add_subplot()
        if self.drivers is None:
            ax.axis("off")
            ax.text(
                0.5,
                0.5,
                "Press Compute to rank the drivers",
                ha="center",
                va="center",
                fontsize=charts.FONT["label"],
                color="#555555",
            )
        else:
            reference = self._reference
            charts.plot_tornado(
                ax,
                self.drivers,
                reference=None if reference is None else (reference[0], reference[1]),
            )
        self.canvas.draw_idle()


# --------------------------------------------------------------------------- targets


class TargetController(QObject):
    """A target on the distribution chart (drag it, or type it) and the weeks it
    is reached on the ARR fan chart of the overview.

    Added to existing views without replacing them: it puts its controls in the
    distribution view's control row and redraws its few artists after each draw
    of the views (their ``drawn`` signal), so dragging costs no full redraw.
    """

    targetChanged = Signal(str, float)  # figure, value

    def __init__(self, distribution: Any, overview: Any) -> None:
        super().__init__(distribution)
        self.distribution = distribution
        self.overview = overview
        self.targets: dict[str, float] = {}
        self._artists: list[Any] = []
        self._fan_artists: list[Any] = []
        self._dragging = False
        #: Figures whose target the user set (typed or dragged); any other
        #: target shown is a suggestion, and says so where it is drawn.
        self.user_set: set[str] = set()
        # No target is drawn (or exported) until the user asks for one.
        self.enabled = QCheckBox("Target:")
        self.enabled.setChecked(False)
        self.enabled.setToolTip(
            "Tick to draw a target (first suggested halfway between the "
            "medians); type it, or click or drag on the chart to move it. The "
            "caption gives the chance of reaching it in each scenario."
        )
        self.spin = QDoubleSpinBox()
        self.spin.setObjectName("target_value")
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(130)
        self.info = QLabel("")
        self.info.setObjectName("target_info")
        self.info.setWordWrap(True)
        row = distribution.controls
        row.insertWidget(row.count() - 1, self.enabled)
        row.insertWidget(row.count() - 1, self.spin)
        distribution.layout().addWidget(self.info)
        self.enabled.toggled.connect(self._on_enabled_changed)
        self.spin.valueChanged.connect(self._on_spin_changed)
        distribution.drawn.connect(self._decorate_distribution)
        overview.drawn.connect(self._decorate_fan)
        canvas = distribution.canvas
        canvas.mpl_connect("button_press_event", self._on_press)
        canvas.mpl_connect("motion_notify_event", self._on_motion)
        canvas.mpl_connect("button_release_event", self._on_release)

    # model
    @property
    def figure(self) -> str:
        return str(self.distribution.figure_box.currentData() or "arr_growth_y1")

    @property
    def results(self) -> list[Any]:
        comparison = self.distribution.comparison or self.overview.comparison
        return list(comparison.results) if comparison is not None else []

    def value(self, figure: str | None = None) -> float | None:
        figure = figure or self.figure
        if figure not in self.targets and self.results:
            self.targets[figure] = default_target(self.results, figure)
        return self.targets.get(figure)

    def set_value(self, value: float, figure: str | None = None) -> None:
        """Set the target of a figure (the chosen one by default): the user's
        own from then on, drawn on the charts."""
        figure = figure or self.figure
        self.targets[figure] = float(value)
        self.user_set.add(figure)
        if not self.enabled.isChecked():
            self.enabled.blockSignals(True)
            self.enabled.setChecked(True)
            self.enabled.blockSignals(False)
        self._sync_spin()
        self._decorate_distribution()
        self.distribution.canvas.draw_idle()
        if figure in ("arr_growth_y1", "arr_end") and self.overview.comparison:
            self.overview.stale = True
            if self.overview.isVisible():
                self.overview.refresh()
        self.targetChanged.emit(figure, float(value))

    def probabilities(self) -> list[Any]:
        value = self.value()
        return [figure_probability(r, self.figure, value) for r in self.results]

    def reach(self) -> list[dict[float, int | None] | None]:
        value = self.value()
        return [figure_reach_weeks(r, self.figure, value) for r in self.results]

    # the spin box shows percent for shares, whole dollars and counts otherwise
    def _scale(self) -> float:
        return 100.0 if self.figure in charts.SHARE_FIGURES else 1.0

    def _sync_spin(self) -> None:
        value = self.value()
        if value is None:
            return
        scale = self.figure in charts.SHARE_FIGURES
        self.spin.blockSignals(True)
        self.spin.setDecimals(1 if scale else 0)
        self.spin.setRange(-1e12, 1e12)
        self.spin.setSingleStep(
            1 if scale else max(1.0, 10 ** math.floor(math.log10(abs(value) or 1) - 1))
        )
        self.spin.setSuffix(" %" if scale else "")
        self.spin.setPrefix("$" if self.figure in charts.MONEY_FIGURES else "")
        self.spin.setValue(value * self._scale())
        self.spin.blockSignals(False)

    def _on_spin_changed(self, shown: float) -> None:
        self.set_value(shown / self._scale())

    def _on_enabled_changed(self, _on: bool) -> None:
        self.distribution.refresh()
        if self.overview.comparison is not None:
            self.overview.refresh()

    # drawing
    def _remove(self, artists: list[Any]) -> None:
        for artist in artists:
            # Already gone when the view cleared its figure.
            with contextlib.suppress(ValueError, NotImplementedError):
                artist.remove()
        artists.clear()

    def _decorate_distribution(self) -> None:
        self._remove(self._artists)
        self.info.setText("")
        fig = self.distribution.canvas.figure
        if not self.enabled.isChecked() or not fig.axes or not self.results:
            return
        self._sync_spin()
        ax = fig.axes[0]
        value = self.value()
        self._artists = charts.add_target_to_distribution(
            ax,
            self.results,
            self.figure,
            value,
            self.probabilities(),
            note=self.suggestion_note(self.figure),
        )
        self.info.setText(self.reach_text())

    def suggestion_note(self, figure: str) -> str:
        """Says a target is the app's suggestion, not the user's, where drawn."""
        if figure in self.user_set:
            return ""
        return (
            "suggested: halfway between the baseline's median and the best "
            "alternative's; type your own or drag the line"
        )

    def reach_text(self) -> str:
        if not all(r.has_trajectories for r in self.results):
            return (
                "Reach weeks need every run's weekly trajectory; runs too many to "
                "keep in memory keep weekly summaries only."
            )
        reaches = self.reach()
        if all(r is None for r in reaches):
            return "No weekly trajectory for this figure: no reach weeks."
        word = "at or below" if self.figure in LOWER_IS_BETTER else "at or above"
        parts = []
        for result, reach in zip(self.results, reaches, strict=True):
            if reach is None:
                continue
            weeks = [
                f"{share:.0%} of runs by week {week}"
                if week is not None
                else f"{share:.0%} of runs: not within "
                f"{result.settings.horizon_weeks} weeks"
                for share, week in reach.items()
            ]
            parts.append(f"<b>{html.escape(result.name)}</b>: " + ", ".join(weeks))
        what = (
            "ARR"
            if self.figure in ("arr_growth_y1", "arr_end")
            else "the running total"
        )
        return f"When {what} is {word} the target: " + "; ".join(parts)

    def _decorate_fan(self) -> None:
        self._remove(self._fan_artists)
        fig = self.overview.canvas.figure
        comparison = self.overview.comparison
        if (
            not self.enabled.isChecked()
            or comparison is None
            or not fig.axes
            or self.overview.series != "arr"
        ):
            return
        figure = self.figure if self.figure in ("arr_growth_y1", "arr_end") else None
        figure = figure or (
            "arr_growth_y1" if "arr_growth_y1" in self.targets else None
        )
        if figure is None or figure not in comparison.baseline.figures:
            return
        results = list(comparison.results)
        if not all(r.has_trajectories for r in results):
            return  # streamed runs: no trajectories to read reach weeks on
        if figure not in self.targets:
            self.targets[figure] = default_target(results, figure)
        value = self.targets[figure]
        _data, level = weekly_for_figure(results[0], figure, value)
        reaches = [figure_reach_weeks(r, figure, value) or {} for r in results]
        self._fan_artists = charts.add_target_to_fan(
            fig.axes[0],
            results,
            level,
            reaches,
            label=(
                f"{charts.fmt_figure(figure, value)} ({charts.fmt_money(level)} ARR)"
                if figure == "arr_growth_y1"
                else charts.fmt_money(level)
            ),
            note=self.suggestion_note(figure).split(";")[0],
        )
        for artist in self._fan_artists:  # drawn over the chart, as its data is
            artist.set_animated(True)
        self.overview.canvas.draw_idle()

    # mouse: click or drag on the distribution chart moves the target
    def _on_press(self, event: Any) -> None:
        if (
            event.button == 1
            and event.inaxes is not None
            and event.xdata is not None
            and self.enabled.isChecked()
        ):
            self._dragging = True
            self._move_to(event.xdata)

    def _on_motion(self, event: Any) -> None:
        if self._dragging and event.inaxes is not None and event.xdata is not None:
            self._move_to(event.xdata)

    def _on_release(self, _event: Any) -> None:
        if self._dragging:
            self._dragging = False
            self.set_value(self.value())  # one final update, fan chart included

    def _move_to(self, x: float) -> None:
        self.targets[self.figure] = float(x)
        self.user_set.add(self.figure)
        self._sync_spin()
        self._decorate_distribution()
        self.distribution.canvas.draw_idle()


# --------------------------------------------------------------------------- export


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


# --------------------------------------------------------------------------- panel


class ExportController(QObject):
    """Exports of the shown comparison (PDF, PowerPoint, CSV), written in the
    background; the bridge and drivers are included once computed, the target
    when it is on."""

    exported = Signal(list)  # paths written
    failed = Signal(str)

    def __init__(self, panel: Any) -> None:
        super().__init__(panel)
        self.panel = panel
        self.runner = TaskRunner(self)
        self.runner.resultReady.connect(self.exported.emit)
        self.runner.failed.connect(self.failed.emit)

    def _extras(self) -> dict[str, Any]:
        targets = self.panel.targets
        target = None
        if targets.enabled.isChecked() and targets.value() is not None:
            target = (targets.figure, float(targets.value()))
        return {
            "bridge": self.panel.bridge.bridge,
            "drivers": self.panel.drivers.drivers,
            "target": target,
        }

    def export(self, kind: str, path: str | Path) -> bool:
        """Write ``kind`` (``pdf``, ``pptx`` or ``csv``) to ``path`` in the
        background; ``exported`` carries the paths when done."""
        comparison = self.panel.comparison
        if comparison is None:
            self.failed.emit("Nothing to export yet: no result.")
            return False
        extras = self._extras()

        def task(_progress: Callable[[float], None], _stop: Callable[[], bool]) -> Any:
            from simulator.report import export as report

            if kind == "csv":
                return report.write_csv(comparison, path)
            if kind == "pdf":
                return [report.write_pdf(comparison, path, **extras)]
            return [report.write_pptx(comparison, path, **extras)]

        self.runner.start(task)
        return True

    def export_dialog(self, kind: str) -> bool:
        names = {
            "pdf": ("PDF report", "PDF (*.pdf)"),
            "pptx": ("PowerPoint deck", "PowerPoint (*.pptx)"),
            "csv": ("CSV (per-run figures; weekly percentiles beside)", "CSV (*.csv)"),
        }
        title, filter_ = names[kind]
        path, _ = QFileDialog.getSaveFileName(
            self.panel, f"Export {title}", f"funnelsim.{kind}", filter_
        )
        if not path:
            return False
        if not path.lower().endswith(f".{kind}"):
            path += f".{kind}"
        return self.export(kind, path)


def install_story(panel: Any) -> None:
    """Add the story to a :class:`gui.results.ResultsPanel`: Bridge and Drivers
    tabs, the target on the distribution and fan charts, an Export menu and the
    Workshop button (F11)."""
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import QToolButton

    panel.bridge = BridgeView()
    panel.drivers = DriversView()
    for view in (panel.bridge, panel.drivers):
        panel.views.append(view)
        panel.tabs.addTab(view, view.title)
    panel.targets = TargetController(panel.distribution, panel.overview)
    panel.exports = ExportController(panel)
    panel.workshop = None

    row = QHBoxLayout()
    layout = panel.layout()
    layout.removeWidget(panel.info)
    cell = QGridLayout()  # the lines about the runs, or a run's progress
    cell.setContentsMargins(0, 0, 0, 0)
    cell.addWidget(panel.info, 0, 0)
    cell.addWidget(panel.busy, 0, 0)
    row.addLayout(cell, 1)
    panel.export_status = QLabel("")
    panel.export_status.setObjectName("export_status")
    panel.export_status.setStyleSheet("color: #555555;")
    row.addWidget(panel.export_status)
    export_button = QToolButton()
    export_button.setText("Export ▾")
    export_button.setToolTip(
        "PDF report, PowerPoint deck or CSV of this comparison "
        "(right-click a chart to save it as PNG or SVG)"
    )
    export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(export_button)
    for kind, text in (
        ("pdf", "PDF report…"),
        ("pptx", "PowerPoint deck…"),
        ("csv", "CSV: per-run figures and weekly percentiles…"),
    ):
        menu.addAction(text).triggered.connect(
            lambda _=False, k=kind: panel.exports.export_dialog(k)
        )
    export_button.setMenu(menu)
    workshop_button = QPushButton("Workshop ▶")
    workshop_button.setToolTip(
        "Full screen, one lever at a time, the room guesses first (F11)"
    )
    # Beside the view tabs, so that the line about the runs has the width.
    corner = QWidget()
    corner_row = QHBoxLayout(corner)
    corner_row.setContentsMargins(0, 0, 0, 2)
    corner_row.addWidget(export_button)
    corner_row.addWidget(workshop_button)
    panel.tabs.setCornerWidget(corner)
    layout.insertLayout(0, row)
    panel.export_button = export_button
    panel.workshop_button = workshop_button

    def start_workshop() -> None:
        from gui.workshop import open_workshop

        panel.workshop = open_workshop(panel.comparison)

    workshop_button.clicked.connect(start_workshop)
    QShortcut(QKeySequence("F11"), panel, activated=start_workshop)
    panel.exports.runner.busyChanged.connect(
        lambda busy: busy and panel.export_status.setText("Exporting…")
    )
    panel.exports.exported.connect(
        lambda paths: panel.export_status.setText(
            "Written: " + ", ".join(Path(p).name for p in paths)
        )
    )
    panel.exports.failed.connect(
        lambda message: panel.export_status.setText(f"Export failed: {message}")
    )


__all__ = [
    "BridgeView",
    "DriversView",
    "ExportController",
    "TargetController",
    "TaskRunner",
    "chart_menu",
    "install_story",
    "save_chart_dialog",
]
