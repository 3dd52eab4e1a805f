"""Same seed, same numbers, whatever the threads or chunking; common random
numbers; cancellation."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.model.errors import SimulationCancelled
from simulator.model.scenario_io import load_scenario
from simulator.run.runner import RunSettings, compare

SETTINGS = RunSettings(runs=1200, horizon_weeks=40, warmup_weeks=20, seed=11)


@pytest.fixture(scope="module")
def pair():
    return load_scenario("siloed"), load_scenario("aligned")


def figures(comparison):
    return [r.figures for r in comparison.results]


def assert_identical(a, b) -> None:
    for fa, fb in zip(figures(a), figures(b), strict=True):
        assert fa.keys() == fb.keys()
        for key in fa:
            np.testing.assert_array_equal(fa[key], fb[key], err_msg=key)
    for ra, rb in zip(a.results, b.results, strict=True):
        for key in ra.weekly:
            np.testing.assert_array_equal(ra.weekly[key], rb.weekly[key], err_msg=key)


def test_same_seed_same_numbers_for_any_threads_and_chunking(pair) -> None:
    reference = compare(
        *pair[:1], pair[1:], settings=SETTINGS, threads=1, chunk_blocks=1
    )
    for threads, chunk_blocks in [(2, 1), (1, 3), (2, 2), (3, 1)]:
        again = compare(
            pair[0],
            pair[1:],
            settings=SETTINGS,
            threads=threads,
            chunk_blocks=chunk_blocks,
        )
        assert_identical(reference, again)


def test_different_seed_different_numbers(pair) -> None:
    a = compare(pair[0], settings=SETTINGS).baseline.figures["total_leads"]
    other = RunSettings(
        SETTINGS.runs, SETTINGS.horizon_weeks, SETTINGS.warmup_weeks, 12
    )
    b = compare(pair[0], settings=other).baseline.figures["total_leads"]
    assert not np.array_equal(a, b)


def test_a_scenario_alone_matches_itself_inside_a_comparison(pair) -> None:
    alone = compare(pair[0], settings=SETTINGS).baseline
    together = compare(pair[0], pair[1:], settings=SETTINGS).baseline
    np.testing.assert_array_equal(alone.figures["arr_end"], together.figures["arr_end"])


def test_common_random_numbers_make_paired_differences_tighter(pair) -> None:
    comparison = compare(pair[0], pair[1:], settings=SETTINGS)
    for figure in ("arr_end", "total_revenue", "total_won"):
        paired = comparison.paired(0, figure).var(ddof=1)
        unpaired = comparison.baseline.figures[figure].var(
            ddof=1
        ) + comparison.alternatives[0].figures[figure].var(ddof=1)
        assert paired < unpaired, figure


def test_identical_scenarios_differ_by_exactly_nothing(pair) -> None:
    comparison = compare(pair[0], [pair[0]], settings=SETTINGS)
    assert np.all(comparison.paired(0, "arr_end") == 0)
    assert comparison.differences[0]["arr_end"]["p_better"] == 0.0


def test_cancel_between_chunks_raises_and_reports_progress(pair) -> None:
    seen: list[float] = []
    with pytest.raises(SimulationCancelled):
        compare(
            pair[0],
            pair[1:],
            settings=SETTINGS,
            threads=1,
            progress=seen.append,
            should_stop=lambda: bool(seen),
        )
    assert seen and seen[0] < 1.0


def test_cancel_before_start(pair) -> None:
    with pytest.raises(SimulationCancelled):
        compare(pair[0], settings=SETTINGS, should_stop=lambda: True)


def test_progress_reaches_one(pair) -> None:
    seen: list[float] = []
    compare(pair[0], settings=SETTINGS, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_a_run_too_large_for_memory_is_refused_up_front(pair, monkeypatch) -> None:
    from simulator.model.errors import ScenarioError
    from simulator.run import runner

    monkeypatch.setattr(runner, "available_memory_bytes", lambda: 200 * 2**20)
    huge = RunSettings(runs=1_000_000, horizon_weeks=104, warmup_weeks=52, seed=1)
    with pytest.raises(
        ScenarioError, match=r"simulation.runs = 1000000: .* use at most"
    ):
        compare(pair[0], pair[1:], settings=huge)


def test_streamed_weekly_summaries_match_the_kept_trajectories(pair) -> None:
    """Runs too many for memory stream their weekly series into sketches: per-run
    figures stay exact, weekly means and spreads match to rounding, and weekly
    percentiles to within one histogram bin (or one lead for counts)."""
    kept = compare(pair[0], pair[1:], settings=SETTINGS, keep_weekly=True)
    streamed = compare(pair[0], pair[1:], settings=SETTINGS, keep_weekly=False)
    for a, b in zip(kept.results, streamed.results, strict=True):
        for key in a.figures:
            np.testing.assert_array_equal(a.figures[key], b.figures[key])
        assert a.has_trajectories and not b.has_trajectories
    for name in ("arr", "qualified", "opportunities", "ignore_rate", "bookings"):
        exact_sets = [r.series(name) for r in kept.results]
        exact_sets.append(kept.weekly_paired(0, name))
        got_sets = [r.series(name) for r in streamed.results]
        got_sets.append(streamed.weekly_paired(0, name))
        for exact, got in zip(exact_sets, got_sets, strict=True):
            span = np.maximum(exact["p95"] - exact["p5"], 1e-9)
            for stat in ("mean", "sd", "se"):
                np.testing.assert_allclose(got[stat], exact[stat], rtol=1e-9, atol=1e-9)
            for stat in ("p5", "p10", "p25", "p50", "p75", "p90", "p95"):
                error = np.abs(got[stat] - exact[stat])
                assert np.all((error <= 0.01 * span) | (error <= 1.0)), (name, stat)


def test_a_run_too_large_to_keep_is_streamed(pair, monkeypatch) -> None:
    from simulator.run import runner

    monkeypatch.setattr(runner, "available_memory_bytes", lambda: 600 * 2**20)
    big = RunSettings(runs=3000, horizon_weeks=104, warmup_weeks=4, seed=1)
    assert runner.choose_storage(big, 2) is True
    many = RunSettings(runs=300_000, horizon_weeks=104, warmup_weeks=4, seed=1)
    assert runner.choose_storage(many, 2) is False


def counted_phases(monkeypatch) -> list[int]:
    """A list that grows by one at every warm-up or scenario run of a chunk."""
    from simulator.run import runner

    phases: list[int] = []
    real_advance = runner.advance

    def counting_advance(*args, **kwargs):
        phases.append(1)
        return real_advance(*args, **kwargs)

    monkeypatch.setattr(runner, "advance", counting_advance)
    return phases


def test_a_remembered_warm_up_and_baseline_give_the_same_numbers(
    pair, monkeypatch
) -> None:
    """A comparison that changes only the alternative continues from the
    remembered warm-up and baseline run (a simulator.run.memo.RunMemo), simulating
    the alternative alone; its numbers must be those of a comparison computed
    from scratch."""
    from simulator.run.memo import RunMemo
    from simulator.run.runner import block_bounds

    phases = counted_phases(monkeypatch)
    other = load_scenario("aligned", overrides={"follow_up.capacity_per_week": 90.0})
    chunks = len(block_bounds(SETTINGS.runs))
    memo = RunMemo()
    first = compare(pair[0], pair[1:], settings=SETTINGS, chunk_blocks=1, memo=memo)
    assert len(phases) == 3 * chunks  # warm-up, baseline, alternative
    phases.clear()
    # What is remembered is a copy: the first result's chunks were recorded in
    # its own arrays, which its user may change or drop.
    for series in first.baseline.weekly.values():
        series[...] = -1.0
    remembered = compare(pair[0], [other], settings=SETTINGS, chunk_blocks=1, memo=memo)
    assert len(phases) == chunks  # the alternative alone
    fresh = compare(pair[0], [other], settings=SETTINGS, chunk_blocks=1)
    assert_identical(remembered, fresh)


#: Edits of the baseline that leave its warm-up as it was (the compiled fields
#: marked params.NOT_IN_WARM_UP).
COMPANY_SIDE_EDITS = [
    {"deals.acv_median": 33_000.0},
    {"deals.acv_sigma": 0.5},
    {"company.annual_churn": 0.2},
    {"company.annual_expansion": 0.05},
    {"costs.sales_weekly": 45_000.0},
    {"costs.alignment_weekly": 9_000.0},
    {"nurture.cost_per_lead_week": 0.5},
    {"name": "Our company", "description": "Renamed"},
    {"company.annual_churn": {"low": 0.05, "mode": 0.1, "high": 0.2}},
    {"deals.acv_median": {"low": 20_000.0, "mode": 30_000.0, "high": 45_000.0}},
]


def _warmed_up(scenario):
    """The warm-up key and warmed-up state of a chunk of 250 runs."""
    from simulator.engine.params import compile_params
    from simulator.engine.streams import block_seeds
    from simulator.run.memo import warm_up_identity
    from simulator.run.runner import warm_up

    seeds = [block_seeds(5, 0)]
    params = compile_params(
        scenario, 250, lambda dotted: seeds[0].parameter_uniforms(dotted, 250)
    )
    return warm_up_identity(params), warm_up(params, seeds, [250], 30, lambda: False)


def _same_state(one, other) -> bool:
    from dataclasses import fields

    for field in fields(one):
        a, b = getattr(one, field.name), getattr(other, field.name)
        if isinstance(a, dict):
            if a.keys() != b.keys() or not all(np.array_equal(a[k], b[k]) for k in a):
                return False
        elif isinstance(a, np.ndarray):
            if not np.array_equal(a, b):
                return False
        elif a != b:
            return False
    return True


@pytest.mark.parametrize("edit", COMPANY_SIDE_EDITS, ids=lambda e: ",".join(e))
def test_an_edit_outside_the_warm_up_keeps_its_key_and_state(edit) -> None:
    """An edit of what only customers, ARR and costs read keeps the warm-up's
    key, and every array of the warmed-up state is the same after it."""
    key, state = _warmed_up(load_scenario("aligned"))
    edited_key, edited_state = _warmed_up(load_scenario("aligned", overrides=edit))
    assert key == edited_key
    assert _same_state(state, edited_state)


def _numeric_inputs(value, dotted=""):
    """Every number of a scenario's dump, by dotted name."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numeric_inputs(item, f"{dotted}.{key}" if dotted else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _numeric_inputs(item, f"{dotted}.{index}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield dotted, value


