"""Write the synthetic example files of docs/examples/ from known parameters.

Nothing here is real company data: every file is drawn at random (fixed seeds)
from the parameters below, so that `funnelsim fit` can be checked against a
known truth (tests/test_fit_examples.py does). Run from the repository root:

    python docs/examples/make_examples.py

- salesforce_opportunities.csv + salesforce_stage_history.csv: a Salesforce-style
  opportunity report (US dates m/d/Y, "Closed Won" / "Closed Lost" / open stage
  names) with its opportunity stage history as a long table.
- hubspot_deals.csv: a HubSpot-style deals export (ISO date-times, a "Date entered
  <stage>" column per stage).
- funnel_report.csv: a monthly funnel report (leads, MQLs, accepted,
  opportunities, won) simulated by FunnelSim's own engine from the scenario
  TRUTH_FUNNEL below, whose pipeline is the Salesforce-style company's.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
EXPORT_DAY = dt.date(2025, 12, 31)
FIRST_DAY = dt.date(2024, 1, 1)

#: The Salesforce-style company: stages (name, conversion, mean weeks), deals,
#: opportunities created per week. Win rate 0.6 * 0.55 * 0.7 = 23.1 %; a won deal
#: spends 2.5 + 3 + 2 = 7.5 weeks on average.
TRUTH_SALESFORCE = {
    "stages": [
        ("Qualification", 0.60, 2.5),
        ("Proposal", 0.55, 3.0),
        ("Negotiation", 0.70, 2.0),
    ],
    "acv_median": 24_000.0,
    "acv_sigma": 0.5,
    "per_week": 12.0,
    "seed": 101,
}
#: The HubSpot-style company: win rate 0.7 * 0.6 * 0.6 * 0.8 = 20.2 %, won cycle
#: 1.5 + 2 + 3 + 2 = 8.5 weeks.
TRUTH_HUBSPOT = {
    "stages": [
        ("Appointment scheduled", 0.70, 1.5),
        ("Qualified to buy", 0.60, 2.0),
        ("Presentation scheduled", 0.60, 3.0),
        ("Contract sent", 0.80, 2.0),
    ],
    "acv_median": 15_000.0,
    "acv_sigma": 0.7,
    "per_week": 8.0,
    "seed": 202,
}
#: The funnel report's company: `siloed` with these values (and the Salesforce-
#: style pipeline), simulated for one run of 52 weeks.
TRUTH_FUNNEL = {
    "marketing.weekly_budget": 70_000.0,
    "marketing.scoring": {"pass_ready": 0.6, "pass_future": 0.6, "pass_junk": 0.6},
    "handoff.ignore_base": 0.30,
    "handoff.trust_sensitivity": 0.0,
    "follow_up.capacity_per_week": 0.0,
    "follow_up.qualify_ready": 0.60,
    "pipeline.stages": [
        {"name": n, "conversion": c, "mean_weeks": w}
        for n, c, w in TRUTH_SALESFORCE["stages"]  # type: ignore[attr-defined]
    ],
    "simulation.seed": 303,
}


def simulate_opportunities(truth: dict) -> list[dict]:
    """Opportunities created at random days, each moving through the stages with
    the model's geometric stay (whole weeks), won after the last stage."""
    rng = np.random.default_rng(truth["seed"])
    days = (EXPORT_DAY - FIRST_DAY).days
    n = rng.poisson(truth["per_week"] * days / 7)
    out = []
    for i in range(n):
        created = FIRST_DAY + dt.timedelta(days=int(rng.integers(0, days)))
        day = created
        entered = []
        outcome = "won"
        for name, conversion, mean_weeks in truth["stages"]:
            entered.append((name, day))
            day = day + dt.timedelta(weeks=int(rng.geometric(1 / mean_weeks)))
            if rng.random() >= conversion:
                outcome = "lost"
                break
        amount = float(
            np.exp(
                np.log(truth["acv_median"]) + truth["acv_sigma"] * rng.standard_normal()
            )
        )
        if day > EXPORT_DAY:
            outcome = "open"
            entered = [(s, d) for s, d in entered if d <= EXPORT_DAY]
            day = EXPORT_DAY + dt.timedelta(
                days=int(rng.integers(7, 60))
            )  # expected close
        out.append(
            {
                "id": f"{i + 1:05d}",
                "created": created,
                "closed": day,
                "outcome": outcome,
                "entered": entered,
                "amount": round(amount, -2),
            }
        )
    return out


