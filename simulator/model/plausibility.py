"""What is valid but implausible: inputs a real company rarely has, and results
too extreme to be read without a second look.

Validation (:mod:`simulator.model.schema`) refuses what the model cannot run; this
module only warns. A warning names the parameter or figure, the value, and why
it is unusual, so that a typo (churn of 100 % a year for 10 %) or numbers that
do not fit together (420 customers with the ARR of 300) show before anyone
reads the result. Every threshold is here, in one place, and documented in
docs/model.md ("Plausible ranges").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from simulator.model.parameter_text import format_parameter, label_of, money
from simulator.model.schema import Scenario

# ------------------------------------------------------------------ thresholds

#: Annual churn above this share is rare outside consumer-like SMB software.
CHURN_MAX = 0.60
#: Net expansion of existing customers' ARR a year, plausible between these.
EXPANSION_RANGE = (-0.30, 0.50)
#: A deal value spread (log-sd) beyond this makes the mean deal many times the
#: median: one deal in a thousand then dwarfs a year of others.
ACV_SIGMA_MAX = 1.5
#: A pipeline stage converting outside these is more likely a typo (a
#: percentage typed as a fraction) than a real funnel.
STAGE_CONVERSION_RANGE = (0.05, 0.95)
#: Initial ARR divided by (initial customers x mean deal value): outside this
#: band the starting company and new deals describe different businesses, and
#: growth, measured on the initial ARR, is off by the same factor.
ARR_PER_CUSTOMER_RANGE = (0.8, 1.25)
#: Weekly marketing budget above this share of a week of ARR (ARR / 52).
BUDGET_SHARE_OF_WEEKLY_ARR = 1.0
#: Results: year-1 ARR growth outside these shares...
GROWTH_RANGE = (-0.80, 2.00)
#: ...a gap between two scenarios' growth beyond this many points (as a share)...
GROWTH_GAP_MAX = 1.00
#: ...and a median CAC above this many mean deal values.
CAC_DEALS_MAX = 10.0


@dataclass(frozen=True)
class Fix:
    """A change that would resolve a warning: ``label`` for a button."""

    label: str
    parameter: str
    value: float


@dataclass(frozen=True)
class Concern:
    """One warning: the parameter (dotted, list items by index) or figure it is
    about, and a sentence for people."""

    parameter: str
    message: str
    fixes: tuple[Fix, ...] = ()
    #: For a result: which card it belongs to, "result:<i>" (the i-th scenario)
    #: or "difference:<i>" (the i-th alternative against the baseline).
    where: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"about": self.parameter, "message": self.message}


def mean_deal(scenario: Scenario) -> float:
    """The mean deal value of the lognormal deal sizes."""
    d = scenario.deals
    return d.acv_median * math.exp(d.acv_sigma**2 / 2)


def _outside(
    dotted: str, value: float, low: float | None, high: float | None, why: str
) -> Concern | None:
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    if high is not None and value > high:
        bound = f"above {format_parameter(dotted, high)}"
    else:
        bound = f"below {format_parameter(dotted, low)}"
    return Concern(
        dotted,
        f"{label_of(dotted)} {format_parameter(dotted, value)} is {bound}: {why}",
    )


def input_warnings(scenario: Scenario) -> list[Concern]:
    """Warnings about a scenario's inputs, in the editor's order."""
    out: list[Concern | None] = []
    c = scenario.company
    out.append(
        _outside(
            "company.annual_churn",
            c.annual_churn,
            None,
            CHURN_MAX,
            "few companies lose that many customers a year (a typo?)",
        )
    )
    out.append(
        _outside(
            "company.annual_expansion",
            c.annual_expansion,
            *EXPANSION_RANGE,
            "existing customers rarely change their spend that much a year",
        )
    )
    out.append(_arr_fit(scenario))
    weekly_arr = c.initial_arr / 52
    budget = scenario.marketing.weekly_budget
    if c.initial_arr > 0 and budget > BUDGET_SHARE_OF_WEEKLY_ARR * weekly_arr:
        out.append(
            Concern(
                "marketing.weekly_budget",
                f"Weekly budget {money(budget)} is more than a week of ARR "
                f"({money(weekly_arr)}): marketing would spend more than the "
                "company earns (is it a yearly budget?)",
            )
        )
    out.append(
        _outside(
            "deals.acv_sigma",
            scenario.deals.acv_sigma,
            None,
            ACV_SIGMA_MAX,
            f"the mean deal ({money(mean_deal(scenario))}) is then far above the "
            "median and rare huge deals drive the results",
        )
    )
    for index, stage in enumerate(scenario.pipeline.stages):
        concern = _outside(
            f"pipeline.stages.{index}.conversion",
            stage.conversion,
            *STAGE_CONVERSION_RANGE,
            "a real pipeline stage rarely converts that few or that many",
        )
        if concern is not None:
            out.append(
                Concern(
                    concern.parameter,
                    concern.message.replace(f"Stage {index}:", f"Stage {stage.name}:"),
                )
            )
    deal = mean_deal(scenario)
    for index, source in enumerate(scenario.marketing.sources):
        if source.cost_per_lead > deal:
            out.append(
                Concern(
                    f"marketing.sources.{index}.cost_per_lead",
                    f"Source {source.name}: a lead costs "
                    f"{money(source.cost_per_lead)}, more than a mean deal "
                    f"({money(deal)})",
                )
            )
    return [concern for concern in out if concern is not None]


def _arr_fit(scenario: Scenario) -> Concern | None:
    c = scenario.company
    deal = mean_deal(scenario)
    expected = c.initial_customers * deal
    if c.initial_customers <= 0 or c.initial_arr <= 0:
        return None
    ratio = c.initial_arr / expected
    low, high = ARR_PER_CUSTOMER_RANGE
    if low <= ratio <= high:
        return None
    per_customer = c.initial_arr / c.initial_customers
    customers = max(1, round(c.initial_arr / deal))
    return Concern(
        "company.initial_arr",
        f"Initial ARR {money(c.initial_arr)} is {ratio:.2f}x "
        f"{c.initial_customers:,} customers x the mean deal {money(deal)} "
        f"({money(expected)}): {money(per_customer)} a customer, while a new "
        "deal adds "
        f"{money(deal)}. Growth is measured on the initial ARR, so it is off by "
        "that factor",
        (
            Fix(
                f"Set ARR to {money(expected)}",
                "company.initial_arr",
                round(expected, 2),
            ),
            Fix(
                f"Set customers to {customers:,}",
                "company.initial_customers",
                customers,
            ),
        ),
    )


def result_warnings(comparison: Any) -> list[Concern]:
    """Warnings about a comparison's results (medians of its runs)."""
    out = []
    for number, result in enumerate(comparison.results):
        summary = result.summary
        name = result.name
        if "arr_growth_y1" in result.figures:
            growth = summary["arr_growth_y1"]["p50"]
            low, high = GROWTH_RANGE
            if growth > high or growth < low:
                out.append(
                    Concern(
                        "arr_growth_y1",
                        f"{name}: ARR growth over year 1 of {growth * 100:+.0f} % "
                        f"is beyond {low * 100:+.0f} % .. {high * 100:+.0f} % a "
                        "year; check the inputs before reading it",
                        where=f"result:{number}",
                    )
                )
        cac = summary["cac"]["p50"]
        deal = mean_deal(result.scenario)
        if not math.isnan(cac) and cac > CAC_DEALS_MAX * deal:
            out.append(
                Concern(
                    "cac",
                    f"{name}: CAC of {money(cac)} is more than {CAC_DEALS_MAX:g}x "
                    f"the mean deal ({money(deal)}); check the budget and funnel",
                    where=f"result:{number}",
                )
            )
    for number, (alternative, diff) in enumerate(
        zip(comparison.alternatives, comparison.differences, strict=True)
    ):
        if "arr_growth_y1" in diff:
            gap = diff["arr_growth_y1"]["p50"]
            if abs(gap) > GROWTH_GAP_MAX:
                out.append(
                    Concern(
                        "arr_growth_y1",
                        f"{alternative.name}: a gap of {gap * 100:+.0f} points of "
                        "year-1 growth over the baseline is beyond "
                        f"±{GROWTH_GAP_MAX * 100:.0f}; check the inputs",
                        where=f"difference:{number}",
                    )
                )
    return out