def _edits_of(dotted, value, inputs):
    """Edits that move one input: alone, or, for shares that must sum to 1
    (a source's lead mix, the response profile, the sources' budget shares),
    together with a sibling that gives up what it gains."""
    yield {dotted: value * 1.25 if value else 0.1}
    yield {dotted: value * 0.8}
    parent, _, name = dotted.rpartition(".")
    for other, other_value in inputs.items():
        o_parent, _, o_name = other.rpartition(".")
        siblings = o_parent == parent or (
            o_name == name and o_parent.rpartition(".")[0] == parent.rpartition(".")[0]
        )
        if other != dotted and siblings and other_value >= 0.05:
            yield {dotted: value + 0.05, other: other_value - 0.05}


def test_no_input_that_changes_a_warm_up_leaves_its_key_as_it_was() -> None:
    """For every number of the model (the simulation's settings aside, which
    are keyed on their own): an edit that keeps the warm-up's key keeps the
    warmed-up state. The key is derived from the compiled parameters, so an
    input added later is covered without a list to extend."""
    from simulator.model.errors import ScenarioError

    base = load_scenario("aligned")
    key, state = _warmed_up(base)
    dump = base.model_dump(
        mode="json", exclude={"simulation", "schema_version", "citations"}
    )
    inputs = dict(_numeric_inputs(dump))
    kept, untried = [], []
    for dotted, value in inputs.items():
        for edit in _edits_of(dotted, value, inputs):
            if isinstance(value, int):
                edit = {name: round(v) for name, v in edit.items()}
            try:
                edited = load_scenario("aligned", overrides=edit)
            except ScenarioError:
                continue  # out of the parameter's range: try another
            break
        else:
            untried.append(dotted)
            continue
        edited_key, edited_state = _warmed_up(edited)
        if edited_key == key:
            kept.append(dotted)
            assert _same_state(state, edited_state), dotted
    assert not untried
    assert {"deals.acv_median", "costs.alignment_weekly"} <= set(kept)


