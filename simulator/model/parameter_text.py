"""Parameters for people: each one's label, unit and value as written in the
app, the exports and the warnings (``Annual churn 10 %``, ``Initial ARR
$15.08M``), from the schema's fields so that a new parameter needs no change
here. Rates and shares are fractions in files and percentages for people.
"""

from __future__ import annotations

from typing import Any

from simulator.model.schema import Scenario, field_info
from simulator.model.untrusted import list_index

#: Units whose values are fractions, shown and entered as percentages.
PERCENT_UNITS = frozenset({"probability", "share", "share/year", "share/review"})

#: Names that read better spelled out than capitalised.
_SPECIAL_LABELS = {
    "acv_median": "Median deal value (ACV)",
    "acv_sigma": "Deal value spread",
    "within_5min": "Within 5 minutes",
    "within_1h": "5 to 60 minutes",
    "within_1d": "1 to 24 hours",
    "within_1w": "1 to 7 days",
    "initial_arr": "Initial ARR",
    "decay_tau_hours": "Decay time constant",
    "pass_ready": "Pass ready leads",
    "pass_future": "Pass future leads",
    "pass_junk": "Pass junk leads",
    "rate": "Reallocation rate",
    "review_weeks": "Weeks between reviews",
    "metric": "Marketing measured on",
    "min_share": "Minimum budget share",
    "capacity_per_week": "Follow-up capacity",
    "alignment_weekly": "Cost of aligning per week",
    "sales_weekly": "Sales cost per week",
}
_LISTS = {"marketing.sources": "Source", "pipeline.stages": "Stage"}


def human(name: str) -> str:
    """``decay_tau_hours`` -> "Decay time constant", ``annual_churn`` ->
    "Annual churn"."""
    return _SPECIAL_LABELS.get(name, name.replace("_", " ").capitalize())


def unit_of(dotted: str) -> str:
    info = field_info(dotted)
    extra = getattr(info, "json_schema_extra", None)
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def is_percent(dotted: str) -> bool:
    return unit_of(dotted) in PERCENT_UNITS


def percent_unit(unit: str) -> str:
    """How a percentage of this unit is labelled: "%", "% a year"..."""
    return {"share/year": "% a year", "share/review": "% per review"}.get(unit, "%")


def label_of(dotted: str, scenario: Scenario | None = None) -> str:
    """A parameter's label: "Annual churn"; a list item's names the item,
    "Stage discovery: conversion" (by index: its name from ``scenario``)."""
    parts = dotted.split(".")
    for list_path, noun in _LISTS.items():
        lp = list_path.split(".")
        if parts[: len(lp)] == lp and len(parts) > len(lp):
            item = parts[len(lp)]
            index = list_index(item)
            if index is not None and scenario is not None:
                items = _items(scenario, list_path)
                if index < len(items):
                    item = items[index].name
            rest = parts[len(lp) + 1 :]
            if not rest:
                return f"{noun} {item}"
            return f"{noun} {item}: {human(rest[-1]).lower()}"
        if parts == lp:
            return "Lead sources" if noun == "Source" else "Pipeline stages"
    return human(parts[-1])


def _items(scenario: Scenario, list_path: str) -> list[Any]:
    if list_path == "marketing.sources":
        return list(scenario.marketing.sources)
    return list(scenario.pipeline.stages)


def money(value: float) -> str:
    """$12.6M, $35.9K, $420."""
    sign = "-" if value < 0 else ""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit:
            digits = f"{size / limit:.2f}".rstrip("0").rstrip(".")
            return f"{sign}${digits}{suffix}"
    return f"{sign}${size:,.0f}"


#: Parameters whose 0 means "no limit" (the schema says so in their help).
ZERO_MEANS_UNLIMITED = frozenset({"capacity_per_week"})


def format_table(dotted: str, table: dict[str, Any]) -> str:
    """A table-valued parameter on one line: shares of one unit as
    "20 / 60 / 15 / 5 % within 5 minutes / 5 to 60 minutes / ...", other
    tables as "Label value, Label value"; an item's name is left out."""
    fields = {
        k: v for k, v in table.items() if k != "name" and not isinstance(v, dict | list)
    }
    units = {unit_of(f"{dotted}.{k}") for k in fields}
    if fields and len(units) == 1 and units <= PERCENT_UNITS:
        numbers = " / ".join(f"{v * 100:.4g}" for v in fields.values())
        labels = " / ".join(human(k).lower() for k in fields)
        return f"{numbers} {percent_unit(units.pop())} {labels}"
    return ", ".join(
        f"{human(k)} {format_parameter(f'{dotted}.{k}', v)}" for k, v in fields.items()
    )


def format_parameter(dotted: str, value: Any) -> str:
    """A parameter's value in plain numbers with its unit: "12 % a year",
    "$15.08M a year", "420 customers", "on"; never scientific notation."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return format_table(dotted, value)
    if not isinstance(value, int | float):
        return str(value)
    if value == 0 and dotted.split(".")[-1] in ZERO_MEANS_UNLIMITED:
        return "unlimited"
    unit = unit_of(dotted)
    if unit in PERCENT_UNITS:
        text = f"{value * 100:.4g}".replace("e", "E")
        if "E" in text:
            text = f"{value * 100:.6f}".rstrip("0").rstrip(".")
        return f"{text} {percent_unit(unit)}"
    if unit.startswith("$"):
        per = unit[2:]
        tail = {"year": " a year", "week": " a week"}.get(
            per, f" per {per}" if per else ""
        )
        exact = f"${value:,.2f}".replace(".00", "")
        return (money(value) if abs(value) >= 1e4 else exact) + tail
    if isinstance(value, int):
        return f"{value:,}" + (f" {unit}" if unit else "")
    shown = f"{value:,.4f}".rstrip("0").rstrip(".")
    return shown + (f" {unit}" if unit else "")


_SECTIONS = {
    "company": "Company",
    "marketing": "Marketing",
    "handoff": "Hand-off and trust",
    "follow_up": "Follow-up",
    "nurture": "Nurture",
    "pipeline": "Pipeline",
    "deals": "Deals",
    "costs": "Costs",
    "simulation": "Simulation",
}

#: The sections in the editor's order.
SECTION_NAMES = tuple(_SECTIONS.values())


def section_of(dotted: str) -> str:
    """The group a parameter belongs to, as the app's editor names it."""
    head = dotted.split(".")[0]
    return _SECTIONS.get(head, human(head))
