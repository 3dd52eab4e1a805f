"""The value bridge: waterfall sums, Shapley efficiency, and agreement with a
brute-force Shapley computation built independently from lever files."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from simulator.analysis.bridge import (
    OTHER_ID,
    bridge_players,
    sample_permutations,
    shapley_exact,
    shapley_weights_sampled,
    value_bridge,
)
from simulator.cli import main
from simulator.model.errors import ScenarioError
from simulator.model.scenario_io import load_scenario
from simulator.run.runner import RunSettings, compare

# Nurture acts only on leads someone holds back or recycles (closed loop): the
# three interact, which is what Shapley values are for.
LEVERS = ("speed_to_lead", "closed_loop", "nurture")
ALIGNMENT_COST = 2_500.0
SETTINGS = RunSettings(runs=150, horizon_weeks=20, warmup_weeks=10, seed=11)
FAST = ["--runs", "100", "--weeks", "20", "--warmup", "10", "--seed", "3"]


def _scenario_file(folder: Path, levers: tuple[str, ...], cost: float) -> Path:
    path = folder / f"partial_{'_'.join(levers) or 'none'}_{cost:g}.toml"
    lever_list = ", ".join(f'"{lever}"' for lever in levers)
    path.write_text(
        f'schema_version = 1\nname = "Partial"\nextends = "siloed"\n'
        f"levers = [{lever_list}]\n[costs]\nalignment_weekly = {cost}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Siloed plus three levers and an alignment cost (a fourth, cost-only step)."""
    return _scenario_file(tmp_path_factory.mktemp("bridge"), LEVERS, ALIGNMENT_COST)


def _brute_force_shapley(value: dict[frozenset[str], float], ids: list[str]) -> dict:
    """Shapley values straight from the definition: the marginal effect of each
    player averaged over every one of the n! orders."""
    totals = dict.fromkeys(ids, 0.0)
    orders = list(itertools.permutations(ids))
    for order in orders:
        members: frozenset[str] = frozenset()
        for player in order:
            totals[player] += value[members | {player}] - value[members]
            members = members | {player}
    return {player: total / len(orders) for player, total in totals.items()}


# --------------------------------------------------------------------- pure maths


def test_shapley_exact_matches_permutation_definition() -> None:
    rng = np.random.default_rng(4)
    ids = ["a", "b", "c", "d"]
    table = {
        frozenset(s): float(rng.normal())
        for k in range(5)
        for s in itertools.combinations(ids, k)
    }
    expected = _brute_force_shapley(table, ids)
    got = shapley_exact(lambda s: table[frozenset(ids[i] for i in s)], len(ids))
    assert got == pytest.approx([expected[p] for p in ids], abs=1e-12)
    full = table[frozenset(ids)] - table[frozenset()]
    assert got.sum() == pytest.approx(full, abs=1e-12)


def test_sampled_estimator_over_all_orders_is_exact() -> None:
    rng = np.random.default_rng(5)
    m = 3
    table = {mask: float(rng.normal()) for mask in range(1 << m)}
    perms = [list(p) for p in itertools.permutations(range(m))]
    masks, weights, _ = shapley_weights_sampled(m, perms)
    v = np.array([table[mask] for mask in masks])
    exact = shapley_exact(
        lambda s: table[sum(1 << i for i in s)],
        m,
    )
    assert weights @ v == pytest.approx(exact, abs=1e-12)
    pairs = sample_permutations(5, 6, seed=1)
    assert len(pairs) == 6 and all(pairs[i + 1] == pairs[i][::-1] for i in (0, 2, 4))


# --------------------------------------------------------------------- the players


def test_players_are_the_new_levers_then_other_differences(partial: Path) -> None:
    baseline, alternative = load_scenario("siloed"), load_scenario(partial)
    players = bridge_players(baseline, alternative)
    assert [p.id for p in players] == [*LEVERS, OTHER_ID]
    assert players[-1].overrides == (("costs.alignment_weekly", ALIGNMENT_COST),)
    same = bridge_players(alternative, alternative)
    assert same == []