@pytest.mark.parametrize(
    "edit",
    [
        {"handoff.ignore_base": 0.3},
        {"marketing.weekly_budget": 12_000.0},
        {"company.initial_customers": 310},
        {"nurture.capture": 0.7},
        {"handoff.ignore_base": {"low": 0.2, "mode": 0.3, "high": 0.4}},
    ],
    ids=lambda e: ",".join(e),
)
def test_an_edit_of_the_funnel_warms_up_again(edit) -> None:
    key, _ = _warmed_up(load_scenario("aligned"))  # (nurture on)
    assert key != _warmed_up(load_scenario("aligned", overrides=edit))[0]


def test_an_input_the_scenario_does_not_use_keeps_the_warm_up() -> None:
    """Derived from what is compiled: without nurture, its capture share is
    read by nothing, and an edit of it keeps the warm-up (siloed has none)."""
    assert not load_scenario("siloed").nurture.enabled
    key, state = _warmed_up(load_scenario("siloed"))
    edited = load_scenario("siloed", overrides={"nurture.capture": 0.7})
    edited_key, edited_state = _warmed_up(edited)
    assert key == edited_key and _same_state(state, edited_state)


def test_an_edit_of_the_company_side_simulates_the_baseline_alone(
    pair, monkeypatch
) -> None:
    """With the alternatives' runs remembered, an edit of the baseline that
    leaves its warm-up as it was (a deal size) simulates the baseline alone,
    with the numbers of a comparison computed from scratch."""
    from simulator.run.memo import RunMemo
    from simulator.run.runner import block_bounds

    phases = counted_phases(monkeypatch)
    chunks = len(block_bounds(SETTINGS.runs))
    memo = RunMemo()
    compare(
        pair[0],
        pair[1:],
        settings=SETTINGS,
        chunk_blocks=1,
        memo=memo,
        remember_alternatives=SETTINGS.runs,
    )
    phases.clear()
    edited = load_scenario("siloed", overrides={"deals.acv_median": 33_000.0})
    remembered = compare(edited, pair[1:], settings=SETTINGS, chunk_blocks=1, memo=memo)
    assert len(phases) == chunks  # the baseline alone
    fresh = compare(edited, pair[1:], settings=SETTINGS, chunk_blocks=1)
    assert_identical(remembered, fresh)


