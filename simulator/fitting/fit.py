"""From data files to a fitted scenario: which file is what, the estimates, the
funnel fit, a citation per fitted value, and the check by simulation.

The fitted scenario ``extends`` a bundled (or given) scenario and sets only what
the data identified; every other value is the extended scenario's, and the fit
lists which. Company size (lead volume, sales capacity and cost, customers, ARR)
is scaled with the data's volume unless given, so that the fitted company's
funnel and revenue stay in the proportions of the scenario it extends.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from simulator.errors import ScenarioError
from simulator.fitting import funnel as fn
from simulator.fitting.estimate import Estimate
from simulator.fitting.expectation import expected_funnel
from simulator.fitting.opportunities import (
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    OpportunityFit,
    fit_opportunities,
    is_history,
)
from simulator.fitting.table import DateOrder, Table, find_roles, normalise, read_table
from simulator.scenario_io import load_scenario, scenario_from_dict, write_atomic
from simulator.schema import Scenario

Raw = dict[str, Any]

#: Tolerances of the check by simulation (absolute for the win rate, relative
#: otherwise): a fitted scenario should reproduce its data within these.
TOLERANCES = {
    "win rate": ("abs", 0.02),
    "mean won cycle (weeks)": ("rel", 0.25),
    "median deal size": ("rel", 0.10),
    "won per opportunity": ("rel", 0.20),
}
DEFAULT_TOLERANCE = ("rel", 0.10)
#: Runs of the check by simulation (a few seconds).
CHECK_RUNS = 200


@dataclass
class Check:
    """A figure of the data beside the fitted model's expectation and simulation."""

    figure: str
    data: float
    expected: float
    simulated: float | None = None
    simulated_se: float | None = None
    file: str = ""

    @property
    def tolerance(self) -> tuple[str, float]:
        return TOLERANCES.get(self.figure, DEFAULT_TOLERANCE)

    @property
    def within(self) -> bool | None:
        if self.simulated is None:
            return None
        kind, tol = self.tolerance
        gap = abs(self.simulated - self.data)
        return gap <= tol if kind == "abs" else gap <= tol * abs(self.data)


@dataclass
class FitRow:
    """One fitted parameter: value, 90 % interval, where it came from and the
    data's figure it was fitted to (a key of :attr:`FitResult.checks`)."""

    parameter: str
    value: Any
    low: float | None
    high: float | None
    file: str
    rows: int
    columns: list[str]
    figure: str
    note: str = ""
    #: "H" for a value read off the data, "assumption" for one derived from it
    #: by an assumption (scaled with the volume, set where the company sits).
    confidence: str = "H"

    def citation(self) -> dict[str, Any]:
        interval = (
            f", 90 % interval {_show(self.low)}-{_show(self.high)}"
            if self.low is not None and self.high is not None
            else ""
        )
        verb = "fitted" if self.confidence == "H" else "derived"
        source = f"{verb} from {self.file}, {self.rows:,} rows{interval}"
        note = f"Columns: {', '.join(self.columns)}." if self.columns else ""
        if self.note:
            note = f"{note} {self.note}".strip()
        return {"source": source, "confidence": self.confidence, "note": note}