def test_cost_parameters_cannot_move_other_figures() -> None:
    """The null-player shortcut relies on this: costs draw no random number."""
    base = load_scenario("siloed", overrides={"nurture.enabled": True})
    costly = load_scenario(
        "siloed",
        overrides={
            "nurture.enabled": True,
            "costs.alignment_weekly": 9_000.0,
            "costs.sales_weekly": 1.0,
            "nurture.cost_per_lead_week": 7.0,
        },
    )
    comparison = compare(base, [costly], settings=SETTINGS)
    for figure, values in comparison.baseline.figures.items():
        other = comparison.alternatives[0].figures[figure]
        if figure in ("total_spend", "total_cost", "cac"):
            continue
        np.testing.assert_array_equal(values, other, err_msg=figure)


# --------------------------------------------------------------------- the bridge


@pytest.fixture(scope="module")
def bridge_and_brute_force(partial: Path):
    baseline, alternative = load_scenario("siloed"), load_scenario(partial)
    bridge = value_bridge(
        baseline, alternative, settings=SETTINGS, batch_size=3, bootstrap=50
    )
    # Independent: every subset built by the loader from its own lever list, all
    # in one comparison (common random numbers), Shapley from the n! definition.
    folder = partial.parent
    subsets = [
        combo
        for k in range(len(LEVERS) + 1)
        for combo in itertools.combinations(LEVERS, k)
    ]
    scenarios = [load_scenario(_scenario_file(folder, s, 0.0)) for s in subsets]
    comparison = compare(baseline, scenarios, settings=SETTINGS)
    value = {
        frozenset(s): float(np.median(r.figures["arr_end"]))
        for s, r in zip(subsets, comparison.alternatives, strict=True)
    }
    return bridge, value


def test_waterfall_sums_to_total(bridge_and_brute_force) -> None:
    bridge, _ = bridge_and_brute_force
    assert bridge.figure == "arr_end" and bridge.method == "exact"
    assert [s.id for s in bridge.steps] == [*LEVERS, OTHER_ID]
    assert bridge.steps[0].start == bridge.baseline_value
    assert bridge.steps[-1].end == pytest.approx(bridge.alternative_value, rel=1e-12)
    for before, after in itertools.pairwise(bridge.steps):
        assert after.start == before.end
    deltas = sum(step.delta for step in bridge.steps)
    assert deltas == pytest.approx(bridge.total, rel=1e-9)
    assert bridge.total == pytest.approx(
        bridge.alternative_value - bridge.baseline_value, rel=1e-12
    )
    assert bridge.total > 0 and bridge.total_se > 0
    # The cost of aligning cannot move ARR: exactly 0, not simulated.
    assert bridge.steps[-1].null and bridge.steps[-1].delta == 0
    assert bridge.scenarios_simulated == 2 ** len(LEVERS)


def test_shapley_values_sum_to_total_and_match_brute_force(
    bridge_and_brute_force,
) -> None:
    bridge, value = bridge_and_brute_force
    shapley = {v.id: v for v in bridge.shapley}
    assert sum(v.value for v in bridge.shapley) == pytest.approx(bridge.total, rel=1e-9)
    expected = _brute_force_shapley(value, list(LEVERS))
    for lever in LEVERS:
        assert shapley[lever].value == pytest.approx(
            expected[lever], rel=1e-9, abs=1e-6
        )
        assert shapley[lever].se >= 0 and shapley[lever].se_permutations == 0
    assert max(shapley[lever].se for lever in LEVERS) > 0
    assert shapley[OTHER_ID].value == 0 and shapley[OTHER_ID].null
    # The brute-force endpoints are the bridge's endpoints (same CRN numbers).
    assert value[frozenset(LEVERS)] == pytest.approx(bridge.alternative_value)
    assert sum(shapley[k].share for k in LEVERS) == pytest.approx(1.0)


def test_cost_step_is_a_player_for_cost_figures(partial: Path) -> None:
    """For total_cost the alignment cost is a real step, and its Shapley value is
    exactly its cost over the horizon (it adds a constant to every run)."""
    bridge = value_bridge(
        load_scenario("siloed"),
        load_scenario(partial),
        figure="total_cost",
        statistic="mean",
        settings=SETTINGS,
        bootstrap=0,
    )
    shapley = {v.id: v for v in bridge.shapley}
    assert not shapley[OTHER_ID].null
    assert shapley[OTHER_ID].value == pytest.approx(
        ALIGNMENT_COST * SETTINGS.horizon_weeks, rel=1e-9
    )
    assert sum(v.value for v in bridge.shapley) == pytest.approx(bridge.total, rel=1e-9)
    assert bridge.scenarios_simulated == 2 ** (len(LEVERS) + 1)
    assert math.isnan(bridge.total_se)  # no bootstrap asked for


