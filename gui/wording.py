"""Edits in words, for undo and redo: "Annual churn 10 % → 12 %", not
``Set company.annual_churn = 0.12``.

Labels, units and values are :mod:`simulator.model.parameter_text`'s (the editor's,
the exports' and the warnings'); this adds ranges and the edit's form.
"""

from __future__ import annotations

from typing import Any

from simulator.model.parameter_text import (
    PERCENT_UNITS,
    format_parameter,
    label_of,
    unit_of,
)

__all__ = [
    "PERCENT_UNITS",
    "edit_text",
    "format_value",
    "parameter_label",
    "parameter_unit",
]


def parameter_unit(dotted: str) -> str:
    """The schema's unit of a parameter ("" when it has none or is unknown)."""
    return unit_of(dotted)


def parameter_label(dotted: str, scenario: Any = None) -> str:
    """``company.annual_churn -> "Annual churn"``; a list item is named:
    ``marketing.sources.0.share -> "Source paid_search: share"``."""
    return label_of(dotted, scenario)


def format_value(dotted: str, value: Any) -> str:
    """A parameter's value, or its range, as a person reads it."""
    if isinstance(value, dict) and {"low", "mode", "high"} <= set(value):
        return (
            f"{format_parameter(dotted, value['low'])} to "
            f"{format_parameter(dotted, value['high'])} "
            f"(most likely {format_parameter(dotted, value['mode'])})"
        )
    return format_parameter(dotted, value)


def edit_text(dotted: str, before: Any, after: Any, scenario: Any = None) -> str:
    """An undo step's text: ``"Annual churn 10 % a year → 12 % a year"``."""
    label = parameter_label(dotted, scenario)
    if before is None:
        return f"{label} {format_value(dotted, after)}"
    return f"{label} {format_value(dotted, before)} → {format_value(dotted, after)}"
