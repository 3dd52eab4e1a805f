"""A funnel report (one row per week or month, counts of leads, MQLs, accepted,
opportunities, won) and the fit of the model's unobserved parameters to it.

Each ratio between two counts the report has is matched by one parameter, the
one of the last step between them (the steps skipped keep the extended
scenario's values): MQLs per lead by the scoring pass rates (scaled together),
accepted per MQL by ``handoff.ignore_base``, opportunities per accepted lead by
the qualification chances (scaled together), won per opportunity by the stage
conversions (scaled together) unless an opportunity export gave them. The
parameters are solved on the model's expected funnel
(:mod:`simulator.analysis.fitting.expectation`), the trust loop in force, in a
few sweeps
because the steps feed back on each other.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.analysis.fitting.estimate import F, bootstrap_interval
from simulator.analysis.fitting.expectation import (
    expected_funnel,
    expected_of,
    validate_raw,
)
from simulator.analysis.fitting.provenance import Check, FitRow, get_dotted
from simulator.analysis.fitting.table import (
    DateOrder,
    Table,
    date_order,
    dates,
    numbers,
)
from simulator.model.schema import Scenario

STEPS = ("leads", "mqls", "accepted", "opportunities", "won")
STEP_LABELS = {
    "leads": "leads",
    "mqls": "MQLs",
    "accepted": "sales-accepted leads",
    "opportunities": "opportunities (sales-qualified)",
    "won": "won deals",
}
#: The model series a report's count is compared with.
MODEL_SERIES = {
    "leads": "leads",
    "mqls": "mqls",
    "accepted": "accepted",
    "opportunities": "qualified",
    "won": "won",
}
RESPONSE_BUCKETS = ("within_5min", "within_1h", "within_1d", "within_1w")

FUNNEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "period": ("Period", "Month", "Week", "Week starting", "Month starting", "Date"),
    "source": ("Source", "Lead source", "Original source", "Channel"),
    "leads": ("Leads", "New leads", "Leads created", "Inquiries", "Contacts created"),
    "mqls": ("MQLs", "MQL", "Marketing qualified leads", "Marketing qualified"),
    "accepted": (
        "Accepted",
        "Sales accepted",
        "Sales accepted leads",
        "SALs",
        "SAL",
        "Accepted leads",
    ),
    "opportunities": (
        "Opportunities",
        "Opportunities created",
        "New opportunities",
        "SQLs",
        "SQL",
        "Sales qualified leads",
        "Opps",
        "Deals created",
    ),
    "won": ("Won", "Closed won", "Deals won", "Wins", "New customers"),
    "spend": ("Spend", "Marketing spend", "Cost"),
    "within_5min": (
        "Within 5 min",
        "Under 5 min",
        "<5 min",
        "0-5 min",
        "Responded within 5 min",
    ),
    "within_1h": ("5-60 min", "5 min-1 h", "Within 1 h", "Within 1 hour", "<1 h"),
    "within_1d": ("1-24 h", "1 h-1 day", "Within 1 day", "Within 24 h", "<24 h"),
    "within_1w": (
        "1-7 days",
        "1 day-1 week",
        "Within 1 week",
        "Within 7 days",
        ">24 h",
    ),
}


def counts_found(table: Table) -> int:
    return sum(s in table.roles for s in STEPS)


def is_funnel_report(table: Table) -> bool:
    return "period" in table.roles and counts_found(table) > 0


@dataclass
class FunnelReport:
    file: str
    periods: int
    weeks: float
    period_kind: str  # "week" or "month"
    totals: dict[str, float]  # step -> total count over the report
    columns: dict[str, str]  # role -> header
    per_period: dict[str, F] = field(default_factory=dict)
    source_leads: dict[str, float] = field(default_factory=dict)
    source_spend: dict[str, float] = field(default_factory=dict)
    response: dict[str, float] = field(default_factory=dict)
    spend: float | None = None

    @property
    def steps(self) -> list[str]:
        return [s for s in STEPS if s in self.totals]

    def per_week(self, step: str) -> float:
        return self.totals[step] / self.weeks


def read_funnel(table: Table, *, order: DateOrder | None) -> FunnelReport:
    r = table.roles
    period_dates = dates(
        table, r["period"], date_order(table, [r["period"]], order), what="the period"
    )
    if any(d is None for d in period_dates):
        i = period_dates.index(None)
        raise table.error(
            f"row {i + 2} has no period (a date or a month like 2025-03)", r["period"]
        )
    distinct = sorted({d for d in period_dates if d is not None})
    if len(distinct) < 2:
        raise table.error("needs at least two periods (weeks or months)", r["period"])
    gap = float(np.median(np.diff([d.toordinal() for d in distinct])))
    kind = "week" if gap < 15 else "month"
    period_weeks = 1.0 if kind == "week" else 52 / 12
    counts: dict[str, list[float]] = {}
    for role in (*STEPS, "spend", *RESPONSE_BUCKETS):
        if role in r:
            values = numbers(table, r[role], what=f"the {role} count")
            for i, v in enumerate(values):
                if v is not None and v < 0:
                    raise table.error(
                        f"row {i + 2} holds {v:g}; counts cannot be negative", r[role]
                    )
            counts[role] = [0.0 if v is None else v for v in values]
    steps = [s for s in STEPS if s in counts]
    if len(steps) < 1:
        raise table.error(
            "no count columns found: needs some of leads, mqls, accepted, "
            "opportunities, won"
        )
    index = {d: i for i, d in enumerate(distinct)}
    per_period = {
        s: np.bincount(
            [index[d] for d in period_dates if d is not None],
            weights=counts[s],
            minlength=len(distinct),
        ).astype(np.float64)
        for s in steps
    }
    totals = {s: float(per_period[s].sum()) for s in steps}
    for s in steps:
        if totals[s] <= 0:
            raise table.error("every count is zero or blank", r[s])
    report = FunnelReport(
        file=table.name,
        periods=len(distinct),
        weeks=len(distinct) * period_weeks,
        period_kind=kind,
        totals=totals,
        columns={
            k: v for k, v in r.items() if k in (*STEPS, "period", "source", "spend")
        },
        per_period=per_period,
    )
    if "source" in r and "leads" in counts:
        for name, leads in zip(
            table.role("source") or [], counts["leads"], strict=True
        ):
            key = name.strip() or "unknown"
            report.source_leads[key] = report.source_leads.get(key, 0.0) + leads
        if "spend" in counts:
            for name, spend in zip(
                table.role("source") or [], counts["spend"], strict=True
            ):
                key = name.strip() or "unknown"
                report.source_spend[key] = report.source_spend.get(key, 0.0) + spend
    if any(b in counts for b in RESPONSE_BUCKETS):
        report.response = {
            b: float(sum(counts.get(b, [0.0]))) for b in RESPONSE_BUCKETS
        }
        report.columns.update({b: r[b] for b in RESPONSE_BUCKETS if b in r})
        if sum(report.response.values()) <= 0:
            raise table.error("the first-response columns are all zero or blank")
    if "spend" in counts:
        report.spend = float(sum(counts["spend"]))
    return report


def ratio_interval(report: FunnelReport, upper: str, lower: str) -> tuple[float, float]:
    """90 % bootstrap interval of total(lower) / total(upper), resampling periods."""
    a, b = report.per_period[upper], report.per_period[lower]

    def ratio(weights: F) -> F:
        result: F = (weights @ b) / np.maximum(weights @ a, 1e-12)
        return result

    return bootstrap_interval(ratio, report.periods)


# --------------------------------------------------------------------------- solving

Raw = dict[str, Any]
Setter = Callable[[Raw, float], None]


@dataclass
class Knob:
    """One fitted parameter: how a value in [low, high] is written into a raw
    scenario, and which ratio it moves (monotonically)."""

    name: str
    low: float
    high: float
    set: Setter
    upper: str  # the ratio is expected[lower] / expected[upper]
    lower: str
    target: float


def expected_ratios(
    raws: Sequence[Raw], validate: Callable[[Raw], Scenario], *, weeks: int, warmup: int
) -> dict[str, F]:
    scenarios = [validate(r) for r in raws]
    return expected_funnel(scenarios, weeks=weeks, warmup=warmup)


def solve_knob(
    raw: Raw,
    knob: Knob,
    validate: Callable[[Raw], Scenario],
    *,
    weeks: int,
    warmup: int,
    target: float | None = None,
    grid: int = 17,
    levels: int = 3,
) -> tuple[float, bool]:
    """The value of ``knob`` whose expected ratio is nearest ``target`` (grid
    refined ``levels`` times), and whether the target was within reach."""
    want = knob.target if target is None else target
    low, high = knob.low, knob.high
    best = low
    reachable = True
    for level in range(levels):
        values = np.linspace(low, high, grid)
        candidates = []
        for v in values:
            c = copy.deepcopy(raw)
            knob.set(c, float(v))
            candidates.append(c)
        flows = expected_ratios(candidates, validate, weeks=weeks, warmup=warmup)
        ratios = flows[knob.lower].sum(axis=1) / np.maximum(
            flows[knob.upper].sum(axis=1), 1e-12
        )
        errors = np.abs(ratios - want)
        i = int(np.argmin(errors))
        best = float(values[i])
        # The whole range is tried first: a target outside it is out of reach.
        if level == 0 and not (min(ratios) - 1e-9 <= want <= max(ratios) + 1e-9):
            reachable = False
        step = (high - low) / (grid - 1)
        low, high = max(knob.low, best - step), min(knob.high, best + step)
    return best, reachable


def scale_knob(
    name: str,
    base: Mapping[str, float],
    cap: float,
    setter: Callable[[Raw, dict[str, float]], None],
    upper: str,
    lower: str,
    target: float,
) -> Knob:
    """A knob that multiplies several probabilities by one factor, none above 1."""
    top = max(base.values())
    high = 1.0 / top if top > 0 else cap

    def set_(raw: Raw, factor: float) -> None:
        setter(raw, {k: min(1.0, v * factor) for k, v in base.items()})

    return Knob(name, 0.0, min(high, cap), set_, upper, lower, target)


def scaled_conversions(shape: Sequence[float], win_rate: float) -> np.ndarray:
    """Multiply the conversions by one factor (none above 1) so that their product
    is ``win_rate``."""
    c = np.clip(np.asarray(shape, dtype=float), 1e-6, 1.0)
    target = min(max(win_rate, 1e-6), 1.0)
    for _ in range(50):
        free = c < 1.0
        if not free.any():
            break
        factor = (target / np.prod(c)) ** (1 / free.sum())
        c = np.where(free, np.minimum(c * factor, 1.0), c)
        if abs(np.prod(c) - target) < 1e-12:
            break
    result: np.ndarray = c
    return result


def fit_report(
    raw: Raw,
    report: FunnelReport,
    rows: list[FitRow],
    checks: dict[str, Check],
    *,
    weeks: int,
    warmup: int,
    pipeline_fitted: bool,
) -> None:
    """Match each ratio of adjacent counts the report has. A ratio across a
    missing column is matched by the last step's parameter; if that one reaches
    its bound, the step before takes the rest."""
    scoring = dict(raw["marketing"]["scoring"])
    qualify = {
        "qualify_ready": raw["follow_up"]["qualify_ready"],
        "qualify_future": raw["follow_up"]["qualify_future"],
    }
    stages = copy.deepcopy(raw["pipeline"]["stages"])

    def set_scoring(r: Raw, values: dict[str, float]) -> None:
        r["marketing"]["scoring"].update(values)

    def set_qualify(r: Raw, values: dict[str, float]) -> None:
        r["follow_up"].update(values)

    def set_ignore(r: Raw, value: float) -> None:
        r["handoff"]["ignore_base"] = value

    def set_conversion(r: Raw, factor: float) -> None:
        conv = scaled_conversions([s["conversion"] for s in stages], factor)
        for s, c in zip(r["pipeline"]["stages"], conv, strict=True):
            s["conversion"] = float(c)

    def knob_for(
        step: str, mu: str, ml: str, target: float
    ) -> tuple[Knob, list[str]] | None:
        if step == "mqls":
            knob = scale_knob("scoring", scoring, 10.0, set_scoring, mu, ml, target)
            return knob, [f"marketing.scoring.{k}" for k in scoring]
        if step == "accepted":
            knob = Knob("ignore", 0.0, 1.0, set_ignore, mu, ml, target)
            return knob, ["handoff.ignore_base", "handoff.trust_reference"]
        if step == "opportunities":
            knob = scale_knob("qualify", qualify, 50.0, set_qualify, mu, ml, target)
            return knob, [f"follow_up.{k}" for k in qualify]
        if pipeline_fitted:  # the export's win rate and stages stand
            return None
        knob = Knob("conversion", 0.0, 1.0, set_conversion, mu, ml, target)
        return knob, [f"pipeline.stages.{s['name']}.conversion" for s in stages]

    pairs: list[tuple[str, list[tuple[Knob, list[str]]]]] = []
    for upper, lower in itertools.pairwise(report.steps):
        target = report.totals[lower] / report.totals[upper]
        label = _FIGURE_NAMES[(upper, lower)]
        checks[label] = Check(label, target, float("nan"), file=report.file)
        mu, ml = MODEL_SERIES[upper], MODEL_SERIES[lower]
        between = STEPS[STEPS.index(upper) + 1 : STEPS.index(lower) + 1]
        found = [knob_for(step, mu, ml, target) for step in reversed(between)]
        candidates = [c for c in found if c is not None]
        if candidates:
            pairs.append((label, candidates))

    used: dict[str, int] = {}
    reachable: dict[str, bool] = {}
    for _sweep in range(3):
        for label, candidates in pairs:
            for k, (knob, _params) in enumerate(candidates):
                if knob.name == "ignore":
                    _set_trust_reference(raw, weeks, warmup)
                value, ok = solve_knob(
                    raw, knob, validate_raw, weeks=weeks, warmup=warmup
                )
                knob.set(raw, value)
                used[label] = max(used.get(label, 0), k + 1)
                reachable[label] = ok
                if ok:
                    break
    for label, candidates in pairs:
        for knob, _params in candidates[: used[label]]:
            if knob.name == "ignore":
                # Where the fitted company sits, then its base at that point.
                _set_trust_reference(raw, weeks, warmup)
                value, _ = solve_knob(
                    raw, knob, validate_raw, weeks=weeks, warmup=warmup
                )
                knob.set(raw, value)

    for label, candidates in pairs:
        for k, (knob, params) in enumerate(candidates[: used[label]]):
            upper, lower = _step_of(knob.upper), _step_of(knob.lower)
            low_ratio, high_ratio = ratio_interval(report, upper, lower)
            ends = [
                solve_knob(
                    raw, knob, validate_raw, weeks=weeks, warmup=warmup, target=t
                )[0]
                for t in (low_ratio, high_ratio)
            ]
            cols = [report.columns[upper], report.columns[lower]]
            note = (
                f"Solved on the model's expected funnel so that {label} is "
                f"{knob.target:.3g} (the report's totals)"
            )
            if k > 0:
                note += (
                    f"; {candidates[k - 1][1][0]} reached its bound, so this step "
                    "took the rest"
                )
            if k == used[label] - 1 and not reachable[label]:
                note += (
                    "; the model cannot reach that ratio here, so the value is "
                    "at its bound"
                )
            for dotted in params:
                rows.append(
                    _report_row(raw, knob, dotted, ends, report, cols, label, note)
                )


def _report_row(
    raw: Raw,
    knob: Knob,
    dotted: str,
    ends: Sequence[float],
    report: FunnelReport,
    cols: list[str],
    label: str,
    note: str,
) -> FitRow:
    value = _get_param(raw, dotted)
    if dotted == "handoff.trust_reference":
        return FitRow(
            dotted,
            value,
            None,
            None,
            report.file,
            report.periods,
            cols,
            label,
            "The fitted company's own expected share of worked leads that come to "
            "nothing, so that its ignore rate sits at its base (as the bundled "
            "presets do).",
            "assumption",
        )
    low, high = _param_at(raw, knob, dotted, ends)
    several = dotted.startswith(("marketing.scoring", "follow_up.qualify", "pipeline"))
    return FitRow(
        dotted,
        value,
        low,
        high,
        report.file,
        report.periods,
        cols,
        label,
        note + (" (all scaled by one factor)." if several else "."),
    )


_FIGURE_NAMES = {
    ("leads", "mqls"): "MQLs per lead",
    ("mqls", "accepted"): "accepted per MQL",
    ("accepted", "opportunities"): "opportunities per accepted lead",
    ("opportunities", "won"): "won per opportunity",
    ("leads", "accepted"): "accepted per lead",
    ("leads", "opportunities"): "opportunities per lead",
    ("mqls", "opportunities"): "opportunities per MQL",
    ("leads", "won"): "won per lead",
    ("mqls", "won"): "won per MQL",
    ("accepted", "won"): "won per accepted lead",
}


def _step_of(series: str) -> str:
    return next(k for k, v in MODEL_SERIES.items() if v == series)


def _get_param(raw: Raw, dotted: str) -> float:
    if dotted.startswith("pipeline.stages."):
        _, _, name, key = dotted.split(".", 3)
        stage = next(s for s in raw["pipeline"]["stages"] if s["name"] == name)
        return float(stage[key])
    return float(get_dotted(raw, dotted))


def _param_at(
    raw: Raw, knob: Knob, dotted: str, ends: Sequence[float]
) -> tuple[float, float]:
    values = []
    for v in ends:
        c = copy.deepcopy(raw)
        knob.set(c, v)
        values.append(_get_param(c, dotted))
    return min(values), max(values)


def _set_trust_reference(raw: Raw, weeks: int, warmup: int) -> None:
    """The fitted company sits at its trust reference (as the bundled presets do):
    the reference is its own expected share of worked leads that come to nothing."""
    flows = expected_of(raw, weeks, warmup)
    contacted = float(flows["contacted"].sum())
    if contacted > 0:
        bad = 1.0 - float(flows["qualified"].sum()) / contacted
        raw["handoff"]["trust_reference"] = float(min(max(bad, 0.0), 1.0))


def ratio_of(figure: str) -> tuple[str, str] | None:
    for pair, name in _FIGURE_NAMES.items():
        if name == figure:
            return pair
    return None
