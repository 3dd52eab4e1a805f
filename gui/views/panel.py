"""The results panel: every view of a comparison in tabs, what is shown or
being computed above them, exports and the workshop."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.views.canvas import ResultView
from gui.views.results import (
    DistributionView,
    DynamicsView,
    FunnelView,
    OverviewView,
    TableView,
)
from gui.views.story import BridgeView, DriversView, ExportController, TargetController
from gui.views.workshop import WorkshopWindow, open_workshop
from simulator.model.plausibility import start_line
from simulator.run.results import uncertainty_note


class ResultsPanel(QWidget):
    """The results views in tabs (Overview to Table, then the story's Bridge and
    Drivers), with a line saying what is shown (or the run's progress in its
    place), the target on the distribution and fan charts, the Export menu and
    the Workshop button (F11)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.info = QLabel("No results yet.")
        self.info.setObjectName("results_info")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Where the results will appear, what is being computed: the engine's
        # first compilation (20-25 s on a new install) and long runs.
        # It takes the place of the lines about the runs while a run is on
        # (both in one cell), and each keeps its room when hidden: the charts
        # never move or resize for it (a resize would lay every chart out anew,
        # in the middle of a run).
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
        self.bridge = BridgeView()
        self.drivers = DriversView()
        self.views: list[ResultView] = [
            self.overview,
            self.distribution,
            self.funnel,
            self.dynamics,
            self.table,
            self.bridge,
            self.drivers,
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
        self.targets = TargetController(self.distribution, self.overview)
        self.exports = ExportController(self)
        self.workshop: WorkshopWindow | None = None

        row = QHBoxLayout()
        cell = QGridLayout()  # the lines about the runs, or a run's progress
        cell.setContentsMargins(0, 0, 0, 0)
        cell.addWidget(self.info, 0, 0)
        cell.addWidget(self.busy, 0, 0)
        row.addLayout(cell, 1)
        self.export_status = QLabel("")
        self.export_status.setObjectName("export_status")
        self.export_status.setStyleSheet("color: #555555;")
        row.addWidget(self.export_status)
        layout.insertLayout(0, row)
        # Beside the view tabs, so that the line about the runs has the width.
        corner = QWidget()
        corner_row = QHBoxLayout(corner)
        corner_row.setContentsMargins(0, 0, 0, 2)
        self.export_button = self._export_button()
        corner_row.addWidget(self.export_button)
        self.workshop_button = QPushButton("Workshop ▶")
        self.workshop_button.setToolTip(
            "Full screen, one lever at a time, the room guesses first (F11)"
        )
        corner_row.addWidget(self.workshop_button)
        self.tabs.setCornerWidget(corner)
        self.workshop_button.clicked.connect(self.start_workshop)
        QShortcut(QKeySequence("F11"), self, self.start_workshop)
        self.exports.runner.busyChanged.connect(self._on_export_busy)
        self.exports.exported.connect(
            lambda paths: self.export_status.setText(
                "Written: " + ", ".join(Path(p).name for p in paths)
            )
        )
        self.exports.failed.connect(
            lambda message: self.export_status.setText(f"Export failed: {message}")
        )

    def _export_button(self) -> QToolButton:
        button = QToolButton()
        button.setText("Export ▾")
        button.setToolTip(
            "PDF report, PowerPoint deck or CSV of this comparison "
            "(right-click a chart to save it as PNG or SVG)"
        )
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        for kind, text in (
            ("pdf", "PDF report…"),
            ("pptx", "PowerPoint deck…"),
            ("csv", "CSV: per-run figures and weekly percentiles…"),
        ):
            menu.addAction(text).triggered.connect(
                lambda _=False, k=kind: self.exports.export_dialog(k)
            )
        button.setMenu(menu)
        return button

    def _on_export_busy(self, busy: bool) -> None:
        if busy:
            self.export_status.setText("Exporting…")

    def start_workshop(self) -> None:
        """The workshop on the comparison shown, full screen."""
        self.workshop = open_workshop(self.comparison)

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
        for view in self.views:
            view.set_comparison(comparison, preview=not final)

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