def test_sampled_shapley_keeps_efficiency_and_order(partial: Path) -> None:
    order = ["nurture", OTHER_ID, "closed_loop"]
    bridge = value_bridge(
        load_scenario("siloed"),
        load_scenario(partial),
        order=order,
        permutations=4,
        settings=SETTINGS,
        bootstrap=30,
    )
    assert bridge.method == "sampled" and bridge.permutations == 4
    assert [s.id for s in bridge.steps] == [*order, "speed_to_lead"]
    assert sum(v.value for v in bridge.shapley) == pytest.approx(bridge.total, rel=1e-9)
    assert sum(s.delta for s in bridge.steps) == pytest.approx(bridge.total, rel=1e-9)
    assert all(math.isfinite(v.se) for v in bridge.shapley)


def test_bad_order_and_figure_are_errors(partial: Path) -> None:
    baseline, alternative = load_scenario("siloed"), load_scenario(partial)
    with pytest.raises(ScenarioError, match="not a step"):
        value_bridge(baseline, alternative, order=["enablement"], settings=SETTINGS)
    with pytest.raises(ScenarioError, match="unknown figure"):
        value_bridge(baseline, alternative, figure="arr", settings=SETTINGS)


def test_cancellation_is_passed_through(partial: Path) -> None:
    from simulator.model.errors import SimulationCancelled

    with pytest.raises(SimulationCancelled):
        value_bridge(
            load_scenario("siloed"),
            load_scenario(partial),
            settings=SETTINGS,
            should_stop=lambda: True,
        )


# --------------------------------------------------------------------- CLI


def test_cli_bridge_json(partial: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["bridge", "siloed", str(partial), *FAST, "--bootstrap", "20", "--json"]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["figure"] == "arr_end" and out["runs"] == 100 and out["weeks"] == 20
    assert [s["id"] for s in out["steps"]] == [*LEVERS, OTHER_ID]
    assert sum(s["delta"] for s in out["steps"]) == pytest.approx(out["total"])
    assert sum(s["value"] for s in out["shapley"]) == pytest.approx(out["total"])


def test_cli_bridge_table_has_units(
    partial: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "bridge",
            "siloed",
            str(partial),
            *FAST,
            "--bootstrap",
            "0",
            "--order",
            "nurture,closed_loop",
            "--figure",
            "total_won",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "Shapley" in text and "median of total_won (deals)" in text
    assert (
        text.index("+ nurture")
        < text.index("+ closed_loop")
        < text.index("+ speed_to_lead")
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--figure", "nope"], "unknown figure"),
        (["--order", "enablement"], "not a step"),
        (["--set", "handoff.ignore_base=2.0"], "handoff.ignore_base"),
    ],
)
def test_cli_bridge_errors_are_one_line(
    partial: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["bridge", "siloed", str(partial), *FAST, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


# --------------------------------------------------------------------- variants


def test_variants_give_the_same_numbers_however_they_are_run(partial: Path) -> None:
    """Batches side by side or one after another, with one worker or two, and a
    year-1 figure simulated over 52 weeks only: the numbers of one comparison."""
    from simulator.analysis.paired import simulate_variants

    baseline = load_scenario("siloed")
    variants = [load_scenario(partial), load_scenario("aligned")]
    settings = RunSettings(runs=300, horizon_weeks=60, warmup_weeks=10, seed=5)
    want = compare(baseline, variants, settings=settings)
    for threads, batch in ((1, 24), (2, 1), (2, 24)):
        got = simulate_variants(
            baseline,
            variants,
            settings=settings,
            figures=["arr_growth_y1"],
            threads=threads,
            batch_size=batch,
        )
        for row, result in enumerate(want.results):
            np.testing.assert_array_equal(
                got.figures["arr_growth_y1"][row], result.figures["arr_growth_y1"]
            )
        assert got.settings.horizon_weeks == 60


def test_a_bridge_stops_when_asked(partial: Path) -> None:
    from simulator.model.errors import SimulationCancelled

    calls: list[float] = []
    with pytest.raises(SimulationCancelled):
        value_bridge(
            load_scenario("siloed"),
            load_scenario("aligned"),
            settings=SETTINGS,
            batch_size=4,
            progress=calls.append,
            should_stop=lambda: len(calls) >= 3,
        )
    assert calls and max(calls) < 1.0
