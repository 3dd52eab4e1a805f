"""Ranges of uncertain values, edited in the app.

A parameter nobody has measured can be given as a range: each run draws it
between *low* and *high*, most often near *most likely* (a triangular
distribution), and the bands then show that uncertainty too. In a file that is
``param = {low = ..., mode = ..., high = ...}``; here it is a table with one row
per range and a choice of parameter to add one for.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.wording import PERCENT_UNITS, parameter_label, parameter_unit
from simulator.model.schema import PARAMETER_TABLES, Scenario
from simulator.model.uncertainty import range_problem

COLUMNS = ("Parameter", "Low", "Likely", "High", "")


def rangeable_parameters(scenario: Scenario) -> list[str]:
    """Dotted names (list items by index) of the parameters that can be ranges:
    continuous ones outside mixes and fixed starting points."""
    found: list[str] = []
    probe = {"low": 0.0, "mode": 0.0, "high": 0.0}

    def walk(model: BaseModel, prefix: str) -> None:
        hints = typing.get_type_hints(type(model))
        for name in type(model).model_fields:
            value = getattr(model, name)
            dotted = f"{prefix}{name}"
            if isinstance(value, BaseModel):
                walk(value, dotted + ".")
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, BaseModel):
                        walk(item, f"{dotted}.{index}.")
            elif hints.get(name) is float and range_problem(dotted, probe) is None:
                found.append(dotted)

    for table in PARAMETER_TABLES:
        section = getattr(scenario, table)
        if isinstance(section, BaseModel):
            walk(section, f"{table}.")
    return found


def _scale(unit: str) -> float:
    """Percent units are shown in percent."""
    return 100.0 if unit in PERCENT_UNITS else 1.0


class RangesEditor(QWidget):
    """The scenario's ranges: edit low / most likely / high, add, remove."""

    rangeSet = Signal(str, float, float, float)  # dotted, low, mode, high
    rangeCleared = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scenario: Scenario | None = None
        self.rows: list[str] = []
        layout = QVBoxLayout(self)
        note = QLabel(
            "A value nobody has measured can be a range: each run draws it "
            "between low and high, most often near the most likely value, and "
            "the bands show that uncertainty too. Shares and probabilities in %."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")
        layout.addWidget(note)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("ranges_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(column, 60)
        header.setSectionResizeMode(
            len(COLUMNS) - 1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.verticalHeader().hide()
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Add for:"))
        self.choice = QComboBox()
        self.choice.setObjectName("range_choice")
        self.choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.choice.setMinimumContentsLength(8)
        row.addWidget(self.choice, 1)
        self.add_button = QPushButton("Add range")
        self.add_button.clicked.connect(self._add)
        row.addWidget(self.add_button)
        layout.addLayout(row)

    def show_scenario(self, scenario: Scenario) -> None:
        self.scenario = scenario
        ranges = scenario.uncertainty
        self.rows = sorted(ranges)
        self.table.setRowCount(len(self.rows))
        for r, dotted in enumerate(self.rows):
            tri = ranges[dotted]
            unit = parameter_unit(dotted)
            label = parameter_label(dotted, scenario)
            item = QTableWidgetItem(label + (f" ({unit})" if unit else ""))
            item.setToolTip(f"{item.text()}<br><code>{dotted}</code>")
            self.table.setItem(r, 0, item)
            for c, value in enumerate((tri.low, tri.mode, tri.high), start=1):
                spin = QDoubleSpinBox()
                spin.setObjectName(f"range:{dotted}:{c}")
                spin.setDecimals(2 if _scale(unit) > 1 else 4)
                spin.setRange(-1e15, 1e15)
                spin.setKeyboardTracking(False)
                spin.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
                spin.setMinimumWidth(0)
                spin.setValue(value * _scale(unit))
                spin.valueChanged.connect(lambda _v, d=dotted: self._edited(d))
                self.table.setCellWidget(r, c, spin)
            remove = QPushButton("✕")
            remove.setToolTip(
                "Remove the range: back to a single value, the most likely one"
            )
            remove.clicked.connect(lambda _=False, d=dotted: self.rangeCleared.emit(d))
            self.table.setCellWidget(r, len(COLUMNS) - 1, remove)
        current = self.choice.currentData()
        self.choice.clear()
        for dotted in rangeable_parameters(scenario):
            if dotted not in ranges:
                self.choice.addItem(parameter_label(dotted, scenario), dotted)
        index = self.choice.findData(current)
        self.choice.setCurrentIndex(max(index, 0))

    def values(self, dotted: str) -> tuple[float, float, float]:
        r = self.rows.index(dotted)
        scale = _scale(parameter_unit(dotted))
        spins: list[Any] = [self.table.cellWidget(r, c) for c in (1, 2, 3)]
        low, mode, high = (spin.value() / scale for spin in spins)
        return low, mode, high

    def _edited(self, dotted: str) -> None:
        self.rangeSet.emit(dotted, *self.values(dotted))

    def _add(self) -> None:
        dotted = self.choice.currentData()
        if not dotted or self.scenario is None:
            return
        from simulator.analysis.drivers import get_value

        value = float(get_value(self.scenario, dotted))
        # A first guess of +-20 % that the user then narrows or widens.
        low, high = sorted((value * 0.8, value * 1.2))
        if parameter_unit(dotted) in PERCENT_UNITS:
            low, high = max(low, 0.0), min(high, 1.0)
        self.rangeSet.emit(dotted, low, value, high)


__all__ = ["RangesEditor", "rangeable_parameters"]
