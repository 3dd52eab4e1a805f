"""The parameter editor, built from the scenario schema.

Every field's widget, unit, range and tooltip come from
:mod:`simulator.model.schema` (``Field(ge/le/gt, description=...)`` and the ``unit`` in
``json_schema_extra``), so a parameter added to the engine shows up here with no
GUI change. Groups follow docs/model.md, section 4. An edit is sent to the
:class:`~gui.document.ScenarioDocument` as ``(dotted name, value)``; the editor
never changes a scenario itself, it only shows the document's current one.

Rates and shares are entered and shown as percentages ("12", "12%" and
"12 %" all mean 12 %); the document and files keep fractions. Beside each
field: where its value comes from (cited, assumption, yours; see
:mod:`simulator.model.provenance`) and, for a value outside its plausible range, a
warning (:mod:`simulator.model.plausibility`).
"""

from __future__ import annotations

import html
import math
import typing
from collections.abc import Callable
from typing import Any, Literal

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QToolBox,
    QVBoxLayout,
    QWidget,
)

from gui.document import ScenarioDocument
from simulator.model.errors import ScenarioError
from simulator.model.library import bundled_levers
from simulator.model.parameter_text import (
    PERCENT_UNITS,
    ZERO_MEANS_UNLIMITED,
    format_parameter,
    percent_unit,
)
from simulator.model.parameter_text import human as _human
from simulator.model.plausibility import Concern, input_warnings
from simulator.model.provenance import KIND_LABELS, citation_of, kind_of
from simulator.model.scenario_io import effect_text, is_effect, load_lever
from simulator.model.schema import (
    Company,
    Costs,
    Deals,
    FollowUp,
    Handoff,
    LeadSource,
    Marketing,
    Nurture,
    Reallocation,
    ResponseProfile,
    Scenario,
    Scoring,
    Simulation,
    Stage,
)

HIGHLIGHT = "#FFE8A3"  # differs from the extended scenario
INT32_MAX = 2**31 - 1

#: The editor's groups, in docs/model.md's order: (title, [(model, prefix)], list).
GROUPS: list[tuple[str, list[tuple[type[BaseModel], str]], str | None]] = [
    ("Company", [(Company, "company")], None),
    (
        "Marketing and lead sources",
        [(Marketing, "marketing"), (Reallocation, "marketing.reallocation")],
        "marketing.sources",
    ),
    ("Lead scoring", [(Scoring, "marketing.scoring")], None),
    ("Hand-off and trust", [(Handoff, "handoff")], None),
    (
        "Follow-up",
        [(FollowUp, "follow_up"), (ResponseProfile, "follow_up.response_profile")],
        None,
    ),
    ("Nurture", [(Nurture, "nurture")], None),
    ("Pipeline stages", [], "pipeline.stages"),
    ("Deals", [(Deals, "deals")], None),
    ("Costs", [(Costs, "costs")], None),
    ("Simulation", [(Simulation, "simulation")], None),
]
LIST_MODELS: dict[str, type[BaseModel]] = {
    "marketing.sources": LeadSource,
    "pipeline.stages": Stage,
}
SUM_NOTES = {
    "marketing.sources.share": "Budget shares sum to 1: the other sources are "
    "rescaled in proportion.",
    "quality": "ready + future + junk = 1: the other two are rescaled in proportion.",
    "follow_up.response_profile": "The four response-time shares sum to 1: the "
    "others are rescaled in proportion.",
}


def human(name: str) -> str:
    """``decay_tau_hours -> "Decay time constant"`` (see
    :func:`simulator.model.parameter_text.human`)."""
    return _human(name)


#: The provenance tags' colours: cited, assumption, yours.
TAG_STYLES = {
    "cited": "color: #1b5e20; background: #e3f1e4;",
    "assumption": "color: #555555; background: #eeeeee;",
    "yours": "color: #0d47a1; background: #e1ecfa;",
}
WARNING_STYLE = "color: #8a3b00;"


