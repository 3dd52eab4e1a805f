"""The main window: scenarios on the left, results on the right, run bar below."""

from __future__ import annotations

import contextlib
import dataclasses
import html
import shlex
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.autosave import AutosaveManager, restore_document
from gui.document import ScenarioDocument
from gui.editor import LeverPanel, ParameterEditor
from gui.ranges import RangesEditor
from gui.settings import AppSettings
from gui.tasks import (
    DEBOUNCE_MS,
    PREVIEW_RUNS,
    RUN_FAILURE_NOTE,
    TaskRunner,
    comparison_task,
)
from gui.views.panel import ResultsPanel
from simulator.model.command import funnelsim_command
from simulator.model.errors import ScenarioError
from simulator.model.library import bundled_scenarios
from simulator.model.parameter_text import label_of
from simulator.model.plausibility import lever_warnings
from simulator.model.scenario_io import clean_stale_temps
from simulator.model.schema import Simulation
from simulator.model.untrusted import refusing, run_budget_problem, whole_number
from simulator.report import charts
from simulator.run.comparison_file import (
    from_scenarios,
    load_comparison,
    save_comparison,
)
from simulator.run.memo import RunMemo
from simulator.run.runner import RunSettings

MAX_SCENARIOS = 4
SLOT_NAMES = ("Baseline", "Alternative", "Alternative 2", "Alternative 3")
FILE_FILTER = "FunnelSim scenarios (*.toml);;All files (*)"
#: The smallest window: fits a 1280x720 screen with a task bar and a title bar.
MIN_SIZE = (1024, 600)
COMPARISON_FILTER = "FunnelSim comparisons (*.toml);;All files (*)"


class MessageBar(QFrame):
    """A dismissible message above the results: errors never open a modal box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("message_bar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        # Messages quote file names and values as they are: never as HTML.
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(close)
        self.kind = ""
        self.while_true: Callable[[], bool] | None = None
        self.hide()

    def recheck(self) -> None:
        """Hide a message that is no longer true."""
        if self.while_true is not None and not self.while_true():
            self.while_true = None
            self.hide()

    @property
    def text(self) -> str:
        parent = self.parentWidget()
        shown = self.isVisibleTo(parent) if parent is not None else self.isVisible()
        return self.label.text() if shown else ""

    def show_message(
        self,
        text: str,
        kind: str = "error",
        *,
        while_true: Callable[[], bool] | None = None,
    ) -> None:
        """Show ``text``; with ``while_true``, only for as long as it returns
        true when :meth:`recheck` asks (a banner about restored edits goes when
        those edits are saved, undone or discarded)."""
        self.while_true = while_true
        colors = {"error": ("#FBE3D6", "#8a3b00"), "info": ("#DDEEF8", "#00476e")}
        bg, fg = colors.get(kind, colors["info"])
        self.kind = kind
        self.setStyleSheet(
            f"QFrame#message_bar {{ background: {bg}; border: 1px solid "
            f"{fg}; border-radius: 4px; }} QLabel {{ color: {fg}; "
            "font-size: 11pt; }"
        )
        self.label.setText(text)
        self.show()


class FieldUndoKeys(QObject):
    """Undo and redo keys reach the document while an editor field has focus.

    A line edit or spin box takes Ctrl+Z for its own typing, so the window's
    Undo never saw it. Now a field keeps the key only while it holds typing not
    yet applied (Ctrl+Z then takes that typing back); otherwise the key undoes
    the scenario's last edit, as the Edit menu does.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(obj, QWidget):
            return False
        if not (
            event.matches(QKeySequence.StandardKey.Undo)
            or event.matches(QKeySequence.StandardKey.Redo)
        ):
            return False
        pane = next((p for p in self.window_.panes if p.isAncestorOf(obj)), None)
        # Not taken by a field without typing: the window's shortcut runs.
        return pane is not None and not self._typing(obj, pane)

    @staticmethod
    def _typing(obj: QWidget, pane: ScenarioPane) -> bool:
        """Whether the focused field holds typing not yet applied."""
        if isinstance(obj, QAbstractSpinBox):
            spin: Any = obj
            return bool(spin.cleanText() != spin.textFromValue(spin.value()))
        if isinstance(obj, QLineEdit):
            if obj is pane.name_edit:
                return pane.doc is not None and obj.text().strip() != pane.doc.name
            parent = obj.parentWidget()
            while parent is not None and not hasattr(parent, "dotted"):
                parent = parent.parentWidget()
            shown = getattr(parent, "_value", None)
            return shown is None or obj.text().strip().replace(",", "") != str(
                shown
            ).replace(",", "")
        return False


