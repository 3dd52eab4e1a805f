"""Drivers: a tornado analysis of which inputs move a figure most.

Each *driver* is one input moved between a low and a high value while every other
input keeps the scenario's value:

* a **parameter** moves by ``±span`` (default 20 %) of its value, clipped to the
  range the schema allows, or between a published range given by the caller;
* a **lever** is switched off and on: a lever the scenario applies is taken out
  (its parameters go back to what the scenario would have without it), a lever it
  does not apply is added.

The scenario and every variant run in one set of comparisons with common random
numbers (:mod:`simulator.analysis.paired`), so run ``i`` of every variant sees the same
leads and deals and the differences come from the inputs alone. Drivers are ranked
by their *swing*, the absolute difference of the figure's median (or mean) between
the high and the low value; standard errors come from a bootstrap over runs that
resamples run indices jointly for all variants (the pairing is kept).

Default parameters: every numeric scalar of the scenario except the structural
ones (``[simulation]``, ``review_weeks``, ``stale_after_weeks``), the company's
starting size (``initial_customers``, ``initial_arr``: the starting point, not a
driver), and shares that must sum to 1 with others (source budget shares, quality
mixes, the response profile: one cannot move alone). Lists are addressed by item
name (``pipeline.stages.discovery.conversion``). A parameter whose value is 0 has
no ±span range and is skipped unless a range is given;
``follow_up.capacity_per_week = 0`` means unlimited and is skipped too.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from simulator.analysis.bridge import (
    DEFAULT_FIGURE,
    Override,
    with_overrides,
)
from simulator.analysis.paired import (
    DEFAULT_BATCH,
    F,
    bootstrap_se,
    bootstrap_statistic,
    check_figure,
    check_statistic,
    jsonable,
    simulate_variants,
    statistic_rows,
)
from simulator.model.errors import ScenarioError
from simulator.model.library import bundled_levers
from simulator.model.scenario_io import (
    apply_override,
    lever_keys,
    load_lever,
    load_scenario,
)
from simulator.model.schema import (
    PARAMETER_TABLES,
    Scenario,
    field_info,
    limits,
    value_at,
)
from simulator.run.memo import RunMemo
from simulator.run.runner import RunSettings

DEFAULT_SPAN = 0.2
DEFAULT_BOOTSTRAP = 200

#: Parameters never moved by default (see the module docstring).
EXCLUDED_PARAMETERS = frozenset(
    {
        "marketing.reallocation.review_weeks",
        "follow_up.stale_after_weeks",
        "company.initial_customers",
        "company.initial_arr",
    }
)
#: Fields of list items or sub-tables that must sum to 1 with their siblings.
SUM_CONSTRAINED = frozenset({"share", "ready", "future", "junk"})
EXCLUDED_TABLES = ("simulation.", "follow_up.response_profile.")
#: Parameters for which 0 is a switch rather than a quantity.
ZERO_MEANS_OFF = {"follow_up.capacity_per_week": "0 means unlimited capacity"}

ProgressCallback = Callable[[float], None]
StopCallback = Callable[[], bool]


@dataclass(frozen=True)
class Driver:
    """One input and the two variants that move it."""

    id: str  # dotted parameter name or lever id
    label: str  # what it is, for people
    kind: Literal["parameter", "lever"]
    unit: str  # the parameter's unit ("" for a lever)
    base: float | None  # the scenario's value (None for a lever)
    low: float | None
    high: float | None
    low_label: str  # "48" (the unit is in ``unit``) or "without"
    high_label: str
    low_overrides: tuple[Override, ...]  # empty: the scenario itself
    high_overrides: tuple[Override, ...]


@dataclass(frozen=True)
class Skipped:
    id: str
    reason: str


@dataclass(frozen=True)
class DriverEffect:
    """The figure at a driver's low and high values. ``delta_*`` are differences
    from the scenario's own value of the figure; ``swing = |value_high -
    value_low|`` ranks the drivers."""

    driver: Driver
    value_low: float
    value_high: float
    delta_low: float
    delta_high: float
    se_low: float  # Monte Carlo standard error of delta_low (paired)
    se_high: float
    swing: float
    swing_se: float


@dataclass(frozen=True)
class Tornado:
    """A tornado chart's data: ``effects`` ranked, largest swing first. A chart
    draws one horizontal bar per effect from ``base_value + delta_low`` to
    ``base_value + delta_high`` around ``base_value``."""

    scenario_name: str
    figure: str
    unit: str
    statistic: str
    base_value: float
    base_se: float
    effects: tuple[DriverEffect, ...]
    skipped: tuple[Skipped, ...]
    scenarios_simulated: int
    settings: RunSettings
    bootstrap: int
    seconds: float
    notes: tuple[str, ...] = field(default=())
    #: The scenario whose funnel the warm-up built (the one held fixed unless a
    #: comparison's baseline warmed it up, as in the comparison itself).
    warmed_up_as: str = ""

    def to_json(self) -> dict[str, Any]:
        s = self.settings
        effects = []
        for rank, e in enumerate(self.effects, start=1):
            d = e.driver
            effects.append(
                {
                    "rank": rank,
                    "id": d.id,
                    "label": d.label,
                    "kind": d.kind,
                    "unit": d.unit,
                    "base": d.base,
                    "low": d.low,
                    "high": d.high,
                    "low_label": d.low_label,
                    "high_label": d.high_label,
                    "value_low": e.value_low,
                    "value_high": e.value_high,
                    "delta_low": e.delta_low,
                    "delta_high": e.delta_high,
                    "se_low": e.se_low,
                    "se_high": e.se_high,
                    "swing": e.swing,
                    "swing_se": e.swing_se,
                }
            )
        out: dict[str, Any] = jsonable(
            {
                "scenario": self.scenario_name,
                "figure": self.figure,
                "unit": self.unit,
                "statistic": self.statistic,
                "runs": s.runs,
                "weeks": s.horizon_weeks,
                "warmup_weeks": s.warmup_weeks,
                "warmed_up_as": self.warmed_up_as or self.scenario_name,
                "seed": s.seed,
                "base_value": self.base_value,
                "base_se": self.base_se,
                "effects": effects,
                "skipped": [vars(x) for x in self.skipped],
                "scenarios_simulated": self.scenarios_simulated,
                "bootstrap": self.bootstrap,
                "seconds": self.seconds,
                "notes": list(self.notes),
            }
        )
        return out


# --------------------------------------------------------------------- parameters


def _field(dotted: str) -> FieldInfo:
    """The schema field of a dotted parameter (list items addressed by name)."""
    info = field_info(dotted)
    if info is None:
        raise ScenarioError("unknown parameter", parameter=dotted)
    if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
        raise ScenarioError("is a table, not a parameter", parameter=dotted)
    return info


def _unit(info: FieldInfo) -> str:
    extra = info.json_schema_extra
    unit = extra.get("unit", "") if isinstance(extra, dict) else ""
    return str(unit)


def get_value(scenario: Scenario | Mapping[str, Any], dotted: str) -> Any:
    """A dotted parameter's value (list items addressed by name or index)."""
    data = scenario.model_dump() if isinstance(scenario, Scenario) else scenario
    value = value_at(data, dotted, default=_MISSING)
    if value is _MISSING:
        raise ScenarioError("unknown parameter or list item", parameter=dotted)
    return value