def parse_percent(text: str) -> float | None:
    """A percentage as typed: "12", "12%", "12 %", " 12.5 % " -> 12.0 / 12.5
    (the number of percent); ``None`` when it is not a number."""
    core = text.strip().replace("\u202f", "").replace("\xa0", "")
    core = core.removesuffix("%").strip().replace(",", "")
    try:
        value = float(core)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class PercentSpinBox(QDoubleSpinBox):
    """A spin box of percentages that also takes "12%" and "12 %" as typed,
    and shows "12" rather than "12.00"."""

    def validate(self, text: str, pos: int) -> Any:
        core = text.strip().removesuffix("%").strip()
        if core in ("", "-", "+", ".", "-.", "+."):
            return QValidator.State.Intermediate, text, pos
        value = parse_percent(text)
        if value is None:
            return QValidator.State.Invalid, text, pos
        if not self.minimum() <= value <= self.maximum():
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos

    def valueFromText(self, text: str) -> float:
        value = parse_percent(text)
        return self.value() if value is None else value

    def textFromValue(self, value: float) -> str:
        return f"{value:.{self.decimals()}f}".rstrip("0").rstrip(".")


def _bounds(info: Any) -> tuple[float | None, float | None, bool]:
    lo = hi = None
    strict = False
    for item in info.metadata:
        if isinstance(item, Ge):
            lo = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, Gt):
            lo, strict = float(item.gt), True  # type: ignore[arg-type]
        elif isinstance(item, Le):
            hi = float(item.le)  # type: ignore[arg-type]
    return lo, hi, strict


