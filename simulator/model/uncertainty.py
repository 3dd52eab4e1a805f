"""Parameters we are unsure of: a range instead of a number.

In a scenario file any continuous parameter may be written as a triangular range,
``annual_churn = {low = 0.08, mode = 0.10, high = 0.14}``. The scenario then holds
the mode as the parameter's value (so every view that shows one number shows the
most likely one) and the range in ``Scenario.uncertainty``; the engine draws the
value once per run, so percentile bands include how unsure we are of the inputs,
not only the luck of individual leads.

Run ``i`` draws a given parameter from the same uniform number in every scenario
of a comparison (its stream is keyed by the parameter's name), so ranges keep
common random numbers intact.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

RANGE_KEYS = frozenset({"low", "mode", "high"})
#: Parameters that cannot be ranges: they are parts of a mix that must sum to 1,
#: or the starting point every growth figure is measured from.
FIXED_ONLY_SUFFIXES = (".share", ".ready", ".future", ".junk")
FIXED_ONLY_PREFIXES = ("follow_up.response_profile.", "simulation.", "company.initial_")

Uniforms = Callable[[str], NDArray[np.float64]]


def is_range(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == RANGE_KEYS


def extract_ranges(raw: dict[str, Any], tables: tuple[str, ...]) -> dict[str, Any]:
    """Replace every inline range in ``raw`` by its mode; return the ranges by
    dotted name (unvalidated)."""
    found: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in list(node.items()):
                dotted = f"{prefix}{key}"
                if is_range(value):
                    found[dotted] = dict(value)
                    node[key] = value["mode"]
                else:
                    walk(value, dotted + ".")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{prefix}{index}.")

    for table in tables:
        walk(raw.get(table), f"{table}.")
    return found


def range_problem(dotted: str, value: Any) -> str | None:
    """Why a range cannot be used, or None when it can (before the field's own
    limits are checked)."""
    if dotted.endswith(FIXED_ONLY_SUFFIXES) or dotted.startswith(FIXED_ONLY_PREFIXES):
        return "cannot be a range (it is part of a mix or a fixed starting point)"
    numbers = [value.get(k) for k in ("low", "mode", "high")]
    if not all(
        isinstance(x, int | float) and not isinstance(x, bool) and np.isfinite(x)
        for x in numbers
    ):
        return "a range needs finite numbers low, mode and high"
    low, mode, high = numbers
    if not low <= mode <= high:
        return f"a range needs low <= mode <= high, got {low:g}, {mode:g}, {high:g}"
    return None


def draw_triangular(
    low: float, mode: float, high: float, uniform: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Triangular variates by inverse CDF, one per uniform (monotone in the
    uniform, so scenarios sharing the uniforms move together)."""
    if high == low:
        return np.full(uniform.shape, float(low))
    width = high - low
    cut = (mode - low) / width
    below = low + np.sqrt(uniform * width * (mode - low))
    above = high - np.sqrt((1 - uniform) * width * (high - mode))
    result: NDArray[np.float64] = np.where(uniform < cut, below, above)
    return result


def parameter_stream_key(dotted: str) -> int:
    """A stable number naming a parameter's stream (the same in every process)."""
    return zlib.crc32(dotted.encode("utf-8"))
