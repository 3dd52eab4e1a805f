"""File > New from my data…: fit a scenario to a CRM export and a funnel report.

Two pages: the files and options, then the fit's table (every fitted value with
its 90 % interval, the columns used and the data's figure beside the simulated
one) and what the data could not identify. Accepting saves the scenario and
opens it as the baseline; the alternatives (the aligned levers) follow it.
The fit itself is :mod:`simulator.analysis.fitting` (the same as ``funnelsim fit``); it
runs off the GUI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from simulator.analysis.fitting.fit import fit
from simulator.analysis.fitting.provenance import (
    FitResult,
    write_scenario,
)
from simulator.analysis.fitting.table import parse_column_overrides
from simulator.cli.fit import _fmt
from simulator.model.errors import ScenarioError
from simulator.model.library import bundled_scenarios

log = logging.getLogger(__name__)

DATA_FILTER = "Data files (*.csv *.txt *.xlsx);;All files (*)"
ORDERS = {
    "Detect from the data": None,
    "Day first (31/01/2025)": "dayfirst",
    "Month first (01/31/2025)": "monthfirst",
}


class FitSignals(QObject):
    done = Signal(object)  # FitResult
    failed = Signal(str)  # one line for a person


class FitJob(QRunnable):
    """Fit and check by simulation off the GUI thread."""

    def __init__(self, options: dict[str, Any], check_runs: int) -> None:
        super().__init__()
        self.options = options
        self.check_runs = check_runs
        self.signals = FitSignals()

    def run(self) -> None:
        from simulator.analysis.fitting.check import check_by_simulation

        try:
            result = fit(**self.options)
            check_by_simulation(result, runs=self.check_runs)
        except (ScenarioError, OSError) as exc:
            self.signals.failed.emit(str(exc))
            return
        except Exception as exc:  # the log keeps the traceback, the user one line
            log.critical("fit failed", exc_info=True)
            self.signals.failed.emit(f"The fit failed unexpectedly ({exc}).")
            return
        self.signals.done.emit(result)


class FitWizard(QDialog):
    """The two pages of New from my data…"""

    fitted = Signal(object)  # FitResult, when a fit is shown

    def __init__(self, parent: QWidget | None = None, *, check_runs: int = 200) -> None:
        super().__init__(parent)
        self.setWindowTitle("New scenario from my data")
        self.resize(1000, 640)
        self.check_runs = check_runs
        self.result: FitResult | None = None
        self.saved_path: Path | None = None
        self._job: FitJob | None = None
        self.pages = QStackedWidget()
        self.pages.addWidget(self._files_page())
        self.pages.addWidget(self._table_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

    # ------------------------------------------------------------------ page 1

    def _files_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        intro = QLabel(
            "Give an opportunity export from your CRM (Salesforce, HubSpot, Pipedrive "
            "or any CSV/XLSX with an outcome or stage, created and close dates and an "
            "amount; a stage history too if you have it) and/or a funnel report (one "
            "row per week or month with counts of leads, MQLs, accepted, "
            "opportunities, won). FunnelSim fits its model to them; what the data "
            "cannot tell keeps the values of the scenario you start from."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.file_list = QListWidget()
        self.file_list.setObjectName("fit_files")
        self.file_list.setToolTip("Add files with the button, or drop them here")
        self.setAcceptDrops(True)
        layout.addWidget(self.file_list, 1)
        row = QHBoxLayout()
        add = QPushButton("Add files…")
        add.clicked.connect(self._on_add_clicked)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._on_remove_clicked)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout.addLayout(row)
        form = QFormLayout()
        self.extends = QComboBox()
        for entry in bundled_scenarios():
            self.extends.addItem(f"{entry.name} ({entry.id})", entry.id)
        self.extends.setCurrentIndex(max(0, self.extends.findData("siloed")))
        form.addRow("Start from", self.extends)
        self.order = QComboBox()
        self.order.addItems(list(ORDERS))
        form.addRow("Dates", self.order)
        self.columns = QLineEdit()
        self.columns.setPlaceholderText(
            "only if a column is not recognised, e.g. amount=Deal value; created=Opened"
        )
        form.addRow("Columns", self.columns)
        self.customers = QSpinBox()
        self.customers.setRange(0, 10_000_000)
        self.customers.setSpecialValueText("scale with the data")
        self.customers.setGroupSeparatorShown(True)
        form.addRow("Customers today", self.customers)
        self.arr = QDoubleSpinBox()
        self.arr.setRange(0, 1e13)
        self.arr.setDecimals(0)
        self.arr.setGroupSeparatorShown(True)
        self.arr.setPrefix("$")
        self.arr.setSpecialValueText("customers x mean deal")
        form.addRow("ARR today", self.arr)
        layout.addLayout(form)
        self.status = QLabel("")
        self.status.setObjectName("fit_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        layout.addWidget(self.status)
        buttons = QDialogButtonBox()
        self.fit_button = buttons.addButton(
            "Fit", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.fit_button.clicked.connect(self.start_fit)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).clicked.connect(
            self.reject
        )
        layout.addWidget(buttons)
        return page

    def add_files(self, paths: list[str | Path]) -> None:
        known = set(self.files())
        for path in paths:
            if str(path) not in known:
                self.file_list.addItem(str(path))
                known.add(str(path))

    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.add_files([p for p in paths if p])
        event.acceptProposedAction()

    def files(self) -> list[str]:
        return [self.file_list.item(i).text() for i in range(self.file_list.count())]

    def _on_add_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add data files", str(Path.home()), DATA_FILTER
        )
        self.add_files(list(paths))

    def _on_remove_clicked(self) -> None:
        for item in self.file_list.selectedItems():
            self.file_list.takeItem(self.file_list.row(item))

    def options(self) -> dict[str, Any]:
        text = self.columns.text().replace(";", ",")
        items = [t for t in (p.strip() for p in text.split(",")) if t]
        return {
            "paths": self.files(),
            "extends": self.extends.currentData(),
            "columns": parse_column_overrides(items),
            "order": ORDERS[self.order.currentText()],
            "customers": self.customers.value() or None,
            "arr": self.arr.value() or None,
        }

    def start_fit(self) -> None:
        if not self.files():
            self.status.setText("Add an opportunity export or a funnel report first.")
            return
        try:
            options = self.options()
        except ScenarioError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("Fitting and checking by simulation…")
        self.fit_button.setEnabled(False)
        job = FitJob(options, self.check_runs)
        job.signals.done.connect(self._on_fit_done)
        job.signals.failed.connect(self._on_fit_failed)
        self._job = job
        QThreadPool.globalInstance().start(job)

    def _on_fit_failed(self, message: str) -> None:
        self.fit_button.setEnabled(True)
        self.status.setText(message)

    def _on_fit_done(self, result: FitResult) -> None:
        self.fit_button.setEnabled(True)
        self.status.setText("")
        self.result = result
        self._show(result)
        self.pages.setCurrentIndex(1)
        self.fitted.emit(result)

    # ------------------------------------------------------------------ page 2

    def _table_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 7)
        self.table.setObjectName("fit_table")
        self.table.setHorizontalHeaderLabels(
            [
                "Parameter",
                "Value",
                "90 % interval",
                "From",
                "Fitted to",
                "Data",
                "Simulated",
            ]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 3)
        self.checks = QTableWidget(0, 5)
        self.checks.setObjectName("fit_checks")
        self.checks.setHorizontalHeaderLabels(
            ["Figure", "Data", "Model (expected)", "Simulated", "Within tolerance"]
        )
        self.checks.verticalHeader().setVisible(False)
        self.checks.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.checks.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch
        )
        layout.addWidget(self.checks, 2)
        self.kept = QLabel("")
        self.kept.setWordWrap(True)
        layout.addWidget(self.kept)
        buttons = QDialogButtonBox()
        back = buttons.addButton("Back", QDialogButtonBox.ButtonRole.ResetRole)
        back.clicked.connect(lambda: self.pages.setCurrentIndex(0))
        self.accept_button = buttons.addButton(
            "Save and compare with aligned…", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.accept_button.clicked.connect(self._on_accept_clicked)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).clicked.connect(
            self.reject
        )
        layout.addWidget(buttons)
        return page

    def _show(self, result: FitResult) -> None:
        self.summary.setText(
            f"Fitted from {', '.join(result.files)}, extending "
            f"{result.raw['extends']}. Check the values and the simulated figures "
            f"({result.simulated_runs} runs) against your data before you accept."
        )
        self.table.setRowCount(len(result.rows))
        for i, row in enumerate(result.rows):
            check = result.checks.get(row.figure)
            interval = (
                f"{_fmt(row.low)}-{_fmt(row.high)}" if row.low is not None else ""
            )
            cells = [
                row.parameter,
                _fmt(row.value),
                interval,
                row.origin,
                row.figure,
                _fmt(check.data) if check else "",
                _fmt(check.simulated) if check else "",
            ]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 0:
                    item.setToolTip(
                        row.citation()["source"] + "\n" + row.citation()["note"]
                    )
                self.table.setItem(i, j, item)
        self.checks.setRowCount(len(result.checks))
        for i, c in enumerate(result.checks.values()):
            kind, tol = c.tolerance
            within = {True: "yes", False: "NO", None: ""}[c.within]
            shown = f"{tol * 100:g} points" if kind == "abs" else f"{tol:.0%}"
            within += f" (± {shown})"
            simulated = _fmt(c.simulated)
            if c.simulated_se is not None:
                simulated += f" ± {_fmt(c.simulated_se)}"
            for j, text in enumerate(
                [c.figure, _fmt(c.data), _fmt(c.expected), simulated, within]
            ):
                self.checks.setItem(i, j, QTableWidgetItem(text))
        self.kept.setText(
            "Not identified by the data:\n" + "\n".join(f"• {k}" for k in result.kept)
        )

    def _on_accept_clicked(self) -> None:
        start = Path.home() / "my-company.toml"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the fitted scenario", str(start), "Scenario (*.toml)"
        )
        if path:
            self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Write the fitted scenario (atomically) and close the wizard."""
        assert self.result is not None
        target = Path(path)
        if target.suffix.lower() != ".toml":
            target = target.with_suffix(".toml")
        try:
            write_scenario(self.result, target)
        except (OSError, ScenarioError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else None
            self.status.setText(f"Could not save {target}: {reason or exc}")
            self.pages.setCurrentIndex(0)
            return False
        self.saved_path = target
        self.accept()
        return True


def new_from_data(window: Any) -> bool:
    """Run the wizard; on accept open the fitted scenario as the baseline."""
    wizard = FitWizard(window)
    if wizard.exec() != QDialog.DialogCode.Accepted or wizard.saved_path is None:
        return False
    return open_fitted(window, wizard.saved_path)


def open_fitted(window: Any, path: Path) -> bool:
    """The fitted company as the baseline. The alternatives (the bundled
    aligned levers, by default) are changes to the baseline, so they follow it:
    the comparison becomes "your company, with and without the levers"."""
    if not window.open_file(path, 0):
        return False
    window.tabs.setCurrentIndex(0)
    return True


def add_menu_entry(window: Any, menu: QMenu) -> QAction:
    """File > New from my data…, right after New scenario."""
    action = QAction("New from my &data…", window)
    action.setStatusTip("Fit a scenario to your CRM export and funnel report")
    action.triggered.connect(lambda _=False: new_from_data(window))
    actions = menu.actions()
    menu.insertAction(actions[1] if len(actions) > 1 else None, action)
    return action
