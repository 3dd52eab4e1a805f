"""The value bridge: where the difference between two scenarios comes from.

From a baseline to an alternative, the *players* are the levers the alternative
applies and the baseline does not (in the alternative's order), plus, when the
alternative's own values still differ from "baseline + those levers", one
``other`` player holding those differences (in the bundled ``aligned`` scenario:
the cost of aligning). Scenario ``S`` for a set of players is the baseline with
the players' parameter overrides applied in that canonical order; the empty set is
the baseline and the full set is the alternative itself.

The game is ``v(S)`` = the median (or mean) over runs of one per-run figure of
scenario ``S``, all scenarios simulated in one set of comparisons with common
random numbers (:mod:`simulator.analysis.paired`). Two views of it:

* the **waterfall** adds the players one at a time in a chosen order; each bar is
  ``v(first k) - v(first k-1)``, so the bars sum exactly to ``v(all) - v(none)``,
  but a bar depends on the order when levers interact;
* the **Shapley value** of a player is its marginal effect averaged over all
  orders, ``phi_i = sum over S not containing i of |S|! (m-|S|-1)! / m! *
  (v(S + i) - v(S))``. It does not depend on any order and the values sum exactly
  to the total (efficiency). It is exact over all ``2^m`` subsets for up to
  :data:`EXACT_MAX_PLAYERS` players and estimated from sampled permutations
  (antithetic pairs: each permutation and its reverse) beyond.

A player whose parameters cannot change the figure (only costs, for a figure that
is not a cost) is a *null player*: its Shapley value and its bar are exactly 0
(the engine draws no random number from costs), so it is not simulated, which
halves the work per such player.

Monte Carlo standard errors come from a bootstrap over runs that resamples the run
indices jointly for every scenario (so the CRN pairing is kept); with sampled
permutations the permutation-sampling error is added in quadrature.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np

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
from simulator.model.scenario_io import (
    apply_override,
    flatten,
    load_lever,
    scenario_from_resolved,
)
from simulator.model.schema import PARAMETER_TABLES, Scenario
from simulator.run.memo import RunMemo
from simulator.run.runner import RunSettings

#: Exact Shapley values up to this many simulated players (2^9 = 512 scenarios):
#: the 8 bundled levers plus an "other differences" step.
EXACT_MAX_PLAYERS = 9
#: Permutations sampled beyond that (an even number: antithetic pairs).
DEFAULT_PERMUTATIONS = 64
DEFAULT_FIGURE = "arr_end"
DEFAULT_BOOTSTRAP = 200
#: Runs of a bridge or tornado computed on request in the app: 256 scenarios of
#: 300 runs take under 3 s on two cores for a year-1 figure (``funnelsim bench``).
INTERACTIVE_RUNS = 300
#: Bootstrap resamples of an interactive bridge's standard errors.
INTERACTIVE_BOOTSTRAP = 100
OTHER_ID = "other"

#: Parameters that only enter the cost and spend accounts (docs/model.md, 2.8): no
#: random draw and no other mechanism reads them.
COST_ONLY_PARAMETERS = frozenset(
    {"costs.sales_weekly", "costs.alignment_weekly", "nurture.cost_per_lead_week"}
)
#: Figures that cost-only parameters can change.
COST_FIGURES = frozenset({"total_spend", "total_cost", "cac"})

Override = tuple[str, Any]
ProgressCallback = Callable[[float], None]
StopCallback = Callable[[], bool]


@dataclass(frozen=True)
class Player:
    """One step of the bridge: a lever, or the alternative's other differences."""

    id: str
    name: str
    description: str
    overrides: tuple[Override, ...]
    kind: Literal["lever", "other"] = "lever"

    def touches_only(self, parameters: frozenset[str]) -> bool:
        return all(dotted in parameters for dotted, _ in self.overrides)


@dataclass(frozen=True)
class BridgeStep:
    """One bar of the waterfall: the change when ``id`` is added to the ones
    before it. ``start + delta == end``; ``end`` of the last bar is the
    alternative's value."""

    id: str
    name: str
    start: float
    delta: float
    end: float
    se: float  # Monte Carlo standard error of ``delta``
    null: bool  # cannot change the figure: exactly 0, not simulated