@dataclass
class FitResult:
    raw: Raw  # the scenario file's content
    scenario: Scenario
    rows: list[FitRow]
    checks: dict[str, Check]
    kept: list[str]
    files: list[str]
    weeks: int
    simulated_runs: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "extends": self.raw.get("extends"),
            "files": self.files,
            "parameters": [
                {
                    **{k: _jsonable(v) for k, v in asdict(row).items()},
                    "citation": row.citation()["source"],
                    "data": _jsonable(self.checks[row.figure].data)
                    if row.figure in self.checks
                    else None,
                    "simulated": _jsonable(self.checks[row.figure].simulated)
                    if row.figure in self.checks
                    else None,
                }
                for row in self.rows
            ],
            "checks": [
                {
                    **{k: _jsonable(v) for k, v in asdict(c).items()},
                    "tolerance": list(c.tolerance),
                    "within": c.within,
                }
                for c in self.checks.values()
            ],
            "kept": self.kept,
            "simulated_runs": self.simulated_runs,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _show(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


# --------------------------------------------------------------------------- files


@dataclass
class Inputs:
    export: Table | None = None
    history: Table | None = None
    report: Table | None = None
    files: list[str] = field(default_factory=list)


def classify_files(paths: Sequence[str | Path], overrides: Mapping[str, str]) -> Inputs:
    """Read each file and tell an opportunity export, a stage history and a
    funnel report apart by their columns."""
    inputs = Inputs()
    for path in paths:
        table = read_table(path)
        inputs.files.append(table.name)
        report_roles = Table(table.path, table.header, [])
        find_roles(report_roles, fn.FUNNEL_COLUMNS, {})
        history_roles = Table(table.path, table.header, table.rows)
        find_roles(history_roles, HISTORY_COLUMNS, {})
        if fn.is_funnel_report(report_roles) and not _has(table, "amount"):
            find_roles(table, fn.FUNNEL_COLUMNS, overrides)
            _first_column_as_period(table)
            slot = "report"
        elif is_history(history_roles):
            find_roles(table, HISTORY_COLUMNS, overrides)
            slot = "history"
        else:
            find_roles(table, OPPORTUNITY_COLUMNS, overrides)
            slot = "export"
        if getattr(inputs, slot) is not None:
            what = {"report": "funnel report", "history": "stage history"}.get(
                slot, "opportunity export"
            )
            raise ScenarioError(
                f"a second {what} ({getattr(inputs, slot).name} is one); give one",
                file=table.path,
            )
        setattr(inputs, slot, table)
    if inputs.export is None and inputs.report is None:
        only = inputs.history
        assert only is not None
        raise ScenarioError(
            "is a stage history; it needs the opportunity export it belongs to "
            "(outcome, dates and amounts)",
            file=only.path,
        )
    return inputs


def _has(table: Table, role: str) -> bool:
    names = {normalise(a) for a in OPPORTUNITY_COLUMNS[role]}
    return any(normalise(h) in names for h in table.header)


def _first_column_as_period(table: Table) -> None:
    if "period" not in table.roles and table.header:
        table.roles["period"] = table.header[0]


# --------------------------------------------------------------------------- fitting


def fit(
    paths: Sequence[str | Path],
    *,
    extends: str = "siloed",
    out: str | Path | None = None,
    columns: Mapping[str, str] | None = None,
    order: DateOrder | None = None,
    customers: int | None = None,
    arr: float | None = None,
    name: str | None = None,
) -> FitResult:
    """Fit a scenario extending ``extends`` to the data files (not yet checked by
    simulation: see :func:`check_by_simulation`)."""
    overrides = dict(columns or {})
    _extends_ref(extends, out)  # a reference the written file can resolve
    inputs = classify_files(paths, overrides)
    base = load_scenario(extends)
    raw: Raw = base.model_dump(mode="python", exclude_none=True)
    raw.pop("uncertainty", None)
    rows: list[FitRow] = []
    checks: dict[str, Check] = {}
    kept: list[str] = []

    opp: OpportunityFit | None = None
    if inputs.export is not None:
        opp = fit_opportunities(inputs.export, order=order, history=inputs.history)
        _apply_pipeline(raw, opp, rows, checks)
        _apply_deals(raw, opp, rows, checks)
    report = fn.read_funnel(inputs.report, order=order) if inputs.report else None
    warmup = base.simulation.warmup_weeks
    weeks = max(13, round(report.weeks)) if report else 52
    if report is not None:
        _apply_sources(raw, report, rows)
        _apply_response(raw, report, rows)

    # Company size: scale with the data's volume. With a spend column the budget
    # is the data's and the costs per lead carry the volume.
    base_budget = raw["marketing"]["weekly_budget"]
    fixed_budget = report is not None and report.spend is not None
    scale = 1.0
    if report is not None and report.spend is not None:
        before = _volume_scale(raw, report, opp, weeks=weeks, warmup=warmup)
        _apply_spend(raw, report, rows)
        after = _volume_scale(raw, report, opp, weeks=weeks, warmup=warmup)
        scale = before / after  # the company's size at the data's spend
        _scale_company(raw, scale, base, budget=False)

    def match(scale: float) -> float:
        return _match_volume(
            raw,
            scale,
            report=report,
            opp=opp,
            base=base,
            weeks=weeks,
            warmup=warmup,
            fixed_budget=fixed_budget,
        )

    scale = match(scale)
    if report is not None:
        _fit_report(raw, report, rows, checks, weeks=weeks, warmup=warmup, opp=opp)
        # The ratios moved the flows a little: match the volume once more.
        scale = match(scale)
    if fixed_budget:
        _describe_spend(raw, rows)
    if customers is not None:
        raw["company"]["initial_customers"] = int(customers)
    mean_deal = raw["deals"]["acv_median"] * math.exp(
        raw["deals"]["acv_sigma"] ** 2 / 2
    )
    raw["company"]["initial_arr"] = (
        float(arr)
        if arr is not None
        else float(raw["company"]["initial_customers"] * mean_deal)
    )
    _size_rows(raw, rows, report, opp, scale, base_budget, customers, arr)
    _expected_checks(raw, checks, report, opp, weeks=weeks, warmup=warmup)
    kept.extend(_kept_notes(report, opp, customers, arr, extends))
    kept.extend(lever_notes(raw["pipeline"]["stages"]))

    title = name or f"Fitted: {Path(str(paths[0])).stem}"
    file_raw = _file_content(raw, base, rows, extends, title, inputs.files, out)
    origin = str(out) if out is not None else "<fitted scenario>"
    anchor = Path(out) if out is not None else None
    try:
        scenario = scenario_from_dict(file_raw, origin=origin, base=anchor)
    except ScenarioError as exc:
        raise ScenarioError(f"the fitted scenario does not validate ({exc})") from None
    return FitResult(file_raw, scenario, rows, checks, kept, inputs.files, weeks)


def _validate(raw: Raw) -> Scenario:
    return Scenario.model_validate(raw)


def _apply_pipeline(
    raw: Raw, opp: OpportunityFit, rows: list[FitRow], checks: dict[str, Check]
) -> None:
    """Stages from the data's history, else the extended scenario's shape; either
    scaled so that the product of conversions is the win rate and the sum of
    mean weeks the mean won cycle."""
    win, cycle = opp.win_rate, opp.cycle_weeks
    if opp.stages:
        shape = [
            (s.name, s.conversion.value, max(s.mean_weeks.value, 1e-6))
            for s in opp.stages
        ]
        origin = opp.stages[0].conversion
        how = "The data's stage conversions and weeks (stage history)"
    else:
        shape = [
            (s["name"], s["conversion"], s["mean_weeks"])
            for s in raw["pipeline"]["stages"]
        ]
        origin = None
        how = "The extended scenario's stage shape"
    conv = _scaled_conversions([c for _, c, _ in shape], win.value)
    conv_low = _scaled_conversions([c for _, c, _ in shape], win.low)
    conv_high = _scaled_conversions([c for _, c, _ in shape], win.high)
    weeks = _scaled_weeks([w for _, _, w in shape], cycle.value)
    weeks_low = _scaled_weeks([w for _, _, w in shape], cycle.low)
    weeks_high = _scaled_weeks([w for _, _, w in shape], cycle.high)
    raw["pipeline"]["stages"] = [
        {"name": n, "conversion": float(c), "mean_weeks": float(w)}
        for (n, _, _), c, w in zip(shape, conv, weeks, strict=True)
    ]
    for j, (stage, _, _) in enumerate(shape):
        cols = list(dict.fromkeys(win.columns + (origin.columns if origin else [])))
        rows.append(
            FitRow(
                f"pipeline.stages.{stage}.conversion",
                float(conv[j]),
                float(conv_low[j]),
                float(conv_high[j]),
                win.file,
                opp.rows,
                cols,
                "win rate",
                f"{how}, scaled so that the conversions multiply to the win rate "
                f"over closed deals ({win.note}).",
            )
        )
        rows.append(
            FitRow(
                f"pipeline.stages.{stage}.mean_weeks",
                float(weeks[j]),
                float(weeks_low[j]),
                float(weeks_high[j]),
                cycle.file,
                cycle.rows,
                cycle.columns,
                "mean won cycle (weeks)",
                f"{how}, scaled so that the mean weeks add up to the mean won cycle.",
            )
        )
    checks["win rate"] = Check(
        "win rate", win.value, float(np.prod(conv)), file=win.file
    )
    checks["mean won cycle (weeks)"] = Check(
        "mean won cycle (weeks)", cycle.value, float(np.sum(weeks)), file=cycle.file
    )


def _scaled_conversions(shape: Sequence[float], win_rate: float) -> np.ndarray:
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


def _scaled_weeks(shape: Sequence[float], total: float) -> np.ndarray:
    """Scale stage weeks to add up to ``total``, none below the model's 1 week."""
    w = np.asarray(shape, dtype=float)
    total = max(total, float(len(w)))
    for _ in range(50):
        free = w > 1.0 + 1e-12
        fixed = (~free).sum()
        rest = total - fixed
        if not free.any() or rest <= 0:
            w = np.where(free, 1.0, w)
            break
        w = np.where(free, w * rest / w[free].sum(), 1.0)
        w = np.maximum(w, 1.0)
        if abs(w.sum() - total) < 1e-9:
            break
    return w


def _apply_deals(
    raw: Raw, opp: OpportunityFit, rows: list[FitRow], checks: dict[str, Check]
) -> None:
    med, sig = opp.acv_median, opp.acv_sigma
    raw["deals"]["acv_median"] = float(med.value)
    raw["deals"]["acv_sigma"] = float(min(sig.value, 3.0))
    rows.append(_row("deals.acv_median", med, "median deal size"))
    rows.append(
        _row("deals.acv_sigma", sig, "median deal size", value=min(sig.value, 3.0))
    )
    checks["median deal size"] = Check(
        "median deal size", med.value, med.value, file=med.file
    )


def _row(
    parameter: str, est: Estimate, figure: str, value: float | None = None
) -> FitRow:
    return FitRow(
        parameter,
        float(est.value if value is None else value),
        est.low,
        est.high,
        est.file,
        est.rows,
        est.columns,
        figure,
        est.note[:1].upper() + est.note[1:] + "." if est.note else "",
    )


def _apply_sources(raw: Raw, report: fn.FunnelReport, rows: list[FitRow]) -> None:
    """Sources and budget shares from the report's leads by source. A source the
    extended scenario knows keeps its cost per lead and quality mix; a new one
    gets their lead-weighted averages."""
    if len(report.source_leads) < 1 or "source" not in report.columns:
        return
    known = {normalise(s["name"]): s for s in raw["marketing"]["sources"]}
    old = raw["marketing"]["sources"]
    lam = np.array(
        [
            raw["marketing"]["weekly_budget"] * s["share"] / s["cost_per_lead"]
            for s in old
        ]
    )
    weights = lam / lam.sum()
    avg = {
        k: float(sum(w * s[k] for w, s in zip(weights, old, strict=True)))
        for k in ("ready", "future", "junk", "cost_per_lead")
    }
    total = sum(report.source_leads.values())
    sources: list[dict[str, Any]] = []
    for name, leads in report.source_leads.items():
        if leads <= 0:
            continue
        base = known.get(normalise(name))
        src: dict[str, Any] = dict(base) if base else {"name": name[:80], **avg}
        src["name"] = name[:80]
        src["share"] = leads / total * src["cost_per_lead"]
        sources.append(src)
    spend_total = sum(s["share"] for s in sources)
    for s in sources:
        s["share"] = s["share"] / spend_total
    for s in sources:  # renormalise the averaged mixes exactly
        t = s["ready"] + s["future"] + s["junk"]
        s["ready"], s["future"] = s["ready"] / t, s["future"] / t
        s["junk"] = 1.0 - s["ready"] - s["future"]
    sources[-1]["share"] = 1.0 - sum(s["share"] for s in sources[:-1])
    raw["marketing"]["sources"] = sources
    realloc = raw["marketing"]["reallocation"]
    realloc["min_share"] = min(realloc["min_share"], 1.0 / len(sources))
    rows.append(
        FitRow(
            "marketing.sources",
            ", ".join(f"{s['name']} {s['share']:.0%}" for s in sources),
            None,
            None,
            report.file,
            report.periods,
            [report.columns["source"], report.columns.get("leads", "")],
            "leads per week",
            "Budget shares from each source's share of leads times its cost per lead; "
            "sources the extended scenario does not name get its lead-weighted "
            "average cost per lead and quality mix (assumptions).",
        )
    )


def _apply_response(raw: Raw, report: fn.FunnelReport, rows: list[FitRow]) -> None:
    if not report.response:
        return
    total = sum(report.response.values())
    profile = {k: v / total for k, v in report.response.items()}
    last = fn.RESPONSE_BUCKETS[-1]
    profile[last] = 1.0 - sum(v for k, v in profile.items() if k != last)
    raw["follow_up"]["response_profile"] = profile
    rows.append(
        FitRow(
            "follow_up.response_profile",
            ", ".join(f"{k} {v:.0%}" for k, v in profile.items()),
            None,
            None,
            report.file,
            report.periods,
            [report.columns[b] for b in fn.RESPONSE_BUCKETS if b in report.columns],
            "",
            f"Shares of {total:,.0f} first responses by bucket.",
        )
    )


def _expected(raw: Raw, weeks: int, warmup: int) -> dict[str, np.ndarray]:
    flows = expected_funnel([_validate(raw)], weeks=weeks, warmup=warmup)
    return {k: v[0] for k, v in flows.items()}


def _volume_scale(
    raw: Raw,
    report: fn.FunnelReport | None,
    opp: OpportunityFit | None,
    *,
    weeks: int,
    warmup: int,
) -> float:
    """How many times the scenario's volume the data's is: the report's first
    count per week, else the export's opportunities per week."""
    flows = _expected(raw, weeks, warmup)
    if report is not None:
        step = report.steps[0]
        want = report.per_week(step)
        have = float(flows[fn.MODEL_SERIES[step]].mean())
    elif opp is not None:
        want = opp.per_week.value
        have = float(flows["qualified"].mean())
    else:  # pragma: no cover - classify_files guarantees one of them
        return 1.0
    if have <= 0:
        raise ScenarioError(
            "the extended scenario generates no flow to scale (its marketing budget "
            "or qualification is zero); extend another scenario"
        )
    return want / have


def _match_volume(
    raw: Raw,
    scale: float,
    *,
    report: fn.FunnelReport | None,
    opp: OpportunityFit | None,
    base: Scenario,
    weeks: int,
    warmup: int,
    fixed_budget: bool,
) -> float:
    """Scale the company from the extended one (``scale`` times it now) until its
    expected volume is the data's, in a few steps: capacity and the budget review
    make the flows not quite proportional. Returns the new scale."""
    for _ in range(6):
        step = _volume_scale(raw, report, opp, weeks=weeks, warmup=warmup)
        scale *= step
        _scale_company(raw, scale, base, budget=not fixed_budget)
        if fixed_budget:
            for s in raw["marketing"]["sources"]:
                s["cost_per_lead"] = float(max(0.01, s["cost_per_lead"] / step))
        if abs(step - 1) < 1e-4:
            break
    return float(scale)


def _scale_company(raw: Raw, k: float, base: Scenario, *, budget: bool = True) -> None:
    ref = base.model_dump(mode="python")
    if budget:
        raw["marketing"]["weekly_budget"] = float(ref["marketing"]["weekly_budget"] * k)
    raw["follow_up"]["capacity_per_week"] = float(
        ref["follow_up"]["capacity_per_week"] * k
    )
    raw["costs"]["sales_weekly"] = float(ref["costs"]["sales_weekly"] * k)
    raw["company"]["initial_customers"] = max(
        1, round(ref["company"]["initial_customers"] * k)
    )


def _apply_spend(raw: Raw, report: fn.FunnelReport, rows: list[FitRow]) -> None:
    """The budget is the report's spend per week; each source's share of it and
    cost per lead are its own when the report gives spend by source, else the
    costs per lead scale with the budget (the volume is matched after)."""
    assert report.spend is not None
    budget = report.spend / report.weeks
    if budget <= 0:
        return
    old_budget = raw["marketing"]["weekly_budget"]
    raw["marketing"]["weekly_budget"] = float(budget)
    sources = raw["marketing"]["sources"]
    by_source = report.source_spend
    if by_source and all(by_source.get(s["name"], 0) > 0 for s in sources):
        for s in sources:
            s["share"] = by_source[s["name"]] / report.spend
            s["cost_per_lead"] = float(
                max(0.01, by_source[s["name"]] / report.source_leads[s["name"]])
            )
        sources[-1]["share"] = 1.0 - sum(s["share"] for s in sources[:-1])
        how = "each source's spend over its leads, scaled together to the volume"
    else:
        for s in sources:
            s["cost_per_lead"] = float(
                max(0.01, s["cost_per_lead"] * budget / old_budget)
            )
        how = "the extended scenario's, scaled together to the spend and volume"
    row = next((r for r in rows if r.parameter == "marketing.sources"), None)
    if row is None:
        row = FitRow(
            "marketing.sources",
            "",
            None,
            None,
            report.file,
            report.periods,
            [],
            "leads per week",
        )
        rows.append(row)
    row.columns = [c for c in (*row.columns, report.columns["spend"]) if c]
    row.note = f"{row.note} Costs per lead: {how}.".strip()


def _describe_spend(raw: Raw, rows: list[FitRow]) -> None:
    row = next(r for r in rows if r.parameter == "marketing.sources")
    row.value = ", ".join(
        f"{s['name']} {s['share']:.0%} at ${s['cost_per_lead']:,.0f}/lead"
        for s in raw["marketing"]["sources"]
    )


def _size_rows(
    raw: Raw,
    rows: list[FitRow],
    report: fn.FunnelReport | None,
    opp: OpportunityFit | None,
    scale: float,
    base_budget: float,
    customers: int | None,
    arr: float | None,
) -> None:
    if report is not None:
        step = report.steps[0]
        file, n, cols = report.file, report.periods, [report.columns[step]]
        figure = f"{fn.STEP_LABELS[step]} per week"
    else:
        assert opp is not None
        file, n, cols = opp.file, opp.per_week.rows, opp.per_week.columns
        figure = "opportunities per week"
    spend_note = (
        " The budget is the report's spend per week; costs per lead are scaled to "
        "keep the lead volume."
        if report is not None and report.spend is not None
        else " Costs per lead are the extended scenario's (add a spend column to fit "
        "the budget)."
    )
    rows.append(
        FitRow(
            "marketing.weekly_budget",
            float(raw["marketing"]["weekly_budget"]),
            None,
            None,
            file,
            n,
            cols,
            figure,
            f"Lead volume: {scale:.3g} x the extended scenario's.{spend_note}",
        )
    )
    sized = (
        "scaled with the volume (assumption: the company is that many times the "
        "extended scenario's)"
    )
    for dotted in ("follow_up.capacity_per_week", "costs.sales_weekly"):
        rows.append(
            FitRow(
                dotted,
                _get(raw, dotted),
                None,
                None,
                file,
                n,
                cols,
                figure,
                f"Not in the data: {sized}.",
                "assumption",
            )
        )
    if customers is None:
        rows.append(
            FitRow(
                "company.initial_customers",
                raw["company"]["initial_customers"],
                None,
                None,
                file,
                n,
                cols,
                figure,
                f"Not in the data: {sized}; give --customers.",
                "assumption",
            )
        )
    if arr is None:
        rows.append(
            FitRow(
                "company.initial_arr",
                raw["company"]["initial_arr"],
                None,
                None,
                file,
                n,
                cols,
                figure,
                "Not in the data: customers x mean deal value; give --arr.",
                "assumption",
            )
        )


def _get(raw: Raw, dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        node = node[part]
    return node


def _fit_report(
    raw: Raw,
    report: fn.FunnelReport,
    rows: list[FitRow],
    checks: dict[str, Check],
    *,
    weeks: int,
    warmup: int,
    opp: OpportunityFit | None,
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
        conv = _scaled_conversions([s["conversion"] for s in stages], factor)
        for s, c in zip(r["pipeline"]["stages"], conv, strict=True):
            s["conversion"] = float(c)

    def knob_for(
        step: str, mu: str, ml: str, target: float
    ) -> tuple[fn.Knob, list[str]] | None:
        if step == "mqls":
            knob = fn.scale_knob("scoring", scoring, 10.0, set_scoring, mu, ml, target)
            return knob, [f"marketing.scoring.{k}" for k in scoring]
        if step == "accepted":
            knob = fn.Knob("ignore", 0.0, 1.0, set_ignore, mu, ml, target)
            return knob, ["handoff.ignore_base", "handoff.trust_reference"]
        if step == "opportunities":
            knob = fn.scale_knob("qualify", qualify, 50.0, set_qualify, mu, ml, target)
            return knob, [f"follow_up.{k}" for k in qualify]
        if opp is not None:  # the export's win rate and stages stand
            return None
        knob = fn.Knob("conversion", 0.0, 1.0, set_conversion, mu, ml, target)
        return knob, [f"pipeline.stages.{s['name']}.conversion" for s in stages]

    pairs: list[tuple[str, list[tuple[fn.Knob, list[str]]]]] = []
    for upper, lower in itertools.pairwise(report.steps):
        target = report.totals[lower] / report.totals[upper]
        label = _FIGURE_NAMES[(upper, lower)]
        checks[label] = Check(label, target, float("nan"), file=report.file)
        mu, ml = fn.MODEL_SERIES[upper], fn.MODEL_SERIES[lower]
        between = fn.STEPS[fn.STEPS.index(upper) + 1 : fn.STEPS.index(lower) + 1]
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
                value, ok = fn.solve_knob(
                    raw, knob, _validate, weeks=weeks, warmup=warmup
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
                value, _ = fn.solve_knob(
                    raw, knob, _validate, weeks=weeks, warmup=warmup
                )
                knob.set(raw, value)

    for label, candidates in pairs:
        for k, (knob, params) in enumerate(candidates[: used[label]]):
            upper, lower = _step_of(knob.upper), _step_of(knob.lower)
            low_ratio, high_ratio = fn.ratio_interval(report, upper, lower)
            ends = [
                fn.solve_knob(
                    raw, knob, _validate, weeks=weeks, warmup=warmup, target=t
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
    knob: fn.Knob,
    dotted: str,
    ends: Sequence[float],
    report: fn.FunnelReport,
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
    return next(k for k, v in fn.MODEL_SERIES.items() if v == series)


def _get_param(raw: Raw, dotted: str) -> float:
    if dotted.startswith("pipeline.stages."):
        _, _, name, key = dotted.split(".", 3)
        stage = next(s for s in raw["pipeline"]["stages"] if s["name"] == name)
        return float(stage[key])
    return float(_get(raw, dotted))


def _param_at(
    raw: Raw, knob: fn.Knob, dotted: str, ends: Sequence[float]
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
    flows = _expected(raw, weeks, warmup)
    contacted = float(flows["contacted"].sum())
    if contacted > 0:
        bad = 1.0 - float(flows["qualified"].sum()) / contacted
        raw["handoff"]["trust_reference"] = float(min(max(bad, 0.0), 1.0))


def _expected_checks(
    raw: Raw,
    checks: dict[str, Check],
    report: fn.FunnelReport | None,
    opp: OpportunityFit | None,
    *,
    weeks: int,
    warmup: int,
) -> None:
    flows = _expected(raw, weeks, warmup)
    for check in checks.values():
        pair = _ratio_of(check.figure)
        if pair is not None:
            upper, lower = pair
            check.expected = float(
                flows[fn.MODEL_SERIES[lower]].sum()
                / max(flows[fn.MODEL_SERIES[upper]].sum(), 1e-12)
            )
    if report is not None:
        step = report.steps[0]
        label = f"{fn.STEP_LABELS[step]} per week"
        checks[label] = Check(
            label,
            report.per_week(step),
            float(flows[fn.MODEL_SERIES[step]].mean()),
            file=report.file,
        )
    if opp is not None:
        checks["opportunities per week"] = Check(
            "opportunities per week",
            opp.per_week.value,
            float(flows["qualified"].mean()),
            file=opp.file,
        )


def _ratio_of(figure: str) -> tuple[str, str] | None:
    for pair, name in _FIGURE_NAMES.items():
        if name == figure:
            return pair
    return None


def _kept_notes(
    report: fn.FunnelReport | None,
    opp: OpportunityFit | None,
    customers: int | None,
    arr: float | None,
    extends: str,
) -> list[str]:
    notes = [
        f"The lead quality mix (ready / future / junk), the response decay, nurture, "
        f"churn, expansion and the trust loop's sensitivity are {extends}'s: "
        "no export or funnel report records them."
    ]
    if report is None:
        notes.append(
            "Lead volume, scoring, ignore rate and qualification chances: no funnel "
            f"report given, so {extends}'s ratios (the volume is scaled to the "
            "export's opportunities per week)."
        )
    else:
        missing = [fn.STEP_LABELS[s] for s in fn.STEPS if s not in report.totals]
        if missing:
            notes.append(
                f"The report has no {', '.join(missing)} column: the steps around "
                f"them keep {extends}'s values except the one fitted to the ratio "
                "across them."
            )
        if not report.response:
            notes.append(
                f"No first-response columns: the response profile is {extends}'s."
            )
    if opp is None:
        notes.append(
            f"No opportunity export: deal size and stage weeks are {extends}'s."
        )
    elif not opp.stages:
        notes.append(
            f"No stage history: the stages are {extends}'s, scaled to the data's win "
            "rate and won cycle."
        )
    if opp is not None and opp.skipped:
        shown = ", ".join(f"{n} {why}" for why, n in opp.skipped.items())
        notes.append(f"Rows left out of {opp.file}: {shown}.")
    if customers is None or arr is None:
        notes.append(
            "Initial customers and ARR are not in the data: scaled with the volume "
            "and derived from the fitted deal size (give --customers and --arr)."
        )
    return notes


def lever_notes(
    stages: Sequence[Mapping[str, Any]], against: str = "aligned"
) -> list[str]:
    """What the levers of ``against`` do to this pipeline: a lever that sets stage
    conversions by name either misses the fitted stages (the comparison stops
    with an error) or sets absolute values that may lie below the fitted ones."""
    from simulator.scenario_io import load_lever

    names = [str(s["name"]) for s in stages]
    conversion = {str(s["name"]): float(s["conversion"]) for s in stages}
    notes = []
    for lever_id in load_scenario(against).levers:
        lever = load_lever(lever_id)
        sets = {
            k.split(".")[2]: v
            for k, v in lever.set.items()
            if k.startswith("pipeline.stages.") and k.endswith(".conversion")
        }
        if not sets:
            continue
        missing = [n for n in sets if n not in conversion]
        if missing:
            notes.append(
                f"Comparing with {against}: its '{lever_id}' lever sets the "
                f"conversions of stages named {', '.join(sets)}; this pipeline's "
                f"stages are {', '.join(names)}, so that comparison stops with an "
                "error (compare with the other levers, or rename the stages)."
            )
            continue
        after = dict(conversion, **{k: float(v) for k, v in sets.items()})
        before_win, after_win = (
            math.prod(conversion.values()),
            math.prod(after.values()),
        )
        if after_win < before_win:
            notes.append(
                f"Comparing with {against}: its '{lever_id}' lever sets absolute "
                f"stage conversions (win rate {after_win:.1%}), below this "
                f"company's fitted {before_win:.1%}: there it lowers the win rate."
            )
    return notes


# --------------------------------------------------------------------------- output


def _file_content(
    raw: Raw,
    base: Scenario,
    rows: list[FitRow],
    extends: str,
    title: str,
    files: list[str],
    out: str | Path | None,
) -> Raw:
    """The scenario file: ``extends`` plus the fitted tables and their citations."""
    fitted = {r.parameter for r in rows}
    content: Raw = {
        "schema_version": 1,
        "name": title[:200],
        "description": (
            f"Fitted by funnelsim fit on {dt.date.today().isoformat()} from "
            f"{', '.join(files)}; every value the data does not identify is "
            f"{base.name}'s ({extends})."
        ),
        "extends": _extends_ref(extends, out),
    }
    tables: Raw = {}
    citations: Raw = {}
    for row in rows:
        dotted = row.parameter
        if dotted.startswith("pipeline.stages."):
            tables.setdefault("pipeline", {})["stages"] = raw["pipeline"]["stages"]
        elif dotted == "marketing.sources":
            tables.setdefault("marketing", {})["sources"] = raw["marketing"]["sources"]
            tables["marketing"].setdefault("reallocation", {})["min_share"] = raw[
                "marketing"
            ]["reallocation"]["min_share"]
        elif dotted == "follow_up.response_profile":
            tables.setdefault("follow_up", {})["response_profile"] = raw["follow_up"][
                "response_profile"
            ]
        else:
            table, _, key = dotted.rpartition(".")
            node = tables
            for part in table.split("."):
                node = node.setdefault(part, {})
            node[key] = _get(raw, dotted)
        citations[dotted] = row.citation()
    if "marketing.weekly_budget" in fitted and any(
        s["cost_per_lead"] != b.cost_per_lead
        for s, b in zip(
            raw["marketing"]["sources"], base.marketing.sources, strict=False
        )
    ):
        tables.setdefault("marketing", {})["sources"] = raw["marketing"]["sources"]
    if "company.initial_arr" in citations or "company.initial_arr" not in fitted:
        tables.setdefault("company", {})["initial_arr"] = raw["company"]["initial_arr"]
    if "company.initial_customers" not in fitted:
        tables.setdefault("company", {})["initial_customers"] = raw["company"][
            "initial_customers"
        ]
    content.update(_tidy(tables))
    content["citations"] = citations
    return content


def _tidy(value: Any) -> Any:
    """Fitted floats to 4 significant digits: the data do not say more."""
    if isinstance(value, dict):
        # Shares must keep summing to 1: those are written as computed.
        return {
            k: v if k in ("sources", "response_profile") else _tidy(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, float) and value != 0 and math.isfinite(value):
        digits = 4 - math.floor(math.log10(abs(value))) - 1
        return round(value, digits) if digits > 0 else float(round(value))
    return value


def _extends_ref(extends: str, out: str | Path | None) -> str:
    """A bundled id as is; a path relative to the output file's folder."""
    candidate = Path(extends)
    if candidate.suffix != ".toml" or out is None:
        return extends
    try:
        relative = os.path.relpath(candidate.resolve(), Path(out).resolve().parent)
    except ValueError:  # another drive on Windows
        relative = ".."
    if relative.startswith(".."):
        raise ScenarioError(
            f"--extends {extends}: a scenario file extends a bundled id or a file in "
            "its own folder (or below); write the output next to it, or extend a "
            "bundled id"
        )
    return relative


def write_scenario(result: FitResult, out: str | Path) -> None:
    """Write the fitted scenario atomically (nothing is written on error)."""
    write_atomic(Path(out), _header(result) + tomli_w.dumps(result.raw))


def _header(result: FitResult) -> str:
    lines = [
        "# Fitted by `funnelsim fit` from " + ", ".join(result.files) + ".",
        "# Each fitted value's citation says where it came from; everything else",
        f"# is the extended scenario's ({result.raw['extends']}).",
    ]
    return "\n".join(lines) + "\n"
