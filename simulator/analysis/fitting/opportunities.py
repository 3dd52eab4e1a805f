"""Estimates from an opportunity export: win rate, stage conversions and weeks,
won cycle, deal size and opportunities per week, each with a 90 % interval.

Open opportunities are right-censored, never counted as lost: the win rate is the
Aalen-Johansen cumulative incidence of "won" (competing risk "lost") at the longest
follow-up, over that of won or lost (deals open beyond every closed one resolve
alike). It is the share won among closed deals when every deal is closed, and
corrects the bias of that share when recent deals that would be won late are
still open. Stage conversions are
advanced / (advanced + lost) among the opportunities that left the stage, with the
weeks spent in it (open ones included) over those that left (the maximum-likelihood
estimates of the model's geometric stay).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from simulator.analysis.fitting.estimate import (
    Estimate,
    F,
    bootstrap_interval,
    poisson_rate_interval,
)
from simulator.analysis.fitting.table import (
    DateOrder,
    Table,
    date_order,
    dates,
    numbers,
)

OPPORTUNITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": (
        "Opportunity ID",
        "Record ID",
        "Deal ID",
        "Id",
        "Opportunity Name",
        "Deal Name",
        "Title",
        "Name",
    ),
    "outcome": (
        "Outcome",
        "Status",
        "Result",
        "Won/Lost",
        "Stage",
        "Stage Name",
        "Deal Stage",
        "Pipeline Stage",
    ),
    "created": (
        "Created Date",
        "Create Date",
        "Created",
        "Deal created",
        "Deal created on",
        "Created on",
        "Date created",
        "Created Time",
        "Open Date",
        "Opened",
        "Engaged",
        "Engaged Date",
        "Start Date",
    ),
    "closed": (
        "Close Date",
        "Closed Date",
        "Actual Close Date",
        "Date closed",
        "Closed",
        "Deal closed on",
        "Closed on",
        "Closing Date",
        "Close Time",
        "End Date",
    ),
    "amount": (
        "ACV",
        "Annual Contract Value",
        "Amount",
        "Deal Amount",
        "Amount in company currency",
        "Deal value",
        "Value",
        "Opportunity Amount",
        "Revenue",
        "Actual Revenue",
        "Est. Revenue",
        "Estimated Revenue",
    ),
}

#: A Salesforce-style stage history: one row per opportunity and stage entered.
HISTORY_COLUMNS: dict[str, tuple[str, ...]] = {
    "opportunity": (
        "Opportunity ID",
        "Opportunity Name",
        "Deal ID",
        "Record ID",
        "Opportunity",
        "Deal",
        "Id",
    ),
    "stage": ("To Stage", "Stage", "Stage Name", "New Value", "Deal Stage"),
    "date": (
        "Date",
        "Stage Date",
        "Date Entered",
        "Entered",
        "Last Modified",
        "Last Modified Date",
        "Created Date",
        "Changed",
        "Edit Date",
    ),
}

_WON = re.compile(r"\b(won|win|closed ?won|booked|signed)\b")
_LOST = re.compile(r"\b(lost|loss|closed ?lost|dead|disqualified|abandoned)\b")
_ENTERED = re.compile(r"^date entered\s+(.+)$", re.IGNORECASE)

Outcome = str  # "won", "lost" or "open"


def classify(word: str) -> Outcome:
    """An export's outcome or stage word, read case-insensitively: Won, Closed Won,
    Lost, Closed Lost ... anything else is an open stage."""
    text = word.strip().lower().replace("_", " ").replace("-", " ")
    if _LOST.search(text) or text.replace(" ", "") == "closedlost":
        return "lost"
    if _WON.search(text) or text.replace(" ", "") == "closedwon":
        return "won"
    return "open"


def wide_stage_columns(table: Table) -> list[tuple[str, str]]:
    """HubSpot's "Date entered <stage>" columns: (header, stage name), in file order,
    the won and lost stages left out."""
    found = []
    for header in table.header:
        m = _ENTERED.match(header.strip())
        if not m:
            continue
        # 'Date entered "Contract sent (Sales Pipeline)"': the stage, without the
        # quotes and the pipeline's name.
        name = re.sub(r"\s*\([^)]*\)\s*$", "", m.group(1).strip(" \"'")).strip()
        if name and classify(name) == "open":
            found.append((header, name))
    return found


@dataclass
class StageFit:
    name: str
    conversion: Estimate
    mean_weeks: Estimate


@dataclass
class OpportunityFit:
    """What an opportunity export says, each figure with its interval."""

    file: str
    rows: int
    won: int
    lost: int
    open: int
    win_rate: Estimate
    cycle_weeks: Estimate
    acv_median: Estimate
    acv_sigma: Estimate
    per_week: Estimate
    stages: list[StageFit] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def is_history(table: Table) -> bool:
    """A long stage-history table: an opportunity, a stage and a date per row, and
    most opportunities on several rows (an export may repeat a few names)."""
    roles = table.roles
    if not {"opportunity", "stage", "date"} <= roles.keys():
        return False
    ids = [i.strip() for i in table.role("opportunity") or []]
    counts = Counter(ids)
    repeated = sum(n for n in counts.values() if n > 1)
    return repeated > len(ids) / 2


def fit_opportunities(
    table: Table,
    *,
    order: DateOrder | None,
    history: Table | None = None,
) -> OpportunityFit:
    """Estimate the pipeline and deals from an export whose roles are found."""
    for role, need in (
        ("outcome", "an outcome or stage column (Won / Lost / open stage names)"),
        ("created", "a created (or engaged) date column"),
        ("closed", "a close date column"),
        ("amount", "an amount or deal value column"),
    ):
        if role not in table.roles:
            looked = ", ".join(OPPORTUNITY_COLUMNS[role][:5])
            raise table.error(
                f"no {role} column found: needs {need} (looked for {looked}, ...); "
                f"name it with --columns {role}=HEADER"
            )
    r = table.roles
    wide = wide_stage_columns(table)
    date_headers = [r["created"], r["closed"], *(h for h, _ in wide)]
    order = date_order(table, date_headers, order)
    outcomes = [classify(w) for w in table.role("outcome") or []]
    created = dates(table, r["created"], order, what="the created date")
    closed = dates(table, r["closed"], order, what="the close date")
    amounts = numbers(table, r["amount"], what="the amount")
    n_won, n_lost = outcomes.count("won"), outcomes.count("lost")
    if n_won + n_lost == 0:
        shown = sorted({w.strip() for w in table.role("outcome") or []})[:4]
        raise table.error(
            "no closed opportunities: no value reads won or lost (found "
            f"{', '.join(repr(s) for s in shown)}); the win rate needs closed deals",
            r["outcome"],
        )
    if n_won < 2:
        raise table.error(
            f"only {n_won} won opportunity; the deal size needs at least 2 won "
            "opportunities with an amount",
            r["outcome"],
        )
    skipped: dict[str, int] = {}
    keep = []
    for i, (o, c0, c1) in enumerate(zip(outcomes, created, closed, strict=True)):
        if c0 is None:
            skipped["no created date"] = skipped.get("no created date", 0) + 1
        elif o != "open" and c1 is None:
            skipped["closed without a close date"] = (
                skipped.get("closed without a close date", 0) + 1
            )
        elif o != "open" and c1 is not None and c1 < c0:
            skipped["closed before created"] = (
                skipped.get("closed before created", 0) + 1
            )
        else:
            keep.append(i)
    if not keep:
        raise table.error("no row has a created date", r["created"])
    known_dates = [created[i] for i in keep] + [
        closed[i] for i in keep if outcomes[i] != "open"
    ]
    as_of: dt.date = max(d for d in known_dates if d is not None)
    name = table.name

    # --- win rate (Aalen-Johansen, open deals censored at the export's last date)
    event = np.array([{"won": 1, "lost": 2, "open": 0}[outcomes[i]] for i in keep])
    end = [closed[i] if outcomes[i] != "open" else as_of for i in keep]
    days = np.array([(e - created[i]).days for e, i in zip(end, keep, strict=True)])  # type: ignore[operator]
    # Ties: events before censoring, so a deal closed on the export day counts.
    sort = np.lexsort((event == 0, days))
    event_sorted = event[sort]

    def win_rate(weights: F) -> F:
        w = weights[:, sort]
        at_risk = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]
        safe = np.where(at_risk > 0, at_risk, 1.0)
        hazard_any = np.where(event_sorted > 0, w, 0.0) / safe
        survival_before = np.cumprod(
            np.hstack([np.ones((w.shape[0], 1)), 1 - hazard_any[:, :-1]]), axis=1
        )
        won_hazard = np.where(event_sorted == 1, w, 0.0) / safe
        lost_hazard = np.where(event_sorted == 2, w, 0.0) / safe
        won_by_end = (survival_before * won_hazard).sum(axis=1)
        lost_by_end = (survival_before * lost_hazard).sum(axis=1)
        # Deals still open beyond the longest follow-up close like the rest.
        result: F = won_by_end / np.maximum(won_by_end + lost_by_end, 1e-12)
        return result

    ones = np.ones((1, len(keep)))
    columns_outcome = [r["outcome"], r["created"], r["closed"]]
    rate = float(win_rate(ones)[0])
    low, high = bootstrap_interval(win_rate, len(keep))
    n_open = outcomes.count("open")
    win = Estimate(
        rate,
        low,
        high,
        name,
        n_won + n_lost,
        columns_outcome,
        f"{n_won} won, {n_lost} lost; {n_open} open deals counted as censored "
        f"at {as_of.isoformat()}, not as lost",
    )

    # --- won cycle: the mean of the won times weighted by the Aalen-Johansen
    # increments of "won", so that deals still open (which would be won late)
    # count through the censoring instead of pulling the mean towards quick wins.
    weeks_sorted = days[sort] / 7.0

    def won_increments(weights: F) -> F:
        w = weights[:, sort]
        at_risk = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]
        safe = np.where(at_risk > 0, at_risk, 1.0)
        hazard_any = np.where(event_sorted > 0, w, 0.0) / safe
        survival_before = np.cumprod(
            np.hstack([np.ones((w.shape[0], 1)), 1 - hazard_any[:, :-1]]), axis=1
        )
        result: F = survival_before * np.where(event_sorted == 1, w, 0.0) / safe
        return result

    def mean_cycle(weights: F) -> F:
        inc = won_increments(weights)
        result: F = (inc * weeks_sorted).sum(axis=1) / np.maximum(
            inc.sum(axis=1), 1e-12
        )
        return result

    n_won_kept = int((event == 1).sum())
    cycle_value = float(mean_cycle(ones)[0])
    low, high = bootstrap_interval(mean_cycle, len(keep))
    cycle = Estimate(
        cycle_value,
        low,
        high,
        name,
        n_won_kept,
        [r["created"], r["closed"]],
        "mean weeks from created to won (open deals censored)",
    )

    # --- deal size: lognormal of won amounts
    won_amounts = np.array(
        [
            a
            for a, o in zip(amounts, outcomes, strict=True)
            if o == "won" and a is not None and a > 0
        ]
    )
    if won_amounts.size < 2:
        raise table.error(
            "fewer than 2 won opportunities have a positive amount; the deal size "
            "needs them",
            r["amount"],
        )
    logs = np.log(won_amounts)

    def median(weights: F) -> F:
        out = np.empty(weights.shape[0])
        order_ = np.argsort(logs)
        sorted_logs = logs[order_]
        for b in range(weights.shape[0]):
            cum = np.cumsum(weights[b, order_])
            out[b] = np.exp(sorted_logs[np.searchsorted(cum, cum[-1] / 2)])
        return out

    def log_sd(weights: F) -> F:
        total = weights.sum(axis=1)
        mean = (weights * logs).sum(axis=1) / total
        var = (weights * (logs - mean[:, None]) ** 2).sum(axis=1) / np.maximum(
            total - 1, 1
        )
        result: F = np.sqrt(var)
        return result

    acv_cols = [r["amount"], r["outcome"]]
    low, high = bootstrap_interval(median, logs.size)
    acv_median = Estimate(
        float(np.median(won_amounts)),
        low,
        high,
        name,
        int(logs.size),
        acv_cols,
        "median amount of won deals",
    )
    low, high = bootstrap_interval(log_sd, logs.size)
    acv_sigma = Estimate(
        float(logs.std(ddof=1)),
        low,
        high,
        name,
        int(logs.size),
        acv_cols,
        "standard deviation of the log of won amounts",
    )

    # --- opportunities per week
    first = min(created[i] for i in keep)  # type: ignore[type-var]
    span_weeks = max((as_of - first).days / 7.0, 1.0)  # type: ignore[operator]
    low, high = poisson_rate_interval(len(keep), span_weeks)
    per_week = Estimate(
        len(keep) / span_weeks,
        low,
        high,
        name,
        len(keep),
        [r["created"]],
        f"created {first.isoformat()} to {as_of.isoformat()}",  # type: ignore[union-attr]
    )

    fit = OpportunityFit(
        file=name,
        rows=len(table.rows),
        won=n_won,
        lost=n_lost,
        open=n_open,
        win_rate=win,
        cycle_weeks=cycle,
        acv_median=acv_median,
        acv_sigma=acv_sigma,
        per_week=per_week,
        skipped=skipped,
    )
    ids = table.role("id")
    if wide:
        entered = {
            stage: dates(table, header, order, what=f"the date entered {stage}")
            for header, stage in wide
        }
        paths = [
            [(stage, entered[stage][i]) for _, stage in wide if entered[stage][i]]
            for i in range(len(table.rows))
        ]
        fit.stages = _stage_fits(
            [s for _, s in wide],
            paths,
            outcomes,
            closed,
            as_of,
            file=name,
            columns=[h for h, _ in wide],
        )
    elif history is not None:
        if ids is None:
            raise table.error(
                "a stage history was given but the export has no opportunity id "
                "column to match it; name it with --columns id=HEADER"
            )
        stages, history_paths = _history_paths(history, ids, order)
        fit.stages = _stage_fits(
            stages,
            history_paths,
            outcomes,
            closed,
            as_of,
            file=history.name,
            columns=[history.roles[k] for k in ("opportunity", "stage", "date")],
        )
    return fit


def _history_paths(
    history: Table, ids: Sequence[str], order: DateOrder | None
) -> tuple[list[str], list[list[tuple[str, dt.date]]]]:
    """The stages (ordered by when opportunities typically reach them) and each
    exported opportunity's stages entered, from a long history table."""
    r = history.roles
    when = dates(
        history, r["date"], date_order(history, [r["date"]], order), what="the date"
    )
    by_id: dict[str, list[tuple[str, dt.date]]] = {}
    for opp, stage, day in zip(
        history.role("opportunity") or [],
        history.role("stage") or [],
        when,
        strict=True,
    ):
        stage = stage.strip()
        if day is None or not stage or classify(stage) != "open":
            continue
        by_id.setdefault(opp.strip(), []).append((stage, day))
    positions: dict[str, list[int]] = {}
    for entries in by_id.values():
        entries.sort(key=lambda e: e[1])
        for pos, stage in enumerate(dict.fromkeys(s for s, _ in entries)):
            positions.setdefault(stage, []).append(pos)
    if not positions:
        raise history.error(
            "no open stage names found (only won/lost or blanks)", r["stage"]
        )
    stages = sorted(positions, key=lambda s: (float(np.mean(positions[s])), s))
    matched = [by_id.get(i.strip(), []) for i in ids]
    if not any(matched):
        raise history.error(
            "no opportunity id in the history matches the export's ids",
            r["opportunity"],
        )
    return stages, matched