def _unit(info: Any) -> str:
    extra = info.json_schema_extra or {}
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def _decimals(unit: str, hi: float | None) -> tuple[int, float]:
    """Decimals and step of a spin box for a unit."""
    if unit in ("probability", "share", "share/year", "share/review"):
        return 4, 0.01
    if unit.startswith("$"):
        if hi is not None and hi >= 1e6:
            return 0, 1000.0 if unit in ("$/year",) else 100.0
        return 2, 1.0
    if unit == "hours":
        return 2, 0.1
    if unit in ("weeks",):
        return 1, 1.0
    return 2, 0.1


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class FieldEditor(QWidget):
    """One parameter's widget: spin box, check box, choice or text."""

    edited = Signal(str, object)  # dotted name, new value
    sourceEdited = Signal(str, str)  # dotted name, the source the user typed

    def __init__(
        self, dotted: str, info: Any, annotation: Any, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.dotted = dotted
        self.info = info
        self.unit = _unit(info)
        self.description = info.description or ""
        #: Shown and entered as a percentage (the value stays a fraction).
        self.percent = self.unit in PERCENT_UNITS and annotation is float
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        layout = QHBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(layout)
        lo, hi, strict = _bounds(info)
        self.bounds = (lo, hi, strict)
        # The tooltip and highlight last shown: re-applying a style sheet makes
        # Qt restyle the widget, which, field after field, slowed every edit.
        self._shown_info: tuple[str, bool] | None = None
        self.kind: str
        if annotation is bool:
            self.kind = "bool"
            # (a check box, spin box, choice or line: Qt's types share no
            # interface for a value)
            self.widget: Any = QCheckBox("on")
            self.widget.toggled.connect(
                lambda v: self.edited.emit(self.dotted, bool(v))
            )
        elif typing.get_origin(annotation) is Literal:
            self.kind = "choice"
            box = QComboBox()
            box.addItems([str(x) for x in typing.get_args(annotation)])
            box.currentTextChanged.connect(lambda t: self.edited.emit(self.dotted, t))
            self.widget = box
        elif annotation is str:
            self.kind = "text"
            line = QLineEdit()
            line.editingFinished.connect(self._text_done)
            self.widget = line
        elif annotation is int and (hi or 0) > INT32_MAX:
            self.kind = "bigint"
            line = QLineEdit()
            line.setPlaceholderText("whole number")
            line.editingFinished.connect(self._bigint_done)
            self.widget = line
        elif annotation is int:
            self.kind = "int"
            spin: Any = QSpinBox()
            spin.setRange(
                int(lo if lo is not None else -INT32_MAX),
                int(min(hi if hi is not None else INT32_MAX, INT32_MAX)),
            )
            spin.setGroupSeparatorShown(True)
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda v: self.edited.emit(self.dotted, int(v)))
            self.widget = spin
        elif self.percent:
            self.kind = "float"
            spin = PercentSpinBox()
            spin.setDecimals(2)
            spin.setSingleStep(1.0)
            spin.setRange(
                (lo if lo is not None else -1e9) * 100 + (0.01 if strict else 0.0),
                (hi if hi is not None else 1e9) * 100,
            )
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(
                lambda v: self.edited.emit(self.dotted, round(float(v) / 100, 10))
            )
            self.widget = spin
        else:
            self.kind = "float"
            spin = QDoubleSpinBox()
            decimals, step = _decimals(self.unit, hi)
            spin.setDecimals(decimals)
            spin.setSingleStep(step)
            low = lo if lo is not None else -1e15
            if strict:
                low += 10.0**-decimals
            spin.setRange(low, hi if hi is not None else 1e15)
            spin.setGroupSeparatorShown(True)
            spin.setKeyboardTracking(False)
            spin.setStepType(QAbstractSpinBox.StepType.DefaultStepType)
            spin.valueChanged.connect(lambda v: self.edited.emit(self.dotted, float(v)))
            self.widget = spin
        layout.addWidget(self.widget, 1)
        self.unit_label: QLabel | None = None
        if self.unit and self.kind in ("int", "float"):
            shown = percent_unit(self.unit) if self.percent else self.unit
            self.unit_label = QLabel(shown)
            self.unit_label.setMinimumWidth(90)
            self.unit_label.setStyleSheet("color: #555555;")
            layout.addWidget(self.unit_label)
        # Where the value comes from, at a glance (cited / assumption / yours).
        self.tag = QLabel()
        self.tag.setObjectName(f"tag:{dotted}")
        self.tag.setMinimumWidth(74)
        self.tag.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tag.hide()
        layout.addWidget(self.tag)
        # A value outside its plausible range: why, and a fix to click.
        self.warning = QLabel()
        self.warning.setObjectName(f"warning:{dotted}")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.warning.setTextFormat(Qt.TextFormat.RichText)
        self.warning.linkActivated.connect(self._fix_clicked)
        self.warning.hide()
        outer.addWidget(self.warning)
        self._fixes: list[tuple[str, Any]] = []
        self.concern: Concern | None = None
        self.provenance = "none"
        self.widget.setObjectName(dotted)
        self.widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        source_action = self.widget.addAction("Where this value comes from…")
        source_action.triggered.connect(self.ask_source)
        self.setObjectName(f"field:{dotted}")
        self._value: Any = None

    def ask_source(self) -> None:
        """Ask where the user's value comes from ("our CRM, 2025")."""
        text, ok = QInputDialog.getText(
            self,
            "Source of this value",
            f"Where does {self.dotted} come from? (your own figure: a report, "
            "your CRM, a finance export…)",
        )
        if ok and text.strip():
            self.sourceEdited.emit(self.dotted, text.strip())

    def _fix_clicked(self, link: str) -> None:
        index = int(link.removeprefix("fix:"))
        if 0 <= index < len(self._fixes):
            self.edited.emit(*self._fixes[index])

    def set_warning(self, concern: Concern | None) -> None:
        """Show (or hide) a plausibility warning under the field."""
        if concern == self.concern:
            return
        self.concern = concern
        if concern is None:
            self.warning.hide()
            self._fixes = []
            return
        self._fixes = [(f.parameter, f.value) for f in concern.fixes]
        links = " ".join(
            f"<a href='fix:{i}'>{html.escape(f.label)}</a>"
            for i, f in enumerate(concern.fixes)
        )
        self.warning.setText(f"⚠ {html.escape(concern.message)}. {links}".strip())
        self.warning.show()

    def set_provenance(self, kind: str, show_tag: bool = True) -> None:
        if kind == self.provenance:
            return
        self.provenance = kind
        label = KIND_LABELS.get(kind, "")
        self.tag.setText(label)
        self.tag.setStyleSheet(TAG_STYLES.get(kind, "") + " padding: 0 4px;")
        self.tag.setVisible(bool(label) and show_tag)

    def _text_done(self) -> None:
        text = self.widget.text().strip()
        if text != self._value:
            self.edited.emit(self.dotted, text)

    def _bigint_done(self) -> None:
        text = self.widget.text().strip().replace(",", "").replace("_", "")
        lo, hi, _ = self.bounds
        try:
            value = int(text)
        except ValueError:
            self.set_value(self._value)
            return
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.set_value(self._value)
            return
        if value != self._value:
            self.edited.emit(self.dotted, value)

    def value(self) -> Any:
        w = self.widget
        if self.kind == "bool":
            return w.isChecked()
        if self.kind == "choice":
            return w.currentText()
        if self.kind == "text":
            return w.text()
        if self.kind == "bigint":
            return int(w.text().replace(",", ""))
        if self.percent:
            return round(w.value() / 100, 10)
        return w.value()

    def set_value(self, value: Any) -> None:
        """Show a value without emitting ``edited``."""
        self._value = value
        w = self.widget
        w.blockSignals(True)
        try:
            if self.kind == "bool":
                w.setChecked(bool(value))
            elif self.kind == "choice":
                w.setCurrentText(str(value))
            elif self.kind in ("text", "bigint"):
                w.setText(str(value))
            elif self.percent:
                w.setValue(value * 100)
            else:
                w.setValue(value)
        finally:
            w.blockSignals(False)

    def set_info(
        self,
        *,
        differs: bool,
        parent_value: Any = None,
        parent_name: str | None = None,
        citation: Any = None,
        lever: str | None = None,
        note: str | None = None,
    ) -> None:
        """Highlight and tooltip: meaning, unit, range, source, what it differs from."""
        lo, hi, strict = self.bounds
        lines = [f"<b>{html.escape(self.dotted)}</b>", self.description]
        if self.percent:
            lines.append(
                f"Unit: {percent_unit(self.unit)} (type 12, 12% or 12 %; files "
                "keep the fraction 0.12)"
            )
        elif self.unit:
            lines.append(f"Unit: {self.unit}")
        if self.dotted.split(".")[-1] in ZERO_MEANS_UNLIMITED:
            lines.append("0 means unlimited")
        if lo is not None or hi is not None:
            low = (
                ""
                if lo is None
                else (
                    f"&gt; {format_value(lo)}" if strict else f"from {format_value(lo)}"
                )
            )
            if self.percent:
                lo = None if lo is None else lo * 100
                hi = None if hi is None else hi * 100
            high = "" if hi is None else f"to {format_value(hi)}"
            lines.append(f"Allowed: {low} {high}".strip())
        if note:
            lines.append(f"<i>{note}</i>")
        if citation is not None and kind_of(citation) == "yours":
            lines.append(f"Yours: {html.escape(citation.source)}")
        elif citation is not None:
            year = f", {citation.year}" if citation.year else ""
            # A citation is the file author's text: shown as written, not as HTML.
            text = (
                f"Source: {html.escape(citation.source)}{year} "
                f"(confidence: {citation.confidence})"
            )
            if citation.note:
                text += f"<br>{html.escape(citation.note)}"
            lines.append(text)
        else:
            lines.append("Source: none given in the scenario file")
        lines.append("Right-click to say where your value comes from.")
        if lever:
            lines.append(f"Set by the lever <b>{html.escape(lever)}</b>")
        if differs:
            lines.append(
                f"<span style='color:#8a3b00'>Differs from "
                f"{html.escape(str(parent_name))}: "
                f"{html.escape(format_parameter(self.dotted, parent_value))}</span>"
            )
        tooltip = "<br>".join(lines)
        if self._shown_info == (tooltip, differs):
            return
        self._shown_info = (tooltip, differs)
        self.setToolTip(tooltip)
        self.widget.setToolTip(tooltip)
        self.setProperty("differs", differs)
        self.widget.setStyleSheet(f"background: {HIGHLIGHT};" if differs else "")


