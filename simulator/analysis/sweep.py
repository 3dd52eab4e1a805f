"""Does the verdict survive the figures nobody has measured? A sweep of the
two inputs of the bundled scenarios that have no firm source (docs/model.md,
"Sensitivity"):

* the response-decay time constant ``follow_up.decay_tau_hours``: 0.49 h (29 min)
  fits the HBR 2011 audit, 0.133 h (8 min) fits the MIT / InsideSales Lead Response
  Management study;
* the closed-loop learning rate ``marketing.reallocation.rate``: how far the
  budget moves at each review, from 0 (never) to 1 (its maximum).

At each sweep point a paired comparison (one warm-up with the baseline, common
random numbers) gives both medians, the paired difference with its standard
error, ``p_better`` and whether the alternative still beats the baseline.
``funnelsim sweep`` (:mod:`simulator.cli.sweep`) prints it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulator.model.scenario_io import load_scenario, resolve_alternative
from simulator.run.memo import RunMemo
from simulator.run.runner import RunSettings, compare

TAU_PARAMETER = "follow_up.decay_tau_hours"
RATE_PARAMETER = "marketing.reallocation.rate"
#: 8 minutes (Lead Response Management study) and 29 minutes (HBR 2011 fit).
DEFAULT_TAUS = (0.133, 0.49)
#: From "never moves" to the schema's maximum.
DEFAULT_RATES = (0.0, 0.25, 0.5, 0.75, 1.0)
#: The verdict needs the paired mean difference this many standard errors from 0.
Z_VERDICT = 2.0


@dataclass(frozen=True)
class SweepPoint:
    """The result of one paired comparison of the sweep."""

    parameter: str
    value: float
    applies_to: str
    baseline_p50: float
    alternative_p50: float
    difference_mean: float
    difference_se: float
    p_better: float
    p_better_se: float
    verdict: str  # "better", "worse" or "unclear"

    @property
    def beats(self) -> bool:
        return self.verdict == "better"


def verdict(mean: float, se: float) -> str:
    """``better`` when the paired mean difference is more than ``Z_VERDICT``
    standard errors above 0, ``worse`` when as far below, else ``unclear``."""
    if not math.isfinite(mean):
        return "unclear"
    if mean - Z_VERDICT * se > 0:
        return "better"
    if mean + Z_VERDICT * se < 0:
        return "worse"
    return "unclear"


def run_point(
    baseline_ref: str,
    alternative_ref: str,
    *,
    parameter: str,
    value: float,
    on_baseline: bool,
    overrides: dict[str, Any],
    settings: RunSettings | None,
    figure: str,
    threads: int | None = None,
    memo: RunMemo | None = None,
) -> SweepPoint:
    """One paired comparison with ``parameter`` set to ``value`` on the alternative
    (and on the baseline too when ``on_baseline``). The caller's ``overrides``
    (``--set``) describe the company: they apply to the baseline, which the
    alternative inherits (its levers then act on them); the swept value is set
    on the alternative after its levers, so that it holds there whatever they
    set. ``memo`` keeps warm-ups for the next point (a sweep's own)."""
    point = {parameter: value}
    base = load_scenario(
        baseline_ref, overrides={**overrides, **(point if on_baseline else {})}
    )
    alt = resolve_alternative(base, alternative_ref, overrides=point)
    comparison = compare(base, [alt], settings=settings, threads=threads, memo=memo)
    diff = comparison.differences[0][figure]
    return SweepPoint(
        parameter=parameter,
        value=value,
        applies_to="both" if on_baseline else "alternative",
        baseline_p50=comparison.baseline.summary[figure]["p50"],
        alternative_p50=comparison.alternatives[0].summary[figure]["p50"],
        difference_mean=diff["mean"],
        difference_se=diff["se"],
        p_better=diff["p_better"],
        p_better_se=diff["p_better_se"],
        verdict=verdict(diff["mean"], diff["se"]),
    )


def sweep(
    baseline_ref: str = "siloed",
    alternative_ref: str = "aligned",
    *,
    taus: Sequence[float] = DEFAULT_TAUS,
    rates: Sequence[float] = DEFAULT_RATES,
    rate_on: str = "both",
    overrides: dict[str, Any] | None = None,
    settings: RunSettings | None = None,
    figure: str = "arr_growth_y1",
    threads: int | None = None,
) -> list[SweepPoint]:
    """Run every sweep point: the decay constants (on both scenarios: it describes
    buyers, not the organisation), then the learning rates (on both, or on the
    alternative only with ``rate_on="alternative"``)."""
    overrides = dict(overrides or {})
    # Points that leave the baseline as it was (a rate on the alternative alone)
    # share its warm-up and runs.
    memo = RunMemo()
    points = [
        run_point(
            baseline_ref,
            alternative_ref,
            parameter=TAU_PARAMETER,
            value=tau,
            on_baseline=True,
            overrides=overrides,
            settings=settings,
            figure=figure,
            threads=threads,
            memo=memo,
        )
        for tau in taus
    ]
    points += [
        run_point(
            baseline_ref,
            alternative_ref,
            parameter=RATE_PARAMETER,
            value=rate,
            on_baseline=rate_on == "both",
            overrides=overrides,
            settings=settings,
            figure=figure,
            threads=threads,
            memo=memo,
        )
        for rate in rates
    ]
    return points