def _stage_fits(
    stages: list[str],
    paths: Sequence[Sequence[tuple[str, dt.date | None]]],
    outcomes: Sequence[Outcome],
    closed: Sequence[dt.date | None],
    as_of: dt.date,
    *,
    file: str,
    columns: list[str],
) -> list[StageFit]:
    """Per stage: advanced, lost and weeks spent, per opportunity. A stage skipped
    on the way to a later one (or to a win) counts as passed, in no time."""
    index = {s: j for j, s in enumerate(stages)}
    n, J = len(paths), len(stages)
    advanced = np.zeros((n, J))
    lost = np.zeros((n, J))
    weeks = np.zeros((n, J))
    for i, path in enumerate(paths):
        reached = {index[s]: d for s, d in path if s in index and d is not None}
        if not reached:
            continue
        first, last = min(reached), max(reached)
        outcome = outcomes[i]
        end = closed[i] if outcome != "open" and closed[i] else as_of
        # A deal won from an earlier stage passed the later ones too.
        top = J - 1 if outcome == "won" else last
        for j in range(first, top + 1):
            start = reached.get(j)
            later = [reached[k] for k in range(j + 1, last + 1) if k in reached]
            leave = later[0] if later else end
            if start is not None and leave is not None:
                weeks[i, j] = max((leave - start).days, 0) / 7.0
            if j < last or outcome == "won":
                advanced[i, j] = 1
            elif outcome == "lost":
                lost[i, j] = 1
    fits = []
    for j, stage in enumerate(stages):
        a, l_, w = advanced[:, j], lost[:, j], weeks[:, j]
        if a.sum() + l_.sum() == 0:
            continue

        def conversion(weights: F, a: F = a, l_: F = l_) -> F:
            result: F = (weights @ a) / np.maximum(weights @ (a + l_), 1e-12)
            return result

        def mean_weeks(weights: F, a: F = a, l_: F = l_, w: F = w) -> F:
            result: F = (weights @ w) / np.maximum(weights @ (a + l_), 1e-12)
            return result

        ones = np.ones((1, n))
        exits = int(a.sum() + l_.sum())
        c_low, c_high = bootstrap_interval(conversion, n)
        m_low, m_high = bootstrap_interval(mean_weeks, n)
        fits.append(
            StageFit(
                stage,
                Estimate(
                    float(conversion(ones)[0]),
                    c_low,
                    c_high,
                    file,
                    exits,
                    columns,
                    f"{int(a.sum())} advanced, {int(l_.sum())} lost",
                ),
                Estimate(
                    float(mean_weeks(ones)[0]),
                    m_low,
                    m_high,
                    file,
                    exits,
                    columns,
                    "weeks in the stage (open deals included) per deal that left it",
                ),
            )
        )
    return fits
