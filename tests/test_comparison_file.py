"""One comparison file: baseline, alternatives, run settings, target."""

from __future__ import annotations

import json

import pytest

from simulator.cli import main
from simulator.model.errors import ScenarioError
from simulator.run.comparison_file import (
    ComparisonFile,
    comparison_to_toml,
    load_comparison,
    save_comparison,
)
from simulator.run.runner import RunSettings

TEXT = """schema_version = 1
kind = "comparison"

[run]
runs = 200
horizon_weeks = 60
warmup_weeks = 12
seed = 4

[target]
figure = "arr_growth_y1"
value = 0.1

[baseline]
name = "Mine"
extends = "siloed"
company = { initial_customers = 420, initial_arr = 15_080_000.0 }

[[alternatives]]
name = "Aligned"
extends = "siloed"
levers = ["enablement", "retention"]
"""


def test_read_validate_and_save_again(write_toml, tmp_path) -> None:
    path = write_toml(TEXT, name="board.toml")
    saved, scenarios = load_comparison(path)
    assert saved.run == RunSettings(runs=200, horizon_weeks=60, warmup_weeks=12, seed=4)
    assert saved.target == ("arr_growth_y1", 0.1)
    assert [s.company.initial_customers for s in scenarios] == [420, 420]
    again = tmp_path / "again.toml"
    save_comparison(saved, again)
    assert load_comparison(again)[0] == saved


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (('kind = "comparison"', 'kind = "scenario"'), "is not a comparison file"),
        (("runs = 200", "runs = 0"), "run.runs = 0"),
        (('figure = "arr_growth_y1"', 'figure = "arr"'), "target.figure"),
        (("levers = [", "levers = ['nope', "), "nope"),
        (("initial_customers = 420", "initial_customers = -1"), "[baseline]"),
        (
            ("[[alternatives]]", "[[alternatives]]\ncompany = { initial_arr = 1.0 }"),
            "[alternatives 1]: company.initial_arr",
        ),
        # a part's name is its own, never blamed on the file it extends
        (('name = "Mine"\n', ""), "[baseline]: name: is required"),
        (('name = "Aligned"\n', ""), "[alternatives 1]: name: is required"),
    ],
)
def test_a_bad_comparison_file_names_the_part(write_toml, change, fragment) -> None:
    path = write_toml(TEXT.replace(*change), name="board.toml")
    with pytest.raises(ScenarioError) as caught:
        load_comparison(path)
    assert "board.toml" in str(caught.value) and fragment in str(caught.value)


def test_an_invalid_comparison_is_never_written(tmp_path) -> None:
    target = tmp_path / "board.toml"
    target.write_text("kept", encoding="utf-8")
    bad = ComparisonFile(
        baseline={"name": "B", "extends": "siloed"},
        alternatives=[{"name": "A", "levers": ["no_such_lever"]}],
    )
    with pytest.raises(ScenarioError):
        save_comparison(bad, target)
    assert target.read_text(encoding="utf-8") == "kept"
    assert "no_such_lever" in comparison_to_toml(bad)


def test_compare_runs_a_comparison_file(write_toml, capsys) -> None:
    path = write_toml(TEXT, name="board.toml")
    assert main(["compare", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"]["runs"] == 200 and out["baseline"]["seed"] == 4
    assert out["start"]["initial_customers"] == 420
    assert main(["compare", "siloed"]) == 2
    assert "at least one alternative" in capsys.readouterr().err


def test_validate_knows_a_comparison_file(write_toml, capsys) -> None:
    path = write_toml(TEXT, name="board.toml")
    assert main(["validate", str(path)]) == 0
    assert "valid comparison (Mine and 1 alternative(s))" in capsys.readouterr().out
    bad = write_toml(TEXT.replace("runs = 200", "runs = 0"), name="bad.toml")
    assert main(["validate", str(bad)]) == 2
    assert "run.runs = 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["compare", "{board}", "aligned"], "holds its own alternatives; give it"),
        (["bridge", "{board}", "aligned"], "bridge takes scenarios"),
        (["bridge", "siloed", "{board}"], "bridge takes scenarios"),
        (["sensitivity", "{board}", "--levers"], "sensitivity takes scenarios"),
        (["sweep", "{board}"], "sweep takes scenarios"),
        (["run", "{board}"], "run takes scenarios"),
        (["report", "siloed", "{board}", "--csv", "x.csv"], "give it alone"),
    ],
)
def test_a_comparison_file_where_scenarios_go_is_named_in_one_line(
    write_toml, capsys, argv, fragment
) -> None:
    board = write_toml(TEXT, name="board.toml")
    assert main([a.replace("{board}", str(board)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "board.toml" in err
    assert err.count("\n") == 1 and "is required but missing" not in err


def test_report_takes_a_comparison_file_alone(write_toml, tmp_path, capsys) -> None:
    board = write_toml(TEXT, name="board.toml")
    out = tmp_path / "out.csv"
    assert main(["report", str(board), "--csv", str(out), "--runs", "40"]) == 0
    header = out.read_text(encoding="utf-8").splitlines()[:12]
    assert any("Mine" in line and "Aligned" in line for line in header)
    assert main(["report", "siloed", "--csv", str(out)]) == 2
    assert "a baseline and an alternative, or one comparison file" in (
        capsys.readouterr().err
    )