class ScenarioPane(QWidget):
    """One scenario of the comparison: where it comes from, its levers and values."""

    fileDropped = Signal(str)

    def __init__(self, slot: int, window: MainWindow) -> None:
        super().__init__()
        self.slot = slot
        self.window_ = window
        self.doc: ScenarioDocument | None = None
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.source_button = QPushButton("Load ▾")
        self.source_button.setToolTip(
            "Load a bundled preset, a file or a recent file "
            "into this slot (or drop a .toml file here)"
        )
        self.source_menu = QMenu(self)
        self.source_menu.aboutToShow.connect(self._fill_menu)
        self.source_button.setMenu(self.source_menu)
        top.addWidget(self.source_button)
        top.addWidget(QLabel("Name:"))
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("scenario_name")
        self.name_edit.editingFinished.connect(self._name_done)
        top.addWidget(self.name_edit, 1)
        layout.addLayout(top)
        described = QHBoxLayout()
        described.addWidget(QLabel("Description:"))
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("scenario_description")
        self.description_edit.setPlaceholderText(
            "what this scenario is (saved with it, shown in exports)"
        )
        self.description_edit.editingFinished.connect(self._description_done)
        described.addWidget(self.description_edit, 1)
        layout.addLayout(described)
        self.info = QLabel()
        self.info.setTextFormat(Qt.TextFormat.RichText)  # values inside are escaped
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #555555;")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.info)
        self.editor = ParameterEditor()
        self.levers = LeverPanel()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.levers)
        self.ranges = RangesEditor()
        self.ranges.rangeSet.connect(self._on_range_set)
        self.ranges.rangeCleared.connect(self._on_range_cleared)
        # Levers, parameters and ranges side by side in tabs: in one column of
        # a dozen folding groups, a 720-pixel screen left the open one a few
        # rows. Slim group headers for the same reason.
        for header in self.editor.toolbox.findChildren(
            QAbstractButton, "qt_toolbox_toolboxbutton"
        ):
            header.setFixedHeight(header.fontMetrics().height() + 6)
        self.sections = QTabWidget()
        self.sections.setObjectName("editor_sections")
        self.sections.addTab(scroll, "Alignment levers")
        self.sections.addTab(self.editor, "Parameters")
        self.sections.addTab(self.ranges, "Ranges")
        self.sections.setTabToolTip(
            2, "Values nobody has measured, given as low / most likely / high"
        )
        layout.addWidget(self.sections, 1)
        self.editor.edited.connect(self._on_edited)
        self.editor.sourceEdited.connect(self._on_source)
        self.editor.structure.connect(self._on_structure)
        self.levers.toggled.connect(self._on_lever_toggled)

    # documents
    def set_document(self, doc: ScenarioDocument) -> None:
        self.doc = doc
        doc.changed.connect(self.refresh)
        doc.baselineChanged.connect(self._refresh_info)
        self.refresh()

    def _refresh_info(self) -> None:
        if self.doc is not None and self.doc.baseline is not None:
            self.info.setText(alternative_summary(self.doc))

    def refresh(self) -> None:
        doc = self.doc
        if doc is None:
            return
        self.name_edit.setText(doc.name)
        self.description_edit.setText(doc.scenario.description)
        self.description_edit.setCursorPosition(0)
        if doc.baseline is not None:
            self.info.setText(alternative_summary(doc))
            self.info.setToolTip("")
        else:
            parts = []
            if doc.extends:
                parts.append(f"extends <b>{html.escape(doc.extends)}</b>")
            if doc.levers:
                parts.append(f"{len(doc.levers)} lever{'s' * (len(doc.levers) != 1)}")
            parts.append(f"file: {html.escape(doc.file_label())}")
            # One line: the rest in the tooltip, for the editor's height.
            role = "The baseline · " if self.slot == 0 else ""
            self.info.setText(role + " · ".join(parts))
            self.info.setToolTip(
                "The baseline: every alternative is this company with its own "
                "changes. Highlighted values differ from the scenario this one "
                "extends; hover a value for its meaning and source."
            )
        self.levers.show_document(doc)
        self.editor.show_document(doc)
        self.ranges.show_scenario(doc.scenario)

    def _guard(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except ScenarioError as exc:
            self.window_.messages.show_message(f"Not applied: {exc}")
            self.refresh()

    def _on_edited(self, dotted: str, value: Any) -> None:
        if (doc := self.doc) is not None:
            self._guard(lambda: doc.set_value(dotted, value))

    def _on_range_set(self, dotted: str, low: float, mode: float, high: float) -> None:
        if (doc := self.doc) is not None:
            self._guard(lambda: doc.set_range(dotted, low, mode, high))

    def _on_range_cleared(self, dotted: str) -> None:
        if (doc := self.doc) is not None:
            self._guard(lambda: doc.clear_range(dotted))

    def _on_source(self, dotted: str, source: str) -> None:
        if (doc := self.doc) is not None:
            self._guard(lambda: doc.set_source(dotted, source))

    def _description_done(self) -> None:
        text = " ".join(self.description_edit.text().split())
        if (doc := self.doc) is not None and text != doc.scenario.description:
            self._guard(lambda: doc.set_value("description", text))

    def _name_done(self) -> None:
        text = self.name_edit.text().strip()
        if (doc := self.doc) is not None and text and text != doc.name:
            self._guard(lambda: doc.set_value("name", text))

    def _on_structure(self, list_path: str, action: str, row: int) -> None:
        doc = self.doc
        if doc is None:
            return
        if action == "add":
            self._guard(lambda: doc.add_item(list_path))
        elif action == "remove":
            self._guard(lambda: doc.remove_item(list_path, row))
        elif action in ("up", "down"):
            offset = -1 if action == "up" else 1
            self._guard(lambda: doc.move_item(list_path, row, offset))
            table = self.editor.lists[list_path].table
            table.selectRow(max(0, min(row + offset, table.rowCount() - 1)))

    def _on_lever_toggled(self, lever_id: str, on: bool) -> None:
        if (doc := self.doc) is not None:
            self._guard(lambda: doc.set_lever(lever_id, on))

    # loading
    def _fill_menu(self) -> None:
        menu = self.source_menu
        menu.clear()
        menu.addSection("Bundled presets")
        for entry in bundled_scenarios():
            action = menu.addAction(entry.name)
            action.setToolTip(entry.description)
            action.triggered.connect(
                lambda _=False, i=entry.id: self.window_.load_preset(self.slot, i)
            )
        menu.addSeparator()
        menu.addAction("Open file…").triggered.connect(
            lambda: self.window_.open_dialog(self.slot)
        )
        recent = self.window_.settings.recent_files()
        if recent:
            menu.addSection("Recent files")
            for path in recent:
                menu.addAction(path).triggered.connect(
                    lambda _=False, p=path: self.window_.open_file(p, self.slot)
                )

    def dragEnterEvent(self, event: Any) -> None:
        if _toml_urls(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        files = _toml_urls(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.window_.open_file(files[0], self.slot)


def alternative_summary(doc: ScenarioDocument) -> str:
    """What an alternative is: "Baseline + N levers + M changes", listed."""
    levers = doc.lever_names()
    changes = doc.changes()
    head = (
        f"<b>Baseline + {len(levers)} lever{'s' * (len(levers) != 1)} + "
        f"{len(changes)} change{'s' * (len(changes) != 1)}</b>"
    )
    lines = [head]
    if levers:
        lines.append("Levers: " + html.escape(", ".join(levers)))
    if changes:
        labels = [label_of(dotted, doc.scenario) for dotted in changes]
        lines.append("Changes: " + html.escape(", ".join(labels)))
    if doc.baseline is not None:
        for concern in lever_warnings(doc.baseline.scenario, doc.scenario):
            lines.append(
                f"<span style='color:#8a3b00'>⚠ {html.escape(concern.message)}</span>"
            )
    lines.append(
        f"file: {html.escape(doc.file_label())} · Highlighted values differ "
        "from the baseline; an edit of the baseline reaches this scenario too."
    )
    return "<br>".join(lines)


def _toml_urls(mime: Any) -> list[str]:
    if not mime.hasUrls():
        return []
    return [
        u.toLocalFile()
        for u in mime.urls()
        if u.isLocalFile() and u.toLocalFile().lower().endswith(".toml")
    ]


class MainWindow(QMainWindow):
    """FunnelSim's window: edit scenarios, watch the comparison update."""

    resultShown = Signal(bool)  # is the full run

    def __init__(
        self,
        *,
        settings: AppSettings | None = None,
        scenarios: list[str] | None = None,
        debounce_ms: int = DEBOUNCE_MS,
        preview_runs: int | None = None,
        run_settings: dict[str, int] | None = None,
        autosave_dir: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.docs: list[ScenarioDocument] = []
        #: Unsaved edits go to disk in the background (see gui.autosave).
        self.autosave = AutosaveManager(autosave_dir, parent=self)
        self.autosave.track(self.docs)
        self.panes: list[ScenarioPane] = []
        self.undo_group = QUndoGroup(self)
        self.preview_runs = PREVIEW_RUNS if preview_runs is None else preview_runs
        #: The warm-ups and runs of this window's comparisons, kept across
        #: edits: an edit of the alternative then simulates the alternative alone.
        self.memo = RunMemo()
        #: The runs: a preview, then the full run (see gui.tasks).
        self.controller = TaskRunner(
            self,
            debounce_ms=debounce_ms,
            what="The simulation",
            failure_note=RUN_FAILURE_NOTE,
        )
        self.setAcceptDrops(True)
        self.setWindowTitle("FunnelSim")
        self._editor_width = 0
        self._guide: QDialog | None = None
        self._build_ui()
        self._build_menus()
        self.undo_keys = FieldUndoKeys(self)
        app = QApplication.instance()
        assert app is not None  # (a window needs its application)
        app.installEventFilter(self.undo_keys)
        self._closing = False
        #: Full-run results shown so far (tests and scripts wait on it).
        self.final_results = 0

        refs = scenarios or ["siloed", "aligned"]
        for slot, ref in enumerate(refs[:MAX_SCENARIOS]):
            try:
                doc = self._document_for(ref)
                self._fits(slot, doc)
            except ScenarioError as exc:
                self.messages.show_message(str(exc))
                doc = ScenarioDocument.from_preset("siloed" if slot == 0 else "aligned")
            self._add_slot(doc)
        if len(self.docs) < 2:
            self._add_slot(ScenarioDocument.from_preset("aligned"))
        self.tabs.setCurrentIndex(min(1, len(self.docs) - 1))

        stored = run_settings or self.settings.run_settings()
        if stored is None:
            sim = self.docs[0].scenario.simulation
            stored = {
                "runs": sim.runs,
                "horizon_weeks": sim.horizon_weeks,
                "warmup_weeks": sim.warmup_weeks,
                "seed": sim.seed,
            }
            problem = run_budget_problem(sim.runs, sim.horizon_weeks, sim.warmup_weeks)
            if problem:
                # Nothing starts unasked: the defaults run, the file's settings
                # are one confirmation away.
                stored = {**stored, **_default_run_settings()}
                self.messages.show_message(
                    f"The baseline's file asks for {problem}. The default run "
                    "settings are used; “Use the baseline's” runs the file's "
                    "after a confirmation.",
                    "info",
                )
        self.set_run_settings(stored, run=False)
        self._clean_stale_temps()
        geometry = self.settings.window_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.window_state()
        if state is not None:
            self.restoreState(state)
        self.fit_to_screen(restored=geometry is not None)
        self._update_title()
        if scenarios is None:
            # The comparison a user worked on last, if it was saved as one.
            last = self.settings.last_comparison()
            if last and Path(last).is_file():
                self.open_comparison(last, ask=False)
        QTimer.singleShot(0, lambda: self.schedule_run(immediate=True))

    # ------------------------------------------------------------------ layout

    def _build_ui(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("scenario_tabs")
        self.tabs.setTabsClosable(True)
        # Every scenario's tab in view, names shortened if the pane is narrow.
        self.tabs.setElideMode(Qt.TextElideMode.ElideRight)
        self.tabs.setUsesScrollButtons(False)
        self.tabs.tabCloseRequested.connect(self.remove_slot)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.add_button = QToolButton()
        self.add_button.setText("+")
        self.add_button.setToolTip("Add a third or fourth scenario to the comparison")
        self.add_button.clicked.connect(lambda: self.add_scenario())
        self.tabs.setCornerWidget(self.add_button, Qt.Corner.TopRightCorner)
        left_layout.addWidget(self.tabs)
        splitter.addWidget(left)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.messages = MessageBar()
        right_layout.addWidget(self.messages)
        self.results = ResultsPanel()
        right_layout.addWidget(self.results, 1)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([640, 960])
        # The editor folds away (F9, or drag the handle to the left edge) to
        # give the results the whole width on a small screen or a projector.
        splitter.setCollapsible(0, True)
        splitter.setCollapsible(1, False)
        splitter.splitterMoved.connect(lambda *_: self._sync_editor_action())
        self.splitter = splitter
        outer.addWidget(splitter, 1)
        outer.addWidget(self._build_run_bar())
        self.setCentralWidget(central)

        c = self.controller
        c.partialReady.connect(lambda comparison: self._on_result(comparison, False))
        c.resultReady.connect(lambda comparison: self._on_result(comparison, True))
        c.statusChanged.connect(self._on_phase)
        c.progressChanged.connect(self._on_progress)
        c.failed.connect(self._on_failed)
        c.cancelled.connect(self._on_cancelled)
        c.busyChanged.connect(self._on_busy)

    def _build_run_bar(self) -> QWidget:
        bar = QFrame()
        bar.setObjectName("run_bar")
        bar.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(bar)
        row.setContentsMargins(6, 3, 6, 3)
        self.runs_spin = QSpinBox()
        self.runs_spin.setRange(1, 1_000_000)
        self.runs_spin.setSingleStep(500)
        self.runs_spin.setGroupSeparatorShown(True)
        self.weeks_spin = QSpinBox()
        self.weeks_spin.setRange(1, 1040)
        self.warmup_spin = QSpinBox()
        self.warmup_spin.setRange(0, 520)
        self.seed_edit = QLineEdit()
        self.seed_edit.setMaximumWidth(110)
        self.seed_edit.setToolTip(
            "Seed of all random streams: the same seed and "
            "settings give the same numbers, here and in the CLI"
        )
        for label, widget in (
            ("Runs", self.runs_spin),
            ("Weeks", self.weeks_spin),
            ("Warm-up", self.warmup_spin),
            ("Seed", self.seed_edit),
        ):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
            if isinstance(widget, QSpinBox):
                widget.setKeyboardTracking(False)
                widget.valueChanged.connect(self._on_run_settings_changed)
        self.seed_edit.editingFinished.connect(self._on_run_settings_changed)
        self.from_scenario_button = QPushButton("From baseline")
        self.from_scenario_button.setToolTip(
            "Take runs, weeks, warm-up and seed from the baseline's [simulation] table"
        )
        self.from_scenario_button.clicked.connect(self.use_baseline_run_settings)
        row.addWidget(self.from_scenario_button)
        row.addSpacing(8)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(100)
        row.addWidget(self.progress, 1)
        self.status = QLabel("Ready")
        self.status.setMinimumWidth(120)
        row.addWidget(self.status, 1)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the comparison now (F5)")
        self.run_button.clicked.connect(lambda: self.schedule_run(immediate=True))
        row.addWidget(self.run_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the run in flight (Esc)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_run)
        row.addWidget(self.cancel_button)
        return bar

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        new_action = self._action(
            menu,
            "&New scenario",
            QKeySequence.StandardKey.New,
            lambda: self.new_scenario(),
        )
        new_action.setToolTip("Add an untitled scenario to the comparison, in a tab")
        open_action = self._action(
            menu,
            "&Open…",
            QKeySequence.StandardKey.Open,
            lambda: self.open_dialog(self.current_slot()),
        )
        self.recent_menu = menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addSeparator()
        save_action = self._action(
            menu,
            "&Save",
            QKeySequence.StandardKey.Save,
            lambda: self.save(self.current_slot()),
        )
        save_as_action = self._action(
            menu,
            "Save &as…",
            QKeySequence.StandardKey.SaveAs,
            lambda: self.save_as(self.current_slot()),
        )
        menu.addSeparator()
        self._action(
            menu, "Open &comparison…", None, lambda: self.open_comparison_dialog()
        )
        self._action(
            menu, "Save compa&rison as…", None, lambda: self.save_comparison_dialog()
        )
        menu.addSeparator()
        self.export_menu = menu.addMenu("&Export")
        for kind, text in (
            ("pdf", "&PDF report…"),
            ("pptx", "Power&Point deck…"),
            ("csv", "&CSV: per-run figures and weekly percentiles…"),
        ):
            self._action(
                self.export_menu,
                text,
                None,
                partial(self.results.exports.export_dialog, kind),
            )
        menu.addSeparator()
        self._action(menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = self.undo_group.createUndoAction(self, "&Undo:")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_group.createRedoAction(self, "&Redo:")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        sim = self.menuBar().addMenu("&Simulation")
        self._action(
            sim,
            "&Run now",
            QKeySequence("F5"),
            lambda: self.schedule_run(immediate=True),
        )
        self._action(sim, "&Cancel run", QKeySequence("Esc"), self.cancel_run)
        self._action(sim, "Add a &scenario", None, lambda: self.add_scenario())
        view = self.menuBar().addMenu("&View")
        self.editor_action = self._action(
            view, "&Editor", QKeySequence("F9"), self.toggle_editor
        )
        self.editor_action.setCheckable(True)
        self.editor_action.setChecked(True)
        self.editor_action.setToolTip(
            "Show or fold away the scenario editor (F9): the results take the "
            "whole width"
        )
        help_menu = self.menuBar().addMenu("&Help")
        self._action(
            help_menu,
            "&Model guide",
            QKeySequence.StandardKey.HelpContents,
            self.show_model_guide,
        )
        self._action(help_menu, "&About FunnelSim", None, self.show_about)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        for action in (new_action, open_action, save_action, save_as_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        # Short words on the toolbar; what they undo is in their tooltip and
        # the Edit menu ("Undo: Annual churn 10 % → 12 %").
        for name, action in (("Undo", self.undo_action), ("Redo", self.redo_action)):
            button = QAction(name, self)
            button.setEnabled(action.isEnabled())
            button.setToolTip(action.text().replace("&", ""))
            button.triggered.connect(lambda _=False, a=action: a.trigger())
            action.changed.connect(
                lambda b=button, a=action: (
                    b.setEnabled(a.isEnabled()),
                    b.setToolTip(a.text().replace("&", "")),
                )
            )
            toolbar.addAction(button)
        toolbar.addSeparator()
        toolbar.addAction(self.editor_action)
        from gui.views.fit_wizard import add_menu_entry

        add_menu_entry(self, menu)  # File > New from my data

    # ------------------------------------------------------------------ screen

    def fit_to_screen(self, *, restored: bool = False, free: Any = None) -> None:
        """Size the window to the screen it opens on: most of its free area
        on a new install, and a restored size cut down to it (a window last
        used on a larger monitor). Below 1400 pixels of width the editor starts
        folded to a third of the window."""
        if free is None:
            screen = self.screen() or QGuiApplication.primaryScreen()
            if screen is None:
                return
            free = screen.availableGeometry()
        width, height = free.width(), free.height()
        self.setMinimumSize(min(MIN_SIZE[0], width), min(MIN_SIZE[1], height))
        if restored and free.contains(self.frameGeometry()):
            return
        if restored:
            wanted = (min(self.width(), width), min(self.height(), height))
        else:
            # A laptop's screen is all needed; a large monitor leaves a margin.
            share = 1.0 if width < 1600 else 0.9
            wanted = (
                min(width, max(MIN_SIZE[0], int(width * share))),
                min(height, max(MIN_SIZE[1], int(height * share))),
            )
        frame = self.frameGeometry().size() - self.geometry().size()
        self.resize(wanted[0] - frame.width(), wanted[1] - frame.height())
        self.move(
            free.x() + (width - wanted[0]) // 2, free.y() + (height - wanted[1]) // 2
        )
        share = 0.37 if width < 1400 else 0.33
        self.splitter.setSizes([int(wanted[0] * share), int(wanted[0] * (1 - share))])

    def editor_shown(self) -> bool:
        return self.splitter.sizes()[0] > 0

    def toggle_editor(self) -> None:
        self.set_editor_shown(not self.editor_shown())

    def set_editor_shown(self, shown: bool) -> None:
        total = sum(self.splitter.sizes())
        if shown and not self.editor_shown():
            left = self._editor_width or int(total * 0.38)
            self.splitter.setSizes([left, max(total - left, 1)])
        elif not shown and self.editor_shown():
            self._editor_width = self.splitter.sizes()[0]
            self.splitter.setSizes([0, total])
        self._sync_editor_action()

    def _sync_editor_action(self) -> None:
        action = getattr(self, "editor_action", None)
        if action is not None:
            action.setChecked(self.editor_shown())

    # ------------------------------------------------------------------ help

    def show_model_guide(self) -> QDialog:
        """The model guide (docs/model.md), rendered in a window of its own."""
        from gui.helpdocs import ModelGuideDialog

        if self._guide is None:
            self._guide = ModelGuideDialog(self)
        self._guide.show()
        self._guide.raise_()
        return self._guide

    def show_about(self) -> None:
        from gui.helpdocs import about_text

        QMessageBox.about(self, "About FunnelSim", about_text())

    def _action(
        self, menu: QMenu, text: str, shortcut: Any, slot: Callable[[], Any]
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for path in files:
            self.recent_menu.addAction(path).triggered.connect(
                lambda _=False, p=path: self.open_file(p, self.current_slot())
            )

    # ------------------------------------------------------------------ slots

    def current_slot(self) -> int:
        return max(0, self.tabs.currentIndex())

    def _document_for(self, ref: str) -> ScenarioDocument:
        with refusing(ref):
            path = Path(ref).expanduser()
            if path.suffix.lower() == ".toml" or path.exists():
                return ScenarioDocument.from_file(path)
            return ScenarioDocument.from_preset(ref)

    def _fits(self, slot: int, doc: ScenarioDocument) -> None:
        """Raise :class:`ScenarioError` if ``doc`` cannot take ``slot``: an
        alternative must resolve on the baseline, and a new baseline must leave
        every alternative valid."""
        if slot == 0:
            for other in self.docs[1:]:
                other.check_alternative(doc.scenario)
        elif self.docs:
            doc._resolve(doc.own, self.docs[0].scenario)

    def _link(self) -> None:
        """Every alternative is a set of changes to the baseline (slot 0)."""
        baseline = self.docs[0]
        baseline.link_baseline(None)
        baseline.dependents = list(self.docs[1:])
        for doc in self.docs[1:]:
            doc.dependents = []
            doc.link_baseline(baseline)

    def _add_slot(self, doc: ScenarioDocument) -> int:
        self._fits(len(self.docs), doc)
        slot = len(self.docs)
        pane = ScenarioPane(slot, self)
        self.docs.append(doc)
        self.panes.append(pane)
        self.tabs.addTab(pane, "")
        self._attach(slot, doc)
        self._link()
        self._update_tabs()
        return slot

    def _attach(self, slot: int, doc: ScenarioDocument) -> None:
        doc.setParent(self)
        self.docs[slot] = doc
        self.undo_group.addStack(doc.undo_stack)
        doc.changed.connect(self._on_document_changed)
        doc.modifiedChanged.connect(lambda _m: self._on_modified_changed())
        self.panes[slot].set_document(doc)
        if slot == self.current_slot():
            self.undo_group.setActiveStack(doc.undo_stack)

    def _detach(self, doc: ScenarioDocument) -> None:
        doc.changed.disconnect(self._on_document_changed)
        self.undo_group.removeStack(doc.undo_stack)
        doc.deleteLater()

    def replace_document(self, slot: int, doc: ScenarioDocument) -> bool:
        """Put ``doc`` in a slot, asking first if the old one has unsaved changes."""
        old = self.docs[slot]
        try:
            self._fits(slot, doc)
        except ScenarioError as exc:
            role = "baseline" if slot == 0 else "alternative"
            self.messages.show_message(f"Not loaded as the {role}: {exc}")
            doc.deleteLater()
            return False
        if not self.maybe_save(old):
            doc.deleteLater()
            return False
        pane = self.panes[slot]
        old.changed.disconnect(pane.refresh)
        self._detach(old)
        self._attach(slot, doc)
        self._link()
        self._update_tabs()
        self.autosave.write_now()  # a discarded document's autosave goes
        self.messages.recheck()
        self.schedule_run()
        return True

    def add_scenario(self, doc: ScenarioDocument | None = None) -> int | None:
        if len(self.docs) >= MAX_SCENARIOS:
            self.messages.show_message(
                f"A comparison holds at most {MAX_SCENARIOS} scenarios.", "info"
            )
            return None
        if doc is None:
            source = self.docs[-1]
            doc = ScenarioDocument.extending(source, name=f"{source.name} (copy)")
        slot = self._add_slot(doc)
        self.tabs.setCurrentIndex(slot)
        self.schedule_run()
        return slot

    def remove_slot(self, slot: int) -> bool:
        if slot < 2 or slot >= len(self.docs):
            self.messages.show_message(
                "The baseline and the first alternative stay; "
                "load another scenario into them instead.",
                "info",
            )
            return False
        doc = self.docs[slot]
        if not self.maybe_save(doc):
            return False
        self.tabs.removeTab(slot)
        pane = self.panes.pop(slot)
        self.docs.pop(slot)
        self._detach(doc)
        self._link()
        pane.deleteLater()
        for index, p in enumerate(self.panes):
            p.slot = index
        self._update_tabs()
        self.autosave.write_now()
        self.schedule_run()
        return True

    def _update_tabs(self) -> None:
        for slot, doc in enumerate(self.docs):
            self.tabs.setTabText(slot, f"{SLOT_NAMES[slot]}: {doc.display_name()}")
            self.tabs.setTabToolTip(slot, doc.file_label())
            self.tabs.tabBar().setTabTextColor(
                slot, _qcolor(charts.scenario_color(slot))
            )
            button = self.tabs.tabBar().tabButton(
                slot, self.tabs.tabBar().ButtonPosition.RightSide
            )
            if button is not None:
                button.setVisible(slot >= 2)
        self.add_button.setEnabled(len(self.docs) < MAX_SCENARIOS)
        self._update_title()

    def _update_title(self) -> None:
        names = " vs ".join(d.display_name() for d in self.docs)
        self.setWindowTitle(f"FunnelSim — {names}")

    def _on_modified_changed(self) -> None:
        self._update_tabs()
        self.messages.recheck()

    def _on_tab_changed(self, index: int) -> None:
        if 0 <= index < len(self.docs):
            self.undo_group.setActiveStack(self.docs[index].undo_stack)

    def _on_document_changed(self) -> None:
        self._update_tabs()
        self.autosave.note_change()
        self.messages.recheck()
        self.schedule_run()

    # ------------------------------------------------------------------ files

    def load_preset(self, slot: int, preset_id: str) -> bool:
        try:
            doc = ScenarioDocument.from_preset(preset_id)
        except ScenarioError as exc:
            self.messages.show_message(str(exc))
            return False
        return self.replace_document(slot, doc)

    def open_dialog(self, slot: int) -> bool:
        start = str(
            Path(self.settings.recent_files()[0]).parent
            if self.settings.recent_files()
            else Path.home()
        )
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a scenario", start, FILE_FILTER
        )
        return self.open_file(path, slot) if path else False

    def open_file(self, path: str | Path, slot: int | None = None) -> bool:
        """Open a scenario file into a slot; a bad file gives a message naming the
        parameter and leaves the slot as it was."""
        slot = self.current_slot() if slot is None else slot
        try:
            doc = ScenarioDocument.from_file(path)
        except ScenarioError as exc:
            self.messages.show_message(f"Could not open the scenario. {exc}")
            return False
        if not self.replace_document(slot, doc):
            return False
        self.settings.add_recent(doc.path or path)
        self.messages.show_message(
            f"Opened {doc.path} as the {SLOT_NAMES[slot].lower()}.", "info"
        )
        return True

    def new_scenario(self) -> int | None:
        """Add an untitled scenario (today's siloed funnel, to be edited) to
        the comparison in a tab of its own; the others stay as they are."""
        if len(self.docs) >= MAX_SCENARIOS:
            self.messages.show_message(
                f"A comparison holds at most {MAX_SCENARIOS} scenarios: close "
                "one, or load a scenario into a tab instead.",
                "info",
            )
            return None
        doc = ScenarioDocument.from_preset("siloed")
        names = {d.name for d in self.docs}
        name, number = "Untitled scenario", 1
        while name in names:
            number += 1
            name = f"Untitled scenario {number}"
        doc.own["name"] = name
        doc._apply(doc.own)
        doc.preset_id = None
        return self.add_scenario(doc)

    def save(self, slot: int) -> bool:
        doc = self.docs[slot]
        if doc.path is None:
            return self.save_as(slot)
        return self._save_to(doc, doc.path)

    def save_as(self, slot: int) -> bool:
        doc = self.docs[slot]
        start = str(doc.path or Path.home() / f"{_slug(doc.name)}.toml")
        path, _ = QFileDialog.getSaveFileName(
            self, f"Save {doc.name}", start, FILE_FILTER
        )
        if not path:
            return False
        if not path.lower().endswith(".toml"):
            path += ".toml"
        return self._save_to(doc, Path(path))

    def _save_to(self, doc: ScenarioDocument, path: Path) -> bool:
        try:
            saved = doc.save(path)
        except (ScenarioError, OSError) as exc:
            self.messages.show_message(f"Not saved: {exc}")
            return False
        self.settings.add_recent(saved)
        self.autosave.write_now()  # the saved document's autosave goes
        self.messages.recheck()
        self.messages.show_message(f"Saved {doc.name} to {saved}.", "info")
        self._update_tabs()
        return True

    # ------------------------------------------------------------------ comparisons

    def open_comparison_dialog(self) -> bool:
        start = self.settings.last_comparison() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a comparison", start, COMPARISON_FILTER
        )
        return self.open_comparison(path) if path else False

    def open_comparison(self, path: str | Path, *, ask: bool = True) -> bool:
        """Open a comparison file: its baseline, alternatives, run settings and
        target replace the window's (after asking about unsaved changes)."""
        try:
            saved, _scenarios = load_comparison(path)
        except ScenarioError as exc:
            self.messages.show_message(f"Could not open the comparison. {exc}")
            return False
        if ask and not all(self.maybe_save(doc) for doc in list(self.docs)):
            return False
        anchor = Path(path).expanduser().resolve()
        docs = [
            ScenarioDocument(own, path=None, anchor=anchor)
            for own in (saved.baseline, *saved.alternatives)
        ]
        self._set_documents(docs)
        note = ""
        if saved.run is not None:
            if self._confirm_run_settings(saved.run, "The comparison file"):
                self.set_run_settings(dataclasses.asdict(saved.run), run=False)
            else:
                note = " Its run settings were not taken (beyond the budget)."
        if saved.target is not None:
            self._set_target(*saved.target)
        self.comparison_path = anchor
        self.settings.set_last_comparison(anchor)
        self.messages.show_message(f"Opened the comparison {anchor}.{note}", "info")
        self.schedule_run()
        return True

    def _set_target(self, figure: str, value: float) -> None:
        targets = getattr(self.results, "targets", None)
        if targets is None:
            return
        box = targets.distribution.figure_box
        index = box.findData(figure)
        if index >= 0:
            box.setCurrentIndex(index)
        targets.targets[figure] = float(value)
        targets.enabled.setChecked(True)

    def _target(self) -> tuple[str, float] | None:
        targets = getattr(self.results, "targets", None)
        if targets is None or not targets.enabled.isChecked():
            return None
        value = targets.targets.get(targets.figure)
        return None if value is None else (targets.figure, float(value))

    def save_comparison_dialog(self) -> bool:
        start = str(
            getattr(self, "comparison_path", None)
            or Path.home() / f"{_slug(self.docs[0].name)}-comparison.toml"
        )
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the comparison", start, COMPARISON_FILTER
        )
        if not path:
            return False
        if not path.lower().endswith(".toml"):
            path += ".toml"
        return self.save_comparison(path)

    def save_comparison(self, path: str | Path) -> bool:
        """Save the whole comparison (scenarios, run settings, target) as one
        file, validated first and written atomically."""
        saved = from_scenarios(
            self.docs[0].own,
            [doc.own for doc in self.docs[1:]],
            run=self.run_settings(),
            target=self._target(),
        )
        try:
            target = save_comparison(saved, path)
        except (ScenarioError, OSError) as exc:
            self.messages.show_message(f"Comparison not saved: {exc}")
            return False
        self.comparison_path = target.resolve()
        self.settings.set_last_comparison(target)
        self.messages.show_message(f"Saved the comparison to {target}.", "info")
        return True

    def _set_documents(self, docs: list[ScenarioDocument]) -> None:
        """Put a whole comparison's documents in the slots (already checked
        together, so no slot is checked against the one it replaces)."""
        while len(self.docs) > max(len(docs), 2):
            slot = len(self.docs) - 1
            self.tabs.removeTab(slot)
            pane = self.panes.pop(slot)
            old = self.docs.pop(slot)
            old.changed.disconnect(pane.refresh)
            self._detach(old)
            pane.deleteLater()
        for slot in range(min(len(self.docs), len(docs))):
            old, pane = self.docs[slot], self.panes[slot]
            old.changed.disconnect(pane.refresh)
            self._detach(old)
            old.dependents = []
            self._attach(slot, docs[slot])
        for doc in docs[len(self.docs) :]:
            self._add_slot(doc)
        self._link()
        self._update_tabs()
        self.autosave.write_now()

    def maybe_save(self, doc: ScenarioDocument) -> bool:
        """Ask before losing unsaved changes; ``False`` means stop."""
        if not doc.modified:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"“{doc.name}” has changes that are not saved. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save(self.docs.index(doc)) if doc in self.docs else False
        return answer == QMessageBox.StandardButton.Discard

    def offer_restore(self) -> int:
        """Offer to restore the edits autosaved by a session that crashed; returns
        how many documents were restored (as unsaved documents)."""
        leftovers = self.autosave.leftovers()
        if not leftovers:
            return 0
        newest = leftovers[0]
        names = ", ".join(f"“{d.name}”" for d in newest.modified)
        when = newest.saved_at.replace("T", " ")[:16]
        answer = QMessageBox.question(
            self,
            "Restore unsaved edits?",
            "FunnelSim did not close cleanly last time. Unsaved edits of "
            f"{names} were kept (autosaved {when}).\n\nRestore them? "
            "No discards them.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            for leftover in leftovers:
                leftover.remove()
            return 0
        restored, failed = 0, []
        slot = 0
        for saved in sorted(newest.documents, key=lambda d: d.slot):
            if slot >= MAX_SCENARIOS:
                break
            try:
                if saved.file is not None:
                    doc = restore_document(saved)
                elif saved.path is not None:
                    doc = ScenarioDocument.from_file(saved.path)
                elif saved.preset_id:
                    doc = ScenarioDocument.from_preset(saved.preset_id)
                else:
                    continue
            except (ScenarioError, OSError) as exc:
                if saved.file is not None:
                    failed.append(f"“{saved.name}” ({exc})")
                continue
            if slot < len(self.docs):
                placed = self.replace_document(slot, doc)
            else:
                placed = self.add_scenario(doc) is not None
            if not placed:
                if saved.file is not None:
                    failed.append(f"“{saved.name}” (not placed)")
                continue
            restored += saved.file is not None
            slot += 1
        self.autosave.write_now()  # the restored edits are safe again first
        if failed:
            what = "; ".join(failed)
            discard = QMessageBox.question(
                self,
                "Autosave not restored",
                f"Could not restore {what}.\n\nDiscard this autosave? No keeps "
                f"it in {newest.folder} and offers it again next time.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if discard == QMessageBox.StandardButton.Yes:
                newest.remove()
                self.messages.show_message(
                    f"Could not restore {what}; that autosave is discarded."
                )
            else:
                self.messages.show_message(
                    f"Could not restore {what}. The autosave is kept in "
                    f"{newest.folder}."
                )
        else:
            newest.remove()
            more = len(leftovers) - 1
            kept = [d for d in self.docs if d.modified]
            self.messages.show_message(
                f"Restored unsaved edits of {names}; save them to keep them."
                + (
                    f" {more} older autosave(s) will be offered next time."
                    if more
                    else ""
                ),
                "info",
                # Until they are saved, undone or replaced.
                while_true=lambda: any(d in self.docs and d.modified for d in kept),
            )
        self.tabs.setCurrentIndex(0)
        return restored

    def _clean_stale_temps(self) -> None:
        """Remove what saves killed half-way left next to recent files."""
        for recent in self.settings.recent_files():
            with contextlib.suppress(OSError, ValueError):
                clean_stale_temps(Path(recent))

    def dragEnterEvent(self, event: Any) -> None:
        if _toml_urls(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        files = _toml_urls(event.mimeData())
        if not files:
            return
        event.acceptProposedAction()
        bar = self.tabs.tabBar()
        index = bar.tabAt(bar.mapFrom(self, event.position().toPoint()))
        self.open_file(files[0], index if index >= 0 else self.current_slot())

    def closeEvent(self, event: Any) -> None:
        for doc in list(self.docs):
            if not self.maybe_save(doc):
                event.ignore()
                return
        self._closing = True
        self.settings.set_window(self.saveGeometry(), self.saveState())
        self.settings.set_run_settings(**self.run_settings_dict())
        self.settings.sync()
        self.controller.shutdown()
        self.autosave.close()  # a clean close: nothing to recover
        event.accept()

    # ------------------------------------------------------------------ running

    def run_settings_dict(self) -> dict[str, int]:
        try:
            seed = int(self.seed_edit.text().strip() or 0)
        except ValueError:
            seed = self.docs[0].scenario.simulation.seed
        return {
            "runs": self.runs_spin.value(),
            "horizon_weeks": self.weeks_spin.value(),
            "warmup_weeks": self.warmup_spin.value(),
            "seed": seed,
        }

    def run_settings(self) -> RunSettings:
        return RunSettings(**self.run_settings_dict())

    def set_run_settings(self, values: dict[str, int], *, run: bool = True) -> None:
        for widget, key in (
            (self.runs_spin, "runs"),
            (self.weeks_spin, "horizon_weeks"),
            (self.warmup_spin, "warmup_weeks"),
        ):
            widget.blockSignals(True)
            widget.setValue(int(values[key]))
            widget.blockSignals(False)
        self.seed_edit.setText(str(int(values["seed"])))
        self._last_seed = self.seed_edit.text()
        if run:
            self._on_run_settings_changed()

    def _confirm_run_settings(self, run: Any, whose: str) -> bool:
        """Whether run settings from a file may be used: at once within the
        budget a file may ask for unconfirmed, else after asking."""
        problem = run_budget_problem(run.runs, run.horizon_weeks, run.warmup_weeks)
        if not problem:
            return True
        answer = QMessageBox.question(
            self,
            "Long run",
            f"{whose} asks for {problem}. It may take a long time and much "
            "memory. Run it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def use_baseline_run_settings(self) -> bool:
        """Take the baseline file's run settings, asking first when they are
        beyond the budget a file may ask for unconfirmed."""
        sim = self.docs[0].scenario.simulation
        if not self._confirm_run_settings(sim, "The baseline's file"):
            return False
        self.set_run_settings(
            {
                "runs": min(sim.runs, self.runs_spin.maximum()),
                "horizon_weeks": sim.horizon_weeks,
                "warmup_weeks": sim.warmup_weeks,
                "seed": sim.seed,
            }
        )
        return True

    def _on_run_settings_changed(self, *_args: Any) -> None:
        text = self.seed_edit.text().strip()
        try:
            valid = whole_number(text) >= 0
        except ValueError:
            valid = False
        if not valid:
            self.messages.show_message(
                f"The seed must be a whole number from 0 to {2**63 - 1:,}."
            )
            self.seed_edit.setText(self._last_seed)
            return
        self._last_seed = text
        self.settings.set_run_settings(**self.run_settings_dict())
        self.schedule_run()

    def schedule_run(self, *, immediate: bool = False) -> None:
        if self._closing or not self.docs:
            return
        scenarios = [doc.scenario for doc in self.docs]
        task = comparison_task(
            scenarios,
            self.run_settings(),
            preview_runs=self.preview_runs,
            memo=self.memo,
        )
        started = self.controller.request(task, immediate=immediate)
        self.status.setText("Starting…" if started else "Waiting for edits to settle…")
        self.cancel_button.setEnabled(True)

    def cancel_run(self) -> None:
        self.controller.cancel()
        self.cancel_button.setEnabled(False)
        self._on_cancelled()

    def cli_command(self) -> str:
        refs = []
        for doc in self.docs:
            ref = doc.cli_ref()
            refs.append(shlex.quote(ref) if ref else f"<save {doc.name} first>")
        s = self.run_settings()
        return (
            # (the whole path: the app's working folder is not the terminal's)
            f"{funnelsim_command(relative=False)} compare {' '.join(refs)} "
            f"--runs {s.runs} --weeks "
            f"{s.horizon_weeks} --warmup {s.warmup_weeks} --seed {s.seed}"
        )

    def _on_phase(self, label: str) -> None:
        self.status.setText(label + "…")
        self.progress.setValue(0)
        self.results.show_progress(label, 0.0)
        self.results.show_waiting(label)  # (until the first results)

    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.results.show_progress(None, fraction)

    def _on_result(self, comparison: Any, final: bool) -> None:
        self.results.show_comparison(comparison, final, command=self.cli_command())
        if final:
            self.final_results += 1
            self.status.setText(f"Done: {comparison.baseline.settings.runs:,} runs")
            self.progress.setValue(1000)
            if self.messages.kind == "error" and "simulation failed" in (
                self.messages.label.text()
            ):
                self.messages.hide()
            notes = getattr(comparison, "notes", [])
            if notes:
                self.messages.show_message(" ".join(notes), "info")
        self.resultShown.emit(final)

    def _on_failed(self, message: str) -> None:
        self.messages.show_message(message)
        self.status.setText("Failed")
        self.results.run_cancelled("failed")

    def _on_cancelled(self) -> None:
        self.status.setText("Cancelled")
        self.results.run_cancelled("was cancelled")

    def _on_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        if not busy:
            self.results.hide_progress()
        if not busy and self.status.text().endswith("…"):
            self.status.setText("Ready")


def _default_run_settings() -> dict[str, int]:
    defaults = Simulation()
    return {
        "runs": defaults.runs,
        "horizon_weeks": defaults.horizon_weeks,
        "warmup_weeks": defaults.warmup_weeks,
    }


def _qcolor(hex_color: str) -> Any:
    from PySide6.QtGui import QColor

    return QColor(hex_color)


def _slug(name: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "_" for c in name).strip("_")
    return out or "scenario"


__all__ = ["MainWindow"]
