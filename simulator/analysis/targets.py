"""Targets: how likely a scenario reaches a number, and by when (no Qt).

A target is a value of one per-run figure (``arr_growth_y1 = 0.15``). For each
scenario we report the share of runs that reach it, with its binomial standard
error ``sqrt(p (1 - p) / n)``, and, from the weekly trajectories, the first week
in which at least 50 % (90 %) of runs are at or past it. For ARR figures the
weekly series is ARR itself; for totals it is the running total of the weekly
flow, so "week 30" means the total to date first reaches the target in week 30.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.run.figures import LOWER_IS_BETTER

#: Probabilities at which the reach week is reported.
REACH_LEVELS = (0.5, 0.9)


@dataclass(frozen=True)
class TargetProbability:
    """Share of runs reaching a target, its standard error and the runs counted
    (runs where the figure is undefined, a CAC without a deal, are left out)."""

    p: float
    se: float
    n: int
    lower_is_better: bool = False

    @property
    def verb(self) -> str:
        return "at or below" if self.lower_is_better else "reached"


def reaches(values: Any, target: float, *, lower_is_better: bool = False) -> Any:
    """Boolean array: which values reach the target (NaN never does)."""
    data = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return data <= target if lower_is_better else data >= target


def target_probability(
    values: Any, target: float, *, lower_is_better: bool = False
) -> TargetProbability:
    """P(value reaches ``target``) over the defined values, with its binomial
    standard error."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    n = int(data.size)
    if n == 0:
        return TargetProbability(math.nan, math.nan, 0, lower_is_better)
    p = float(reaches(data, target, lower_is_better=lower_is_better).mean())
    return TargetProbability(p, math.sqrt(p * (1 - p) / n), n, lower_is_better)


def figure_probability(result: Any, figure: str, target: float) -> TargetProbability:
    return target_probability(
        result.figures[figure], target, lower_is_better=figure in LOWER_IS_BETTER
    )


def reach_weeks(
    weekly: Any,
    level: float,
    *,
    levels: Sequence[float] = REACH_LEVELS,
    lower_is_better: bool = False,
) -> dict[float, int | None]:
    """First week (0-based) in which the share of runs at or past ``level`` is at
    least each of ``levels``; ``None`` when that never happens in the horizon.

    ``weekly`` is a ``(runs, weeks)`` array, e.g. ``RunResult.weekly["arr"]``.
    """
    data = np.asarray(weekly, dtype=float)
    share = reaches(data, level, lower_is_better=lower_is_better).mean(axis=0)
    out: dict[float, int | None] = {}
    for wanted in levels:
        hits = np.flatnonzero(share >= wanted)
        out[wanted] = int(hits[0]) if hits.size else None
    return out


def weekly_for_figure(result: Any, figure: str, target: float) -> tuple[Any, float]:
    """The ``(runs, weeks)`` trajectory that a figure's target is read on, and the
    target's level on it; ``(None, nan)`` when the figure has no such trajectory.

    ``arr_end`` is read on ARR; ``arr_growth_y1`` on ARR too, at the level
    ``initial_arr * (1 + target)``; a ``total_<flow>`` on the running total of the
    weekly flow.
    """
    weekly = result.weekly
    if figure == "arr_end" and "arr" in weekly:
        return weekly["arr"], float(target)
    if figure == "arr_growth_y1" and "arr" in weekly:
        initial = float(result.scenario.company.initial_arr)
        return weekly["arr"], initial * (1.0 + float(target))
    if figure.startswith("total_"):
        flow = figure.removeprefix("total_")
        if flow in weekly:
            return np.cumsum(np.asarray(weekly[flow], dtype=float), axis=1), float(
                target
            )
    return None, math.nan


def figure_reach_weeks(
    result: Any, figure: str, target: float
) -> dict[float, int | None] | None:
    """Reach weeks of a figure's target (see :func:`weekly_for_figure`), or
    ``None`` when the figure has no weekly trajectory (CAC)."""
    data, level = weekly_for_figure(result, figure, target)
    if data is None:
        return None
    return reach_weeks(data, level, lower_is_better=figure in LOWER_IS_BETTER)


def default_target(results: Sequence[Any], figure: str) -> float:
    """A first target worth discussing: halfway between the baseline's median and
    the best alternative's median (the alternative's median when alone)."""
    medians = [
        float(np.nanmedian(np.asarray(r.figures[figure], dtype=float)))
        for r in results
        if np.isfinite(np.asarray(r.figures[figure], dtype=float)).any()
    ]
    if not medians:
        return 0.0
    if len(medians) == 1:
        return medians[0]
    best = min(medians[1:]) if figure in LOWER_IS_BETTER else max(medians[1:])
    return (medians[0] + best) / 2


__all__ = [
    "LOWER_IS_BETTER",
    "REACH_LEVELS",
    "TargetProbability",
    "default_target",
    "figure_probability",
    "figure_reach_weeks",
    "reach_weeks",
    "target_probability",
    "weekly_for_figure",
]
