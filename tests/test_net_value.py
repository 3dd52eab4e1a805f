"""Direction of 'better', the net value of an alternative and the headline caveat."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from simulator.cli import main
from simulator.model.scenario_io import load_scenario
from simulator.report.caveats import (
    LIKE_FOR_LIKE_CAVEAT,
    SPREAD_CAVEAT,
    comparison_caveats,
    headline_caveat,
)
from simulator.report.text import comparison_table, net_value_line
from simulator.run.runner import RunSettings, compare


@pytest.fixture(scope="module")
def siloed_vs_aligned():
    baseline, alternative = load_scenario("siloed"), load_scenario("aligned")
    settings = RunSettings(runs=400, horizon_weeks=104, warmup_weeks=52, seed=7)
    return compare(baseline, [alternative], settings=settings)


def test_a_lower_cac_is_better_in_nearly_every_run(siloed_vs_aligned) -> None:
    """Aligned wins more deals for about the same spend: its CAC is lower in
    nearly every paired run, which p_better must call better (and p_higher
    higher in nearly none)."""
    d = siloed_vs_aligned.differences[0]["cac"]
    assert d["p_better"] > 1 - 4 * max(d["p_better_se"], 1 / 400)
    assert d["p_better"] + d["p_higher"] == pytest.approx(1.0, abs=0.01)
    cost = siloed_vs_aligned.differences[0]["total_cost"]
    assert cost["p_higher"] == 1.0 and cost["p_better"] == 0.0


def test_net_value_is_the_revenue_gain_minus_the_extra_cost_run_by_run(
    siloed_vs_aligned,
) -> None:
    c = siloed_vs_aligned
    gain = (
        c.alternatives[0].figures["total_revenue"] - c.baseline.figures["total_revenue"]
    )
    extra = c.alternatives[0].figures["total_cost"] - c.baseline.figures["total_cost"]
    nv = c.net_value(0)
    net = gain - extra
    assert nv["net"]["p50"] == pytest.approx(float(np.median(net)), rel=1e-12)
    assert nv["net"]["p5"] == pytest.approx(float(np.percentile(net, 5)), rel=1e-12)
    assert nv["net"]["se"] == pytest.approx(net.std(ddof=1) / math.sqrt(net.size))
    assert nv["revenue_gain"]["p50"] == pytest.approx(float(np.median(gain)))
    assert nv["extra_cost"]["p50"] == pytest.approx(float(np.median(extra)))
    assert nv["return"]["p50"] == pytest.approx(float(np.median(net / extra)))
    # Aligned costs $3K a week more and gains millions: it pays in every run.
    assert nv["extra_cost"]["p5"] > 0
    assert nv["net"]["p_positive"] == 1.0
    data = json.loads(json.dumps(c.to_json()))
    assert data["net_value"][0]["net"]["p50"] == pytest.approx(nv["net"]["p50"])


def test_no_return_is_claimed_where_nothing_extra_is_spent() -> None:
    """An alternative that costs the same (a bigger sales capacity is not a
    cost in this model) has a net value but no return on a cost of zero."""
    baseline = load_scenario("siloed")
    alternative = load_scenario(
        "siloed", overrides={"follow_up.capacity_per_week": 200.0}
    )
    settings = RunSettings(runs=250, horizon_weeks=52, warmup_weeks=26, seed=3)
    c = compare(baseline, [alternative], settings=settings)
    nv = c.net_value(0)
    assert nv["return"]["n"] == 0 and math.isnan(nv["return"]["p50"])
    line = net_value_line(c, 0)
    assert "return on" not in line and "costs no more" in line
    assert headline_caveat(baseline, alternative) is None
    assert "Read with care" not in comparison_table(c)


def test_the_caveat_names_the_kind_of_evidence_behind_the_gap(
    siloed_vs_aligned,
) -> None:
    siloed = load_scenario("siloed")
    aligned = load_scenario("aligned")
    conservative = load_scenario("aligned-conservative")
    assert headline_caveat(siloed, aligned) == SPREAD_CAVEAT
    assert headline_caveat(aligned, siloed) == SPREAD_CAVEAT  # either way round
    assert headline_caveat(siloed, conservative) == LIKE_FOR_LIKE_CAVEAT
    assert comparison_caveats(siloed, [conservative, aligned]) == [
        SPREAD_CAVEAT,
        LIKE_FOR_LIKE_CAVEAT,
    ]
    table = comparison_table(siloed_vs_aligned)
    words = " ".join(table.split())  # (the terminal wraps lines at 100 columns)
    assert " ".join(SPREAD_CAVEAT.split()) in words
    assert "Net value over 104 weeks" in words


def test_compare_json_carries_net_value(capsys) -> None:
    code = main(
        ["compare", "siloed", "aligned", "--runs", "250", "--weeks", "52", "--json"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    net = data["net_value"][0]["net"]
    assert net["p5"] <= net["p50"] <= net["p95"]
    assert 0.0 <= net["p_positive"] <= 1.0
