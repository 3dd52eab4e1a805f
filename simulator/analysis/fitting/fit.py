"""From data files to a fitted scenario: which file is what, the estimates, the
funnel fit, a citation per fitted value, and the check by simulation.

The fitted scenario ``extends`` a bundled (or given) scenario and sets only what
the data identified; every other value is the extended scenario's, and the fit
lists which. Company size (lead volume, sales capacity and cost, customers, ARR)
is scaled with the data's volume unless given, so that the fitted company's
funnel and revenue stay in the proportions of the scenario it extends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.analysis.fitting import funnel as fn
from simulator.analysis.fitting.estimate import Estimate
from simulator.analysis.fitting.expectation import expected_of
from simulator.analysis.fitting.opportunities import (
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    OpportunityFit,
    fit_opportunities,
    is_history,
)
from simulator.analysis.fitting.provenance import (
    Check,
    FitResult,
    FitRow,
    extends_reference,
    file_content,
    get_dotted,
)
from simulator.analysis.fitting.table import (
    DateOrder,
    Table,
    find_roles,
    normalise,
    read_table,
)
from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import load_scenario, scenario_from_dict
from simulator.model.schema import Scenario

Raw = dict[str, Any]

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
        if not fn.is_funnel_report(report_roles) and fn.counts_found(report_roles) >= 2:
            # A report whose first column (the period) has no usual name.
            report_roles.roles.setdefault("period", table.header[0])
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
    extends_reference(extends, out)  # a reference the written file can resolve
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
        fn.fit_report(
            raw,
            report,
            rows,
            checks,
            weeks=weeks,
            warmup=warmup,
            pipeline_fitted=opp is not None,
        )
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

    title = name or f"Fitted: {Path(str(paths[0])).stem}"
    file_raw = file_content(raw, base, rows, extends, title, inputs.files, out)
    origin = str(out) if out is not None else "<fitted scenario>"
    anchor = Path(out) if out is not None else None
    try:
        scenario = scenario_from_dict(file_raw, origin=origin, base=anchor)
    except ScenarioError as exc:
        raise ScenarioError(f"the fitted scenario does not validate ({exc})") from None
    return FitResult(file_raw, scenario, rows, checks, kept, inputs.files, weeks)


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
    conv = fn.scaled_conversions([c for _, c, _ in shape], win.value)
    conv_low = fn.scaled_conversions([c for _, c, _ in shape], win.low)
    conv_high = fn.scaled_conversions([c for _, c, _ in shape], win.high)
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
    flows = expected_of(raw, weeks, warmup)
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
                get_dotted(raw, dotted),
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
    for dotted, value, option in (
        ("company.initial_customers", customers, "--customers"),
        ("company.initial_arr", arr, "--arr"),
    ):
        if value is not None:
            rows.append(
                FitRow(
                    dotted,
                    get_dotted(raw, dotted),
                    None,
                    None,
                    option,
                    0,
                    [],
                    "",
                    f"Given with {option} when fitting.",
                    "assumption",
                    given=True,
                )
            )


def _expected_checks(
    raw: Raw,
    checks: dict[str, Check],
    report: fn.FunnelReport | None,
    opp: OpportunityFit | None,
    *,
    weeks: int,
    warmup: int,
) -> None:
    flows = expected_of(raw, weeks, warmup)
    for check in checks.values():
        pair = fn.ratio_of(check.figure)
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
                f"The report has no {', '.join(missing)} "
                f"column{'s' if len(missing) > 1 else ''}: those steps keep "
                f"{extends}'s values, except the one just before the next count "
                "the report has, which is fitted to the ratio across them."
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