def write_salesforce() -> None:
    opps = simulate_opportunities(TRUTH_SALESFORCE)
    us = "%m/%d/%Y"
    with open(
        HERE / "salesforce_opportunities.csv", "w", newline="", encoding="utf-8"
    ) as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Opportunity ID",
                "Opportunity Name",
                "Account Name",
                "Stage",
                "Amount",
                "Created Date",
                "Close Date",
                "Lead Source",
            ]
        )
        for o in opps:
            stage = {"won": "Closed Won", "lost": "Closed Lost"}.get(
                o["outcome"], o["entered"][-1][0]
            )
            w.writerow(
                [
                    f"006A{o['id']}",
                    f"Example deal {o['id']}",
                    f"Example account {o['id']}",
                    stage,
                    f"{o['amount']:,.2f}",
                    o["created"].strftime(us),
                    o["closed"].strftime(us),
                    "Web",
                ]
            )
    with open(
        HERE / "salesforce_stage_history.csv", "w", newline="", encoding="utf-8"
    ) as f:
        w = csv.writer(f)
        w.writerow(["Opportunity ID", "From Stage", "To Stage", "Last Modified"])
        for o in opps:
            previous = ""
            for stage, day in o["entered"]:
                w.writerow([f"006A{o['id']}", previous, stage, day.strftime(us)])
                previous = stage
            if o["outcome"] != "open":
                final = "Closed Won" if o["outcome"] == "won" else "Closed Lost"
                w.writerow(
                    [f"006A{o['id']}", previous, final, o["closed"].strftime(us)]
                )


def write_hubspot() -> None:
    opps = simulate_opportunities(TRUTH_HUBSPOT)
    names = [s for s, _, _ in TRUTH_HUBSPOT["stages"]]
    with open(HERE / "hubspot_deals.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Record ID",
                "Deal Name",
                "Deal Stage",
                "Pipeline",
                "Amount",
                "Create Date",
                "Close Date",
                *(f'Date entered "{s} (Sales Pipeline)"' for s in names),
            ]
        )
        for o in opps:
            stage = {"won": "Closed won", "lost": "Closed lost"}.get(
                o["outcome"], o["entered"][-1][0]
            )
            when = dict(o["entered"])
            close = o["closed"].isoformat() + " 17:00" if o["outcome"] != "open" else ""
            w.writerow(
                [
                    o["id"],
                    f"Deal {o['id']}",
                    stage,
                    "Sales Pipeline",
                    o["amount"],
                    o["created"].isoformat() + " 09:30",
                    close,
                    *(
                        (when[s].isoformat() + " 09:30") if s in when else ""
                        for s in names
                    ),
                ]
            )


def write_funnel_report() -> None:
    from simulator.model.scenario_io import load_scenario
    from simulator.run.runner import RunSettings, compare

    truth = load_scenario("siloed", overrides=TRUTH_FUNNEL)
    settings = RunSettings(runs=1, horizon_weeks=52, warmup_weeks=52, seed=303)
    run = compare(truth, settings=settings).baseline
    weekly = {
        k: run.weekly[k][0] for k in ("leads", "mqls", "ignored", "qualified", "won")
    }
    start = dt.date(2025, 1, 6)  # a Monday
    months: dict[str, dict[str, float]] = {}
    for week in range(52):
        month = (start + dt.timedelta(weeks=week)).strftime("%Y-%m")
        row = months.setdefault(month, dict.fromkeys(weekly, 0.0))
        for k in weekly:
            row[k] += float(weekly[k][week])
    with open(HERE / "funnel_report.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Month", "Leads", "MQLs", "Accepted", "Opportunities", "Won"])
        for month, r in months.items():
            w.writerow(
                [
                    month,
                    round(r["leads"]),
                    round(r["mqls"]),
                    round(r["mqls"] - r["ignored"]),
                    round(r["qualified"]),
                    round(r["won"]),
                ]
            )


if __name__ == "__main__":
    write_salesforce()
    write_hubspot()
    write_funnel_report()