def result_warning_lines(comparison: Any) -> list[str]:
    """The result warnings as lines for a table or an export."""
    return [f"Warning: {c.message}." for c in result_warnings(comparison)]


def start_line(comparison: Any) -> str:
    """The start every scenario of a comparison shares, for people."""
    company = comparison.baseline.scenario.company
    return (
        f"Every scenario starts from the baseline's company: "
        f"{company.initial_customers:,} customers, {money(company.initial_arr)} ARR; "
        "growth is measured from there"
    )


#: The bundled company the lever files' values were written for. Levers with a
#: published relative effect (churn, the win rate) are effects and follow any
#: company; the others set a practice's value (10 % of MQLs ignored), which can
#: be a smaller or opposite change for another company.
LEVERS_WRITTEN_FOR = "siloed"


#: Parameters where 0 means "no limit" (a capacity of 0: every lead contacted).
UNLIMITED_AT_ZERO = frozenset({"follow_up.capacity_per_week"})


def lever_warnings(baseline: Scenario, alternative: Scenario) -> list[Concern]:
    """Where a lever of ``alternative`` sets a practice's value (10 % of MQLs
    ignored) that moves the baseline the opposite way from the bundled company
    it was written for (whose 45 % it cuts, while it raises a baseline's 5 %):
    the lever then works against what it stands for. A value the baseline
    already has, or one the bundled company had too, is no warning."""
    from simulator.model.errors import ScenarioError
    from simulator.model.provenance import value_of
    from simulator.model.scenario_io import load_lever

    try:
        reference = _reference()
    except ScenarioError:
        return []
    out = []
    for lever_id in alternative.levers:
        try:
            lever = load_lever(lever_id)
        except ScenarioError:
            continue
        for dotted, value in lever.set.items():
            # (effects such as {times = 0.64} follow the baseline: no warning)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            mine = value_of(baseline, dotted)
            written_for = value_of(reference, dotted)
            if value_of(alternative, dotted) != value or mine is None:
                continue  # the lever does not act here (the file sets its own)
            meant = _direction(dotted, written_for, value)
            here = _direction(dotted, mine, value)
            if meant and here and meant != here:
                out.append(
                    Concern(
                        dotted,
                        f"The lever {lever.name} sets {label_of(dotted).lower()} "
                        f"to {format_parameter(dotted, value)}: for the bundled "
                        f"company a {_MOVE[meant]} from "
                        f"{format_parameter(dotted, written_for)}, but your baseline "
                        f"has {format_parameter(dotted, mine)}, so here it is a "
                        f"{_MOVE[here]}. Set this alternative's own value for your "
                        "company",
                    )
                )
    return out


_MOVE = {1: "rise", -1: "cut"}


def _direction(dotted: str, before: Any, after: float) -> int:
    """+1 if going from ``before`` to ``after`` raises the parameter, -1 if it
    cuts it, 0 if it stays (or ``before`` is not a number)."""
    if isinstance(before, bool) or not isinstance(before, int | float):
        return 0

    def level(x: float) -> float:
        return math.inf if dotted in UNLIMITED_AT_ZERO and x == 0 else float(x)

    return (level(after) > level(before)) - (level(after) < level(before))


@cache
def _reference() -> Scenario:
    """The bundled company the levers were written for (read once)."""
    from simulator.model.scenario_io import load_scenario

    return load_scenario(LEVERS_WRITTEN_FOR)