@dataclass(frozen=True)
class ShapleyValue:
    """Fair share of the total difference for one player (order-free)."""

    id: str
    name: str
    value: float
    se: float  # total Monte Carlo standard error
    se_runs: float  # from the finite number of runs (bootstrap)
    se_permutations: float  # from sampling orders (0 when exact)
    share: float  # value / total difference (NaN when the total is 0)
    null: bool


@dataclass(frozen=True)
class Bridge:
    """A value bridge from a baseline to an alternative, ready to draw.

    A waterfall chart draws ``baseline_value``, then one bar per ``steps`` item
    from ``start`` to ``end``, then ``alternative_value``; a Shapley chart draws
    ``shapley`` (bars with ``se`` error bars), in the same order as ``steps``.
    """

    baseline_name: str
    alternative_name: str
    figure: str
    unit: str
    statistic: str
    baseline_value: float
    baseline_se: float
    alternative_value: float
    alternative_se: float
    total: float  # alternative_value - baseline_value
    total_se: float  # paired (CRN) standard error of the total
    steps: tuple[BridgeStep, ...]
    shapley: tuple[ShapleyValue, ...]
    method: Literal["exact", "sampled"]
    permutations: int  # sampled permutations (0 when exact)
    scenarios_simulated: int
    settings: RunSettings
    bootstrap: int
    seconds: float
    notes: tuple[str, ...] = field(default=())

    @property
    def order(self) -> list[str]:
        return [step.id for step in self.steps]

    def to_json(self) -> dict[str, Any]:
        s = self.settings
        out: dict[str, Any] = jsonable(
            {
                "baseline": self.baseline_name,
                "alternative": self.alternative_name,
                "figure": self.figure,
                "unit": self.unit,
                "statistic": self.statistic,
                "runs": s.runs,
                "weeks": s.horizon_weeks,
                "warmup_weeks": s.warmup_weeks,
                "seed": s.seed,
                "baseline_value": self.baseline_value,
                "baseline_se": self.baseline_se,
                "alternative_value": self.alternative_value,
                "alternative_se": self.alternative_se,
                "total": self.total,
                "total_se": self.total_se,
                "order": self.order,
                "steps": [vars(step) for step in self.steps],
                "shapley": [vars(value) for value in self.shapley],
                "method": self.method,
                "permutations": self.permutations,
                "scenarios_simulated": self.scenarios_simulated,
                "bootstrap": self.bootstrap,
                "seconds": self.seconds,
                "notes": list(self.notes),
            }
        )
        return out


# --------------------------------------------------------------------- the players


def with_overrides(
    base: Scenario,
    overrides: Sequence[Override],
    *,
    name: str | None = None,
    levers: Sequence[str] = (),
    origin: str = "bridge",
) -> Scenario:
    """``base`` with dotted overrides applied in order, validated.

    ``base``'s values are already resolved, so its ``extends`` and ``levers`` are
    not applied again; the result lists ``levers`` after ``base``'s own, for
    information only.
    """
    raw = base.model_dump(mode="python")
    for dotted, value in overrides:
        apply_override(raw, dotted, value, origin=origin)
    if name is not None:
        raw["name"] = name
    scenario = scenario_from_resolved(raw, origin=origin)
    return scenario.model_copy(
        update={"extends": base.extends, "levers": [*base.levers, *levers]}
    )


def _parameters(scenario: Scenario) -> dict[str, Any]:
    data = scenario.model_dump(mode="python")
    tables = {t: data[t] for t in PARAMETER_TABLES if t != "simulation"}
    return flatten(tables)