_MISSING: Any = object()


def default_parameters(scenario: Scenario) -> list[str]:
    """The numeric scalar parameters a tornado moves by default, in the order of
    the scenario file (see the module docstring for what is left out)."""
    out: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        elif isinstance(node, list):
            for item in node:
                name = item.get("name") if isinstance(item, dict) else None
                if name is None:
                    continue
                for key, value in item.items():
                    if key != "name" and key not in SUM_CONSTRAINED:
                        walk(value, f"{prefix}{name}.{key}.")
        elif isinstance(node, int | float) and not isinstance(node, bool):
            dotted = prefix.rstrip(".")
            if dotted not in EXCLUDED_PARAMETERS and not dotted.startswith(
                EXCLUDED_TABLES
            ):
                out.append(dotted)

    data = scenario.model_dump()
    for table in PARAMETER_TABLES:
        if table != "simulation":  # run settings, not facts about a company
            walk(data[table], f"{table}.")
    return out


def parameter_drivers(
    scenario: Scenario,
    parameters: Sequence[str] | None = None,
    *,
    span: float = DEFAULT_SPAN,
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[list[Driver], list[Skipped]]:
    """Drivers moving each parameter to ``value * (1 ± span)`` clipped to its
    schema range, or to ``ranges[name] = (low, high)`` when given.

    Returns the drivers and the parameters skipped, with why (no range: a value of
    0, or a switch).
    """
    if not 0 < span < 1:
        raise ScenarioError(f"span must be between 0 and 1 (exclusive), got {span:g}")
    # A parameter the scenario gives as a range moves across that range.
    ranges = {
        **{k: (t.low, t.high) for k, t in scenario.uncertainty.items()},
        **(ranges or {}),
    }
    names = list(parameters) if parameters is not None else default_parameters(scenario)
    names += [r for r in ranges if r not in names]
    drivers, skipped = [], []
    for dotted in names:
        info = _field(dotted)
        value = get_value(scenario, dotted)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(
                "is not a number; use --levers for switches", parameter=dotted
            )
        is_int = isinstance(value, int)
        lowest, highest, exclusive = limits(info)
        if dotted in ranges:
            low, high = (float(x) for x in ranges[dotted])
            if not low <= high:
                raise ScenarioError(
                    f"range low {low:g} is above high {high:g}", parameter=dotted
                )
        elif value == 0:
            reason = ZERO_MEANS_OFF.get(dotted, "value is 0, so ±span is no range")
            skipped.append(Skipped(dotted, reason + "; give a range to include it"))
            continue
        else:
            low, high = sorted((value * (1 - span), value * (1 + span)))
            low, high = max(low, lowest), min(high, highest)
            if exclusive and low <= lowest:
                low = value  # cannot go lower
        if is_int:
            low, high = float(math.ceil(low)), float(math.floor(high))
        if low == high == value:
            skipped.append(Skipped(dotted, "cannot move within its allowed range"))
            continue
        typed_low: float = int(low) if is_int else low
        typed_high: float = int(high) if is_int else high
        unit = _unit(info)
        drivers.append(
            Driver(
                id=dotted,
                label=info.description or dotted,
                kind="parameter",
                unit=unit,
                base=float(value),
                low=float(low),
                high=float(high),
                low_label=_show(low),
                high_label=_show(high),
                low_overrides=() if low == value else ((dotted, typed_low),),
                high_overrides=() if high == value else ((dotted, typed_high),),
            )
        )
    return drivers, skipped


def _show(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


# --------------------------------------------------------------------- levers


def default_levers(scenario: Scenario) -> list[str]:
    """The scenario's own levers, then every other bundled lever."""
    own = list(scenario.levers)
    return own + [e.id for e in bundled_levers() if e.id not in own]


def lever_drivers(
    scenario: Scenario,
    levers: Sequence[str] | None = None,
    *,
    parent: Scenario | None = None,
) -> list[Driver]:
    """One driver per lever: "without" and "with" it.

    A lever the scenario applies is taken out: each parameter it sets goes back to
    the value of ``parent`` (by default the scenario it ``extends``) with the
    scenario's other levers applied in their order; a parameter the scenario sets
    itself to another value is left alone (the lever does not act there).
    """
    ids = list(levers) if levers is not None else default_levers(scenario)
    current = scenario.model_dump()
    without_base: dict[str, Any] | None = None
    drivers = []
    for lever_id in ids:
        lever = load_lever(lever_id)
        low: tuple[Override, ...] = ()
        high: tuple[Override, ...] = ()
        if lever_id in scenario.levers:
            if without_base is None:
                if parent is None:
                    if not scenario.extends:
                        raise ScenarioError(
                            f"cannot take lever {lever_id!r} out of "
                            f"{scenario.name!r}: it extends no scenario"
                        )
                    parent = load_scenario(scenario.extends)
                without_base = parent.model_dump()
            raw = _with_levers(
                without_base, [x for x in scenario.levers if x != lever_id]
            )
            # Where the lever acts (the scenario does not set its own value
            # there), taking it out gives back the value it replaced.
            with_it = _with_levers(raw, [lever_id])
            low = tuple(
                (dotted, get_value(raw, dotted))
                for dotted in lever_keys(lever, raw)
                if get_value(current, dotted) == get_value(with_it, dotted)
            )
        else:
            high = tuple(lever.set.items())
        drivers.append(
            Driver(
                id=lever_id,
                label=lever.name,
                kind="lever",
                unit="",
                base=None,
                low=None,
                high=None,
                low_label="without",
                high_label="with",
                low_overrides=low,
                high_overrides=high,
            )
        )
    return drivers


def _with_levers(raw: Mapping[str, Any], lever_ids: Sequence[str]) -> dict[str, Any]:
    out = copy.deepcopy(dict(raw))
    for lever_id in lever_ids:
        for dotted, value in load_lever(lever_id).set.items():
            apply_override(out, dotted, value, origin=f"lever {lever_id}")
    return out


# --------------------------------------------------------------------- the tornado


def tornado(
    scenario: Scenario,
    drivers: Sequence[Driver],
    *,
    figure: str = DEFAULT_FIGURE,
    statistic: str = "median",
    settings: RunSettings | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    skipped: Sequence[Skipped] = (),
    threads: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
    warm_up: Scenario | None = None,
    memo: RunMemo | None = None,
) -> Tornado:
    """Simulate every driver's low and high variant with common random numbers
    and rank the drivers by swing.

    Parameters
    ----------
    scenario
        The scenario held fixed; it warms up every comparison unless
        ``warm_up`` is given.
    warm_up
        The scenario whose funnel the warm-up builds, as a comparison's
        baseline does for its alternatives: the drivers of an alternative then
        start from the same funnel, and its value is the comparison's.
    drivers
        From :func:`parameter_drivers` and/or :func:`lever_drivers`.
    figure, statistic
        A per-run figure and ``"median"`` or ``"mean"`` over runs.
    settings
        Default: the scenario's ``[simulation]``, as a comparison uses. Cost
        grows with ``runs x weeks x (2 x drivers + 1)``.
    bootstrap
        Resamples of the runs for the standard errors (0: none).
    skipped
        Passed through to the result, for display.
    threads, batch_size, progress, should_stop, memo
        See :func:`simulator.analysis.paired.simulate_variants`.
    """
    started = time.perf_counter()
    settings = settings or RunSettings.from_scenario(scenario)
    unit = check_figure(figure, settings)
    stat = check_statistic(statistic)
    if not drivers:
        raise ScenarioError("no parameter or lever to move")
    rows: dict[tuple[Override, ...], int] = {(): 0}
    variants: list[Scenario] = []
    for d in drivers:
        for overrides in (d.low_overrides, d.high_overrides):
            key = tuple((k, repr(v)) for k, v in overrides)
            if key in rows:
                continue
            rows[key] = len(variants) + 1
            variants.append(
                with_overrides(
                    scenario,
                    overrides,
                    name=f"{scenario.name} ({d.id})",
                    origin=f"sensitivity {d.id}",
                )
            )
    # With a warm-up of another scenario, that scenario's own row comes first
    # and is dropped: row 0 is then the scenario, as without one.
    base, simulated, first = (
        (scenario, list(variants), 0)
        if warm_up is None
        else (warm_up, [scenario, *variants], 1)
    )
    runs = simulate_variants(
        base,
        simulated,
        settings=settings,
        figures=[figure],
        threads=threads,
        batch_size=batch_size,
        progress=progress,
        should_stop=should_stop,
        memo=memo,
    )
    data = runs.figures[figure][first:]
    v = statistic_rows(data, stat)
    boot = (
        bootstrap_statistic(data, stat, resamples=bootstrap, seed=settings.seed)
        if bootstrap > 1
        else np.empty((0, data.shape[0]))
    )

    def se(a: int, b: int) -> float:
        if boot.shape[0] < 2:
            return math.nan
        diff: F = (boot[:, a] - boot[:, b])[:, None]
        return float(bootstrap_se(diff)[0])

    effects = []
    for d in drivers:
        lo = rows[tuple((k, repr(x)) for k, x in d.low_overrides)]
        hi = rows[tuple((k, repr(x)) for k, x in d.high_overrides)]
        effects.append(
            DriverEffect(
                driver=d,
                value_low=float(v[lo]),
                value_high=float(v[hi]),
                delta_low=float(v[lo] - v[0]),
                delta_high=float(v[hi] - v[0]),
                se_low=se(lo, 0) if lo else 0.0,
                se_high=se(hi, 0) if hi else 0.0,
                swing=float(abs(v[hi] - v[lo])),
                swing_se=se(hi, lo) if hi != lo else 0.0,
            )
        )
    # Largest swing first; an undefined swing (NaN) last; ties keep input order.
    effects.sort(key=lambda e: -e.swing if math.isfinite(e.swing) else math.inf)
    notes: list[str] = []
    return Tornado(
        scenario_name=scenario.name,
        figure=figure,
        unit=unit,
        statistic=stat,
        base_value=float(v[0]),
        base_se=float(bootstrap_se(boot[:, :1])[0]) if boot.shape[0] > 1 else math.nan,
        effects=tuple(effects),
        skipped=tuple(skipped),
        scenarios_simulated=len(variants) + (1 if warm_up is None else 2),
        settings=settings,
        bootstrap=bootstrap if bootstrap > 1 else 0,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
        warmed_up_as=(warm_up or scenario).name,
    )
