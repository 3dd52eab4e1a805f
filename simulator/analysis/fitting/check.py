"""The fitted scenario checked by simulation: its figures beside the data's.

The funnel's flows come from an ordinary run of the scenario (the report's
weeks after its warm-up); the win rate and won cycle from a cohort of
opportunities followed through the engine's pipeline until every one is won or
lost; the deal-size median from the deal values the model draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from simulator.analysis.fitting import funnel as fn
from simulator.analysis.fitting.funnel import ratio_of
from simulator.analysis.fitting.provenance import CHECK_RUNS, FitResult
from simulator.engine.chunk import Recorder, State, step
from simulator.engine.params import compile_params
from simulator.engine.streams import all_block_seeds, block_bounds, chunk_streams
from simulator.model.scenario_io import apply_override
from simulator.model.schema import Scenario
from simulator.run.runner import RunSettings, compare

#: Opportunities per run of the cohort check, and the most weeks it follows them.
COHORT = 50
COHORT_WEEKS = 520
DEALS_DRAWN = 20_000

#: Model series behind each report step's per-run total.
_TOTALS: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "leads": lambda f: f["total_leads"],
    "mqls": lambda f: f["total_mqls"],
    "accepted": lambda f: f["total_mqls"] - f["total_ignored"],
    "opportunities": lambda f: f["total_qualified"],
    "won": lambda f: f["total_won"],
}


def check_by_simulation(
    result: FitResult,
    *,
    runs: int = CHECK_RUNS,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Fill each check's simulated figure (and its standard error)."""
    scenario = result.scenario
    seed = scenario.simulation.seed if seed is None else seed
    settings = RunSettings(
        runs=runs,
        horizon_weeks=result.weeks,
        warmup_weeks=scenario.simulation.warmup_weeks,
        seed=seed,
    )
    run = compare(scenario, settings=settings, progress=progress).baseline
    totals = {
        k: np.asarray(get(run.figures), dtype=np.float64) for k, get in _TOTALS.items()
    }
    for check in result.checks.values():
        pair = ratio_of(check.figure)
        if pair is not None:
            check.simulated, check.simulated_se = _ratio(
                totals[pair[1]], totals[pair[0]]
            )
        elif check.figure.endswith(" per week"):
            step = next(
                (
                    s
                    for s in fn.STEPS
                    if check.figure == f"{fn.STEP_LABELS[s]} per week"
                ),
                "opportunities",
            )
            per_week = totals[step] / result.weeks
            check.simulated = float(per_week.mean())
            check.simulated_se = float(per_week.std(ddof=1) / math.sqrt(runs))
    if "win rate" in result.checks or "mean won cycle (weeks)" in result.checks:
        win, win_se, cycle, cycle_se = pipeline_cohort(scenario, runs=runs, seed=seed)
        if "win rate" in result.checks:
            c = result.checks["win rate"]
            c.simulated, c.simulated_se = win, win_se
        if "mean won cycle (weeks)" in result.checks:
            c = result.checks["mean won cycle (weeks)"]
            c.simulated, c.simulated_se = cycle, cycle_se
    if "median deal size" in result.checks:
        rng = np.random.default_rng(seed)
        d = scenario.deals
        values = np.exp(
            math.log(d.acv_median) + d.acv_sigma * rng.standard_normal(DEALS_DRAWN)
        )
        c = result.checks["median deal size"]
        c.simulated = float(np.median(values))
        # Standard error of a median: sqrt(pi/2) sigma_hat / sqrt(n), on the log scale.
        c.simulated_se = float(
            c.simulated * d.acv_sigma * math.sqrt(math.pi / 2 / DEALS_DRAWN)
        )
    result.simulated_runs = runs


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, float]:
    """Ratio of means over runs and its delta-method standard error."""
    n = numerator.size
    mean_d = float(denominator.mean())
    if mean_d <= 0:
        return float("nan"), float("nan")
    r = float(numerator.mean()) / mean_d
    residual = numerator - r * denominator
    se = float(residual.std(ddof=1) / math.sqrt(n) / mean_d) if n > 1 else float("nan")
    return r, se


def pipeline_cohort(
    scenario: Scenario, *, runs: int, seed: int
) -> tuple[float, float, float, float]:
    """Win rate and mean won cycle (weeks) of :data:`COHORT` opportunities per run
    put into the first stage and followed by the engine until absorbed."""
    raw = scenario.model_dump(mode="python", exclude_none=True)
    apply_override(raw, "marketing.weekly_budget", 0.0, origin="<check>")
    apply_override(raw, "nurture.enabled", False, origin="<check>")
    quiet = Scenario.model_validate(raw)
    params = compile_params(quiet, runs)
    state = State.initial(params)
    state.pipeline[0] = COHORT
    streams = chunk_streams(
        all_block_seeds(seed, runs),
        [b - a for a, b in block_bounds(runs)],
        warmup=False,
    )
    record = Recorder(runs, COHORT_WEEKS)
    for week in range(COHORT_WEEKS):
        step(state, params, streams, week, record)
        if state.pipeline.sum() == 0:
            break
    won = np.asarray(record.series["won"], dtype=float)  # (runs, weeks)
    won_runs = won.sum(axis=1)
    share = won_runs / COHORT
    weeks_to_win = np.arange(1, won.shape[1] + 1)
    total_won = won_runs.sum()
    cycle = float((won * weeks_to_win).sum() / total_won) if total_won else float("nan")
    per_run_weeks = (won * weeks_to_win).sum(axis=1)
    _, cycle_se = _ratio(per_run_weeks, won_runs) if total_won else (0.0, float("nan"))
    return (
        float(share.mean()),
        float(share.std(ddof=1) / math.sqrt(runs)),
        cycle,
        cycle_se,
    )