def bridge_players(baseline: Scenario, alternative: Scenario) -> list[Player]:
    """The levers ``alternative`` applies and ``baseline`` does not, in the
    alternative's order, then an ``other`` player for any remaining difference
    (parameters only: ``[simulation]``, names and citations are not differences).
    """
    players = []
    for lever_id in alternative.levers:
        if lever_id in baseline.levers:
            continue
        lever = load_lever(lever_id)
        players.append(
            Player(
                id=lever_id,
                name=lever.name,
                description=lever.description,
                overrides=tuple(lever.set.items()),
            )
        )
    combined = with_overrides(
        baseline, [o for p in players for o in p.overrides], origin="bridge levers"
    )
    have, want = _parameters(combined), _parameters(alternative)
    other = tuple((k, v) for k, v in want.items() if have.get(k) != v)
    if other:
        shown = ", ".join(k for k, _ in other[:4]) + (", ..." if len(other) > 4 else "")
        players.append(
            Player(
                id=OTHER_ID,
                name="Other differences",
                description=f"{alternative.name}'s own values: {shown}",
                overrides=other,
                kind="other",
            )
        )
    return players


def is_null_player(player: Player, figure: str) -> bool:
    """True when the player's parameters cannot change ``figure`` at all."""
    return figure not in COST_FIGURES and player.touches_only(COST_ONLY_PARAMETERS)


def resolve_order(players: Sequence[Player], order: Sequence[str] | None) -> list[int]:
    """Indices of ``players`` in the waterfall's order: the ids named in ``order``
    first, then the others in their default order."""
    ids = [p.id for p in players]
    chosen: list[int] = []
    for item in order or ():
        if item not in ids:
            known = ", ".join(ids) or "none"
            raise ScenarioError(
                f"--order names {item!r}, which is not a step of this bridge; "
                f"steps: {known}"
            )
        if ids.index(item) in chosen:
            raise ScenarioError(f"--order names {item!r} twice")
        chosen.append(ids.index(item))
    return chosen + [i for i in range(len(ids)) if i not in chosen]


# --------------------------------------------------------------------- Shapley maths


def shapley_weights_exact(m: int) -> tuple[list[int], F]:
    """Masks ``0 .. 2^m - 1`` and the ``(m, 2^m)`` matrix ``W`` with
    ``phi = W @ v`` for a game ``v`` given on every subset (bit ``i`` = player
    ``i``)."""
    masks = list(range(1 << m))
    weight = [
        math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m)
        for s in range(m)
    ]
    w = np.zeros((m, len(masks)))
    for i in range(m):
        bit = 1 << i
        for mask in masks:
            if mask & bit:
                continue
            size = mask.bit_count()
            w[i, mask | bit] += weight[size]
            w[i, mask] -= weight[size]
    return masks, w