def test_alternatives_are_remembered_only_within_the_runs_asked_for(
    pair, monkeypatch
) -> None:
    from simulator.engine.streams import BLOCK_RUNS
    from simulator.run.memo import RunMemo
    from simulator.run.runner import block_bounds

    phases = counted_phases(monkeypatch)
    chunks = len(block_bounds(SETTINGS.runs))
    memo = RunMemo()
    kept_chunks = 2
    compare(
        pair[0],
        pair[1:],
        settings=SETTINGS,
        chunk_blocks=1,
        memo=memo,
        remember_alternatives=kept_chunks * BLOCK_RUNS,
    )
    phases.clear()
    edited = load_scenario("siloed", overrides={"deals.acv_median": 33_000.0})
    compare(edited, pair[1:], settings=SETTINGS, chunk_blocks=1, memo=memo)
    # every baseline, and the alternative of the chunks beyond the first two
    assert len(phases) == chunks + (chunks - kept_chunks)


def test_a_comparison_keeps_its_runs_only_in_the_memo_it_is_given(
    pair, monkeypatch
) -> None:
    """No memo, nothing kept or reused; the memo passed in serves the next
    comparison it is passed to, and no other."""
    from simulator.run.memo import RunMemo
    from simulator.run.runner import block_bounds

    phases = counted_phases(monkeypatch)
    chunks = len(block_bounds(SETTINGS.runs))
    compare(pair[0], pair[1:], settings=SETTINGS, chunk_blocks=1)
    compare(pair[0], pair[1:], settings=SETTINGS, chunk_blocks=1)
    assert len(phases) == 2 * 3 * chunks
    memo, other = RunMemo(), RunMemo()
    compare(pair[0], pair[1:], settings=SETTINGS, chunk_blocks=1, memo=memo)
    assert len(memo) > 0
    phases.clear()
    compare(pair[0], pair[1:], settings=SETTINGS, chunk_blocks=1, memo=other)
    assert len(phases) == 3 * chunks
    phases.clear()
    compare(pair[0], pair[1:], settings=SETTINGS, chunk_blocks=1, memo=memo)
    assert len(phases) == chunks  # the alternative alone


