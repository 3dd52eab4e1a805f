"""The `funnelsim sweep` command, run through `simulator.cli.main` with few runs."""

from __future__ import annotations

import json

import pytest

from simulator.analysis.sweep import RATE_PARAMETER, TAU_PARAMETER, verdict
from simulator.cli import main

FAST = ["--runs", "200", "--weeks", "53", "--warmup", "20", "--seed", "3"]


def test_sweep_json_has_every_point_and_a_verdict(capsys) -> None:
    code = main(["sweep", *FAST, "--taus", "0.133,0.49", "--rates", "0,1", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["baseline"], out["alternative"]) == ("siloed", "aligned")
    assert out["runs"] == 200 and out["seed"] == 3
    points = out["points"]
    assert [(p["parameter"], p["value"]) for p in points] == [
        (TAU_PARAMETER, 0.133),
        (TAU_PARAMETER, 0.49),
        (RATE_PARAMETER, 0.0),
        (RATE_PARAMETER, 1.0),
    ]
    for p in points:
        assert p["applies_to"] == "both"
        assert p["difference_se"] > 0
        assert 0 <= p["p_better"] <= 1
        assert p["verdict"] in ("better", "worse", "unclear")
        assert p["beats"] == (p["verdict"] == "better")
    # Even with 200 runs the calibrated aligned company is clearly ahead.
    assert out["beats_everywhere"] is True


def test_sweep_table_and_rate_on_alternative_only(capsys) -> None:
    code = main(
        ["sweep", *FAST, "--taus", "0.49", "--rates", "1", "--rate-on", "alternative"]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "follow_up.decay_tau_hours" in text and "29 min" in text
    assert "marketing.reallocation.rate" in text and "alternative" in text
    assert "Verdict: aligned beats siloed at every point." in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "--rates", "fast"], "comma-separated list of numbers"),
        (["sweep", *FAST, "--rates", "2"], "marketing.reallocation.rate"),
        (["sweep", *FAST, "--figure", "nope"], "unknown figure"),
        (["sweep", "no_such_scenario", *FAST], "no_such_scenario"),
    ],
)
def test_sweep_bad_input_is_one_line_and_exit_2(argv, message, capsys) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse reports usage errors by exiting
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_verdict_rule() -> None:
    assert verdict(0.1, 0.01) == "better"
    assert verdict(-0.1, 0.01) == "worse"
    assert verdict(0.01, 0.01) == "unclear"
    assert verdict(float("nan"), 0.01) == "unclear"


def test_sweep_shows_differences_of_growth_in_points() -> None:
    """Growth is a share: its medians read as %, their difference and its
    standard error in points, as compare says."""
    from simulator.analysis.sweep import SweepPoint
    from simulator.cli.sweep import format_table
    from simulator.run.runner import RunSettings

    point = SweepPoint(
        parameter=TAU_PARAMETER,
        value=0.49,
        applies_to="both",
        baseline_p50=-0.055,
        alternative_p50=0.056,
        difference_mean=0.111,
        difference_se=0.0031,
        p_better=1.0,
        p_better_se=0.0,
        verdict="better",
    )
    settings = RunSettings(runs=100, horizon_weeks=104, warmup_weeks=52, seed=1)
    text = format_table([point], "siloed", "aligned", "arr_growth_y1", settings)
    assert "+11.1 pts ± 0.3 pts" in text
    assert "-5.5 %" in text and "5.6 %" in text
    assert "+11.1 %" not in text
