"""Parameters and edits in words: "Annual churn 10 % → 12 %", not
``Set company.annual_churn = 0.12``.

The label of a parameter is the editor's (:func:`gui.editor.human`), its unit the
schema's; shares and probabilities read as percentages, dollars scaled as on the
cards ($12.6M).
"""

from __future__ import annotations

import math
from typing import Any

from simulator.errors import ScenarioError
from simulator.report_text import fmt_money

#: Units whose values are fractions of one, shown as percentages.
PERCENT_UNITS = ("probability", "share", "share/year", "share/review")
#: Lists whose items are named in labels by their ``name``.
LIST_PATHS = ("marketing.sources", "pipeline.stages")


def parameter_unit(dotted: str) -> str:
    """The schema's unit of a parameter ("" when it has none or is unknown)."""
    from simulator.drivers import _field, _unit

    try:
        return _unit(_field(dotted))
    except ScenarioError:
        return ""


def parameter_label(dotted: str, scenario: Any = None) -> str:
    """``company.annual_churn -> "Annual churn"``; a list item is named:
    ``marketing.sources.0.share -> "paid search: share"``."""
    from gui.editor import human

    parts = dotted.split(".")
    for list_path in LIST_PATHS:
        lp = list_path.split(".")
        if parts[: len(lp)] == lp and len(parts) > len(lp) + 1:
            item = parts[len(lp)]
            if item.isdigit() and scenario is not None:
                items = scenario.marketing.sources if lp[0] == "marketing" else None
                items = items if items is not None else scenario.pipeline.stages
                if int(item) < len(items):
                    item = items[int(item)].name
            what = human(parts[-1])
            return f"{item.replace('_', ' ')}: {what[:1].lower()}{what[1:]}"
    return human(parts[-1])


def format_parameter(value: Any, unit: str) -> str:
    """A parameter's value with its unit, as a person reads it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict) and {"low", "mode", "high"} <= set(value):
        return (
            f"{format_parameter(value['low'], unit)} to "
            f"{format_parameter(value['high'], unit)} "
            f"(most likely {format_parameter(value['mode'], unit)})"
        )
    if not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if unit in PERCENT_UNITS:
        return f"{value * 100:.4g} %"
    if unit.startswith("$"):
        rest = unit[1:].lstrip("/")
        return fmt_money(float(value)) + (f" per {rest}" if rest else "")
    number = f"{value:,}" if isinstance(value, int) else f"{value:,.6g}"
    return f"{number} {unit}".rstrip() if unit else number


def edit_text(dotted: str, before: Any, after: Any, scenario: Any = None) -> str:
    """An undo step's text: ``"Annual churn 10 % → 12 %"``."""
    unit = parameter_unit(dotted)
    label = parameter_label(dotted, scenario)
    if before is None:
        return f"{label} {format_parameter(after, unit)}"
    return f"{label} {format_parameter(before, unit)} → {format_parameter(after, unit)}"


__all__ = ["edit_text", "format_parameter", "parameter_label", "parameter_unit"]