def test_chunks_shrink_towards_the_end_and_cover_every_block() -> None:
    """Guided scheduling: large chunks first, then smaller ones so that the
    workers finish together; a fixed size when asked for one."""
    from simulator.engine.streams import BLOCK_RUNS
    from simulator.run.runner import CHUNK_MAX_RUNS, chunk_sizes

    for blocks in (1, 4, 5, 40, 400):
        for workers in (1, 2, 8):
            sizes = chunk_sizes(blocks, workers)
            assert sum(sizes) == blocks
            assert sizes == sorted(sizes, reverse=True)
            assert max(sizes) * BLOCK_RUNS <= CHUNK_MAX_RUNS
    assert chunk_sizes(40, 2)[-1] == 1
    assert chunk_sizes(10, 2, chunk_blocks=3) == [3, 3, 3, 1]


def test_summaries_are_computed_when_read_and_match_the_figures(pair) -> None:
    """A preview's cards read a few summaries; each is computed on first read
    and equals summarize() of its figure (and of the paired differences)."""
    from simulator.run.results import summarize

    comparison = compare(pair[0], pair[1:], settings=SETTINGS)
    baseline, alternative = comparison.baseline, comparison.alternatives[0]
    summary = baseline.summary
    assert list(summary) == list(baseline.figures)
    assert summary["arr_end"] == summarize(baseline.figures["arr_end"])
    assert list(summary._computed) == ["arr_end"]  # the others not yet
    diff = comparison.differences[0]["total_won"]
    paired = alternative.figures["total_won"] - baseline.figures["total_won"]
    assert diff["mean"] == summarize(paired)["mean"]
    assert diff["p_better"] == float((paired > 0).mean())
    with pytest.raises(KeyError):
        summary["no_such_figure"]


def test_p_better_follows_each_figures_direction(pair):
    """``p_better`` counts runs where the alternative is better: lower for CAC,
    cost, spend, churned, ignored and stale; ``p_higher`` is the raw share."""
    from simulator.run.figures import lower_is_better

    comparison = compare(pair[0], pair[1:], settings=SETTINGS)
    baseline, alternative = comparison.baseline, comparison.alternatives[0]
    for figure in ("total_won", "cac", "total_ignored", "total_cost"):
        paired = alternative.figures[figure] - baseline.figures[figure]
        paired = paired[~np.isnan(paired)]
        diff = comparison.differences[0][figure]
        assert diff["p_higher"] == float((paired > 0).mean())
        wins = paired < 0 if lower_is_better(figure) else paired > 0
        assert diff["p_better"] == float(wins.mean())
    assert lower_is_better("cac") and not lower_is_better("total_won")