def _model_fields(model: type[BaseModel]) -> list[tuple[str, Any, Any]]:
    hints = typing.get_type_hints(model)
    out = []
    for name, info in model.model_fields.items():
        annotation = hints.get(name, info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            continue
        if typing.get_origin(annotation) is list:
            continue
        out.append((name, info, annotation))
    return out


class ListEditor(QWidget):
    """A table of sources or stages with add, remove and reorder buttons."""

    edited = Signal(str, object)
    sourceEdited = Signal(str, str)
    structure = Signal(str, str, int)  # list path, action (add/remove/up/down), row

    def __init__(self, list_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list_path = list_path
        self.model = LIST_MODELS[list_path]
        self.columns = [(n, i, a) for n, i, a in _model_fields(self.model)]
        self.fields: list[dict[str, FieldEditor]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # The last column says where each row's values come from.
        self.table = QTableWidget(0, len(self.columns) + 1)
        self.table.setObjectName(f"table:{list_path}")
        self.table.setHorizontalHeaderLabels(
            [human(n) for n, _i, _a in self.columns] + ["Values"]
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        item = "source" if list_path == "marketing.sources" else "stage"
        self.add_button = QPushButton(f"Add {item}")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        for button, action in (
            (self.add_button, "add"),
            (self.remove_button, "remove"),
            (self.up_button, "up"),
            (self.down_button, "down"),
        ):
            button.clicked.connect(lambda _=False, a=action: self._action(a))
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.warnings = QLabel()
        self.warnings.setObjectName(f"warnings:{list_path}")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(WARNING_STYLE)
        self.warnings.hide()
        layout.addWidget(self.warnings)

    def show_notes(self, concerns: list[Concern], kinds: list[str]) -> None:
        """Plausibility warnings of the items (under the table) and where each
        row's values come from (its last column)."""
        text = "<br>".join(f"⚠ {html.escape(c.message)}" for c in concerns)
        if text != self.warnings.text():
            self.warnings.setText(text)
        self.warnings.setVisible(bool(concerns))
        column = len(self.columns)
        for row, kind in enumerate(kinds):
            label = self.table.cellWidget(row, column)
            if not isinstance(label, QLabel):
                label = QLabel()
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                label.setObjectName(f"tag:{self.list_path}.{row}")
                self.table.setCellWidget(row, column, label)
            if label.property("kind") != kind:
                label.setProperty("kind", kind)
                label.setText(KIND_LABELS.get(kind, ""))
                label.setStyleSheet(TAG_STYLES.get(kind, ""))

    def _action(self, action: str) -> None:
        row = self.table.currentRow()
        if action != "add" and row < 0:
            row = self.table.rowCount() - 1 if action == "remove" else 0
        self.structure.emit(self.list_path, action, row)

    def show_items(self, items: list[BaseModel]) -> None:
        if len(items) != self.table.rowCount():
            current = self.table.currentRow()
            self.table.setRowCount(0)
            self.fields = []
            self.table.setRowCount(len(items))
            for row in range(len(items)):
                cells = {}
                for col, (name, info, annotation) in enumerate(self.columns):
                    editor = FieldEditor(
                        f"{self.list_path}.{row}.{name}", info, annotation
                    )
                    if editor.kind in ("int", "float"):
                        if editor.unit_label is not None:  # unit in header
                            editor.unit_label.hide()
                        editor.widget.setButtonSymbols(  # narrow cells
                            QAbstractSpinBox.ButtonSymbols.NoButtons
                        )
                    editor.edited.connect(self.edited)
                    editor.sourceEdited.connect(self.sourceEdited)
                    self.table.setCellWidget(row, col, editor)
                    cells[name] = editor
                self.fields.append(cells)
            if 0 <= current < len(items):
                self.table.selectRow(current)
            units = [
                percent_unit(u) if u in PERCENT_UNITS and a is float else u
                for _n, i, a in self.columns
                for u in [_unit(i)]
            ]
            self.table.setHorizontalHeaderLabels(
                [
                    human(n) + (f"\n({u})" if u else "")
                    for (n, _i, _a), u in zip(self.columns, units, strict=True)
                ]
                + ["Values"]
            )
        for row, item in enumerate(items):
            for name, editor in self.fields[row].items():
                editor.set_value(getattr(item, name))
        self.table.resizeColumnsToContents()
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        height = (
            self.table.horizontalHeader().sizeHint().height()
            + rows
            + self.table.horizontalScrollBar().sizeHint().height()
            + 2 * self.table.frameWidth()
            + 2
        )
        self.table.setFixedHeight(height)


class LeverPanel(QWidget):
    """One switch per bundled lever, for the edited scenario."""

    toggled = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555555;")
        layout.addWidget(self.note)
        self.boxes: dict[str, QCheckBox] = {}
        for entry in bundled_levers():
            box = QCheckBox(entry.name)
            box.setObjectName(f"lever:{entry.id}")
            try:
                lever = load_lever(entry.path)
                sets = "<br>".join(
                    html.escape(
                        f"{k} {effect_text(v)}"
                        if is_effect(v)
                        else f"{k} = {format_value(v)}"
                    )
                    for k, v in lever.set.items()
                )
                sources = html.escape("; ".join(lever.sources) or "none given")
                box.setToolTip(
                    f"<b>{html.escape(lever.name)}</b><br>"
                    f"{html.escape(lever.description)}<br><br>"
                    f"Sets:<br>{sets}<br><br>Sources: {sources}"
                )
            except ScenarioError as exc:
                box.setToolTip(str(exc))
                box.setEnabled(False)
            box.toggled.connect(lambda on, lid=entry.id: self.toggled.emit(lid, on))
            layout.addWidget(box)
            self.boxes[entry.id] = box
        layout.addStretch(1)

    def show_document(self, doc: ScenarioDocument) -> None:
        levers = set(doc.levers)
        enabled = doc.extends is not None or doc.baseline is not None
        for lever_id, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(lever_id in levers)
            box.setEnabled(enabled)
            box.blockSignals(False)
        if doc.baseline is not None:
            self.note.setText(
                "Switched on top of the <b>baseline</b>: this scenario is the "
                "baseline's company with these levers and its own changes. "
                "Hover a lever to see what it sets."
            )
        elif enabled:
            self.note.setText(
                f"Switched on top of <b>{doc.extends}</b>, the scenario "
                "this one extends. Hover a lever to see what it sets."
            )
        else:
            self.note.setText(
                "This scenario extends no other, so levers cannot be "
                "switched here; start from a bundled preset instead."
            )


class ParameterEditor(QWidget):
    """All parameters of one scenario, grouped as in docs/model.md."""

    edited = Signal(str, object)
    sourceEdited = Signal(str, str)
    structure = Signal(str, str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, FieldEditor] = {}
        self.lists: dict[str, ListEditor] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.toolbox = QToolBox()
        self.toolbox.setObjectName("parameter_groups")
        bold = QFont()
        bold.setBold(True)
        for title, models, list_path in GROUPS:
            page = QWidget()
            form = QFormLayout(page)
            form.setFieldGrowthPolicy(
                QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow
            )
            for model, prefix in models:
                if model is ResponseProfile:
                    heading = QLabel("Response profile: share of leads first contacted")
                    heading.setFont(bold)
                    form.addRow(heading)
                if model is Reallocation:
                    heading = QLabel("Budget reallocation")
                    heading.setFont(bold)
                    form.addRow(heading)
                for name, info, annotation in _model_fields(model):
                    dotted = f"{prefix}.{name}"
                    field = FieldEditor(dotted, info, annotation)
                    field.edited.connect(self.edited)
                    field.sourceEdited.connect(self.sourceEdited)
                    label = QLabel(human(name))
                    label.setToolTip(dotted)
                    form.addRow(label, field)
                    self.fields[dotted] = field
                if model is Marketing and list_path:
                    self._add_list(form, list_path, bold)
            if not models and list_path:
                self._add_list(form, list_path, bold)
            if title == "Simulation":
                note = QLabel(
                    "A comparison runs with the run settings at the bottom of "
                    "the window; these are the file's own defaults (used by "
                    "the command line and by 'Use the baseline's')."
                )
                note.setWordWrap(True)
                note.setStyleSheet("color: #555555;")
                form.addRow(note)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            self.toolbox.addItem(scroll, title)
        layout.addWidget(self.toolbox)

    def _add_list(self, form: QFormLayout, list_path: str, bold: QFont) -> None:
        title = (
            "Lead sources" if list_path == "marketing.sources" else "Stages, in order"
        )
        heading = QLabel(title)
        heading.setFont(bold)
        form.addRow(heading)
        editor = ListEditor(list_path)
        editor.edited.connect(self.edited)
        editor.sourceEdited.connect(self.sourceEdited)
        editor.structure.connect(self.structure)
        form.addRow(editor)
        self.lists[list_path] = editor

    def field(self, dotted: str) -> FieldEditor:
        """A parameter's editor (list items by index: ``pipeline.stages.0.name``)."""
        if dotted in self.fields:
            return self.fields[dotted]
        for list_path, editor in self.lists.items():
            if dotted.startswith(list_path + "."):
                row, name = dotted[len(list_path) + 1 :].split(".", 1)
                return editor.fields[int(row)][name]
        raise KeyError(dotted)

    def all_fields(self) -> list[FieldEditor]:
        out = list(self.fields.values())
        for editor in self.lists.values():
            for row in editor.fields:
                out.extend(row.values())
        return out

    def show_document(self, doc: ScenarioDocument) -> None:
        """Show a document's values, highlighting those that differ from the
        scenario it extends."""
        scenario = doc.scenario
        data = scenario.model_dump(mode="python")
        parent = doc.parent_scenario()
        parent_data = parent.model_dump(mode="python") if parent else None
        for list_path, editor in self.lists.items():
            items = _dig(scenario, list_path)
            editor.show_items(items)
        concerns = {c.parameter: c for c in input_warnings(scenario)}
        for list_path, editor in self.lists.items():
            prefix = list_path + "."
            kinds = []
            for row in editor.fields:
                found = {kind_of(citation_of(scenario, f.dotted)) for f in row.values()}
                kinds.append(
                    next(
                        (k for k in ("yours", "cited", "assumption") if k in found),
                        "none",
                    )
                )
            editor.show_notes(
                [c for p, c in concerns.items() if p.startswith(prefix)], kinds
            )
        for field in self.all_fields():
            value = _dig_dict(data, field.dotted)
            field.set_value(value)
            differs, parent_value = False, None
            if parent_data is not None:
                try:
                    parent_value = _dig_dict(parent_data, field.dotted)
                    differs = not _same(value, parent_value)
                except (KeyError, IndexError):
                    differs, parent_value = True, "(not there)"
            field.set_info(
                differs=differs,
                parent_value=parent_value,
                parent_name=parent.name if parent else None,
                citation=_citation(scenario, field.dotted),
                lever=doc.lever_of(field.dotted) if doc.levers else None,
                note=_sum_note(field.dotted),
            )
            in_list = any(field.dotted.startswith(p + ".") for p in self.lists)
            field.set_provenance(
                kind_of(_citation(scenario, field.dotted)), show_tag=not in_list
            )
            if not in_list:
                field.set_warning(concerns.get(field.dotted))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return bool(a == b)


def _sum_note(dotted: str) -> str | None:
    parts = dotted.split(".")
    if dotted.startswith("follow_up.response_profile."):
        return SUM_NOTES["follow_up.response_profile"]
    if parts[:2] == ["marketing", "sources"] and len(parts) == 4:
        if parts[3] == "share":
            return SUM_NOTES["marketing.sources.share"]
        if parts[3] in ("ready", "future", "junk"):
            return SUM_NOTES["quality"]
    return None


def _citation(scenario: Scenario, dotted: str) -> Any:
    """The citation of a parameter; list items are cited by index or by name."""
    return citation_of(scenario, dotted)


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def _dig_dict(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[int(part)] if part.isdigit() else data[part]
    return data


EditHandler = Callable[[str, Any], None]