def sample_permutations(m: int, count: int, seed: int) -> list[list[int]]:
    """``count`` permutations of ``range(m)`` as antithetic pairs: each random
    permutation is followed by its reverse (a player early in one is late in the
    other, which cancels much of the order noise)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5A4B1E]))
    out: list[list[int]] = []
    for _ in range(max(1, count // 2)):
        perm = [int(x) for x in rng.permutation(m)]
        out += [perm, perm[::-1]]
    return out


def shapley_weights_sampled(
    m: int, permutations: Sequence[Sequence[int]]
) -> tuple[list[int], F, list[list[tuple[int, int, int]]]]:
    """Masks needed by ``permutations`` (their prefixes), the ``(m, masks)`` matrix
    ``W`` of the permutation-average estimator, and per permutation the triples
    ``(player, column before, column after)`` of its marginal effects."""
    columns: dict[int, int] = {}

    def column(mask: int) -> int:
        return columns.setdefault(mask, len(columns))

    steps: list[list[tuple[int, int, int]]] = []
    for perm in permutations:
        mask, row = 0, []
        for player in perm:
            before = column(mask)
            mask |= 1 << player
            row.append((player, before, column(mask)))
        steps.append(row)
    w = np.zeros((m, len(columns)))
    for row in steps:
        for player, before, after in row:
            w[player, after] += 1 / len(permutations)
            w[player, before] -= 1 / len(permutations)
    return list(columns), w, steps


def shapley_exact(value: Callable[[frozenset[int]], float], m: int) -> F:
    """Exact Shapley values of a game given as a function of player sets (for
    tests and for small games computed elsewhere)."""
    masks, w = shapley_weights_exact(m)
    v = np.array(
        [value(frozenset(i for i in range(m) if mask >> i & 1)) for mask in masks]
    )
    return np.asarray(w @ v, dtype=np.float64)


# --------------------------------------------------------------------- the bridge


def value_bridge(
    baseline: Scenario,
    alternative: Scenario,
    *,
    figure: str = DEFAULT_FIGURE,
    statistic: str = "median",
    order: Sequence[str] | None = None,
    settings: RunSettings | None = None,
    permutations: int | None = None,
    exact_max: int = EXACT_MAX_PLAYERS,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    threads: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: ProgressCallback | None = None,
    should_stop: StopCallback | None = None,
    memo: RunMemo | None = None,
) -> Bridge:
    """Bridge from ``baseline`` to ``alternative`` with a waterfall and Shapley
    values of the chosen figure's statistic.

    Parameters
    ----------
    baseline, alternative
        Validated scenarios. The alternative's levers that the baseline lacks are
        the steps (see :func:`bridge_players`).
    figure
        A per-run figure (``arr_end``, ``arr_growth_y1``, ``total_revenue``...).
    statistic
        ``"median"`` (default) or ``"mean"`` over runs.
    order
        Step ids for the waterfall, first to last; unnamed steps follow in the
        alternative's lever order, ``other`` last.
    settings
        Runs, horizon, warm-up and seed; default: the baseline's ``[simulation]``,
        as a comparison uses (so ``arr_end`` is the ARR a comparison reports;
        a year-1 figure simulates 52 weeks only, the same values). Cost grows with
        ``runs x weeks x scenarios`` (``2^m`` scenarios when exact).
    permutations
        Sample this many permutations (rounded up to an even number) instead of
        the exact computation. Default: exact up to ``exact_max`` players
        that can change the figure, else :data:`DEFAULT_PERMUTATIONS`.
    bootstrap
        Bootstrap resamples of the runs for the standard errors (0: none).
    threads, batch_size, progress, should_stop, memo
        See :func:`simulator.analysis.paired.simulate_variants`.
    """
    started = time.perf_counter()
    settings = settings or RunSettings.from_scenario(baseline)
    unit = check_figure(figure, settings)
    stat = check_statistic(statistic)
    players = bridge_players(baseline, alternative)
    ordered = resolve_order(players, order)
    null = [is_null_player(p, figure) for p in players]
    active = [i for i in range(len(players)) if not null[i]]  # game index -> player
    m = len(active)
    notes: list[str] = []

    if permutations is None and m <= exact_max:
        method: Literal["exact", "sampled"] = "exact"
        masks, weights = shapley_weights_exact(m)
        perm_steps: list[list[tuple[int, int, int]]] = []
        n_perms = 0
    else:
        method = "sampled"
        n_perms = max(2, permutations or DEFAULT_PERMUTATIONS)
        n_perms += n_perms % 2
        perms = sample_permutations(m, n_perms, settings.seed)
        masks, weights, perm_steps = shapley_weights_sampled(m, perms)
    # The waterfall's prefixes, in game indices.
    game_index = {player: g for g, player in enumerate(active)}
    prefix_masks = [0]
    for player in ordered:
        last = prefix_masks[-1]
        prefix_masks.append(
            last | (1 << game_index[player]) if not null[player] else last
        )
    full = (1 << m) - 1
    for mask in prefix_masks:
        if mask not in masks:
            masks.append(mask)
            weights = np.hstack([weights, np.zeros((m, 1))])
    column = {mask: c for c, mask in enumerate(masks)}

    # Row 0 is the baseline; the full set is the alternative itself.
    order_in_masks = [column[0]] + [c for c, mask in enumerate(masks) if mask != 0]
    variants: list[Scenario | Callable[[], Scenario]] = []
    for c in order_in_masks[1:]:
        mask = masks[c]
        if mask == full:
            variants.append(alternative)
            continue
        members = [active[g] for g in range(m) if mask >> g & 1]
        chosen = [players[i] for i in range(len(players)) if i in members]
        # Built by the batch that runs it, beside the other batches' simulation.
        variants.append(
            partial(
                with_overrides,
                baseline,
                [o for p in chosen for o in p.overrides],
                name=" + ".join([baseline.name, *(p.id for p in chosen)]),
                levers=[p.id for p in chosen if p.kind == "lever"],
            )
        )
    runs = simulate_variants(
        baseline,
        variants,
        settings=settings,
        figures=[figure],
        threads=threads,
        batch_size=batch_size,
        progress=progress,
        should_stop=should_stop,
        memo=memo,
    )
    values_by_row = runs.figures[figure]
    # Rows come in order_in_masks order; put them in mask-column order.
    data = np.empty_like(values_by_row)
    data[order_in_masks] = values_by_row
    v = statistic_rows(data, stat)
    if np.isnan(v).any():
        raise ScenarioError(
            f"{figure} is undefined in every run of some scenario (e.g. a CAC with "
            "no deal won); choose another figure"
        )
    boot = (
        bootstrap_statistic(data, stat, resamples=bootstrap, seed=settings.seed)
        if bootstrap > 1
        else np.empty((0, len(masks)))
    )

    def se_of(combination: F) -> float:
        if boot.shape[0] < 2:
            return math.nan
        return float(bootstrap_se((boot @ combination)[:, None])[0])

    def unit_vector(c: int) -> F:
        out = np.zeros(len(masks))
        out[c] = 1.0
        return out

    base_value, alt_value = float(v[column[0]]), float(v[column[full]])
    total = alt_value - base_value
    total_vec = unit_vector(column[full]) - unit_vector(column[0])

    steps = []
    for k, player in enumerate(ordered):
        before, after = column[prefix_masks[k]], column[prefix_masks[k + 1]]
        vec = unit_vector(after) - unit_vector(before)
        steps.append(
            BridgeStep(
                id=players[player].id,
                name=players[player].name,
                start=float(v[before]),
                delta=float(v[after] - v[before]),
                end=float(v[after]),
                se=0.0 if null[player] else se_of(vec),
                null=null[player],
            )
        )

    phi = weights @ v
    se_runs = [se_of(weights[g]) for g in range(m)]
    if method == "sampled":
        marginal = np.zeros((len(perm_steps), m))
        for k, row in enumerate(perm_steps):
            for player, before, after in row:
                marginal[k, player] = v[after] - v[before]
        pairs = (marginal[0::2] + marginal[1::2]) / 2
        se_perm = (
            pairs.std(axis=0, ddof=1) / math.sqrt(pairs.shape[0])
            if pairs.shape[0] > 1
            else np.full(m, math.nan)
        )
        notes.append(
            f"Shapley values estimated from {n_perms} sampled orders ({n_perms // 2} "
            "antithetic pairs); their standard errors include the sampling of orders."
        )
    else:
        se_perm = np.zeros(m)
    shapley = []
    for player in ordered:
        if null[player]:
            value, s_runs, s_perm = 0.0, 0.0, 0.0
        else:
            g = game_index[player]
            value, s_runs, s_perm = float(phi[g]), se_runs[g], float(se_perm[g])
        shapley.append(
            ShapleyValue(
                id=players[player].id,
                name=players[player].name,
                value=value,
                se=math.sqrt(s_runs**2 + s_perm**2),
                se_runs=s_runs,
                se_permutations=s_perm,
                share=value / total if total != 0 else math.nan,
                null=null[player],
            )
        )
    for player in ordered:
        if null[player]:
            notes.append(
                f"{players[player].id} changes only costs, which cannot move "
                f"{figure}: its bar and Shapley value are exactly 0 and it was not "
                "simulated."
            )
    return Bridge(
        baseline_name=baseline.name,
        alternative_name=alternative.name,
        figure=figure,
        unit=unit,
        statistic=stat,
        baseline_value=base_value,
        baseline_se=se_of(unit_vector(column[0])),
        alternative_value=alt_value,
        alternative_se=se_of(unit_vector(column[full])),
        total=total,
        total_se=se_of(total_vec),
        steps=tuple(steps),
        shapley=tuple(shapley),
        method=method,
        permutations=n_perms,
        scenarios_simulated=len(masks),
        settings=settings,
        bootstrap=bootstrap if bootstrap > 1 else 0,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )
