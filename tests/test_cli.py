"""The command line through main(argv), and once as a real subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator import cli
from simulator.cli import main
from simulator.scenario_io import load_scenario

REPO = Path(__file__).resolve().parent.parent

FAST = ["--runs", "300", "--weeks", "52", "--warmup", "10", "--seed", "5"]
STATS = {"mean", "sd", "se", "p5", "p10", "p25", "p50", "p75", "p90", "p95"}


def test_run_json(capsys) -> None:
    assert main(["run", "siloed", *FAST, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"] and out["runs"] == 300 and out["seed"] == 5
    assert out["summary"]["arr_growth_y1"].keys() >= STATS
    for figure in ("total_leads", "total_won", "arr_end", "cac", "total_revenue"):
        assert figure in out["summary"]
    assert set(out["series"]["arr"]) == {"mean", "p5", "p50", "p95"}
    assert len(out["series"]["arr"]["p50"]) == 52


def test_compare_json_has_paired_differences(capsys) -> None:
    assert main(["compare", "siloed", "aligned", *FAST, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"]["scenario"] and len(out["alternatives"]) == 1
    diff = out["differences"][0]["arr_end"]
    assert STATS | {"p_better", "p_better_se"} <= diff.keys()
    assert 0 <= diff["p_better"] <= 1


def test_set_applies_to_every_scenario(capsys) -> None:
    assert (
        main(
            [
                "compare",
                "siloed",
                "aligned",
                *FAST,
                "--json",
                "--set",
                "marketing.weekly_budget=0.0",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    for result in (out["baseline"], *out["alternatives"]):
        assert result["summary"]["total_leads"]["mean"] == 0


def test_human_tables_have_units(capsys) -> None:
    assert main(["compare", "siloed", "aligned", *FAST]) == 0
    text = capsys.readouterr().out
    assert "arr_growth_y1" in text and "$/year" in text and "P(better)" in text


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "no_such_scenario"], "no such file and no bundled scenario"),
        (
            ["run", "siloed", "--set", "company.annual_churn=2"],
            "company.annual_churn = 2",
        ),
        (["run", "siloed", "--set", "oops"], "expected dotted.name=value"),
        (["run", "siloed", "--runs", "-3"], "must be at least 1"),
        (["run", "siloed", "--weeks", "5000"], "less than or equal to 1040"),
        (["compare", "siloed"], "at least one alternative, or one comparison file"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, fragment) -> None:
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def exit_code(argv: list[str]) -> int:
    """main()'s return value, or the status argparse exits with."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_validate(capsys, tmp_path) -> None:
    assert main(["validate", "siloed", "aligned"]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'schema_version = 1\nname = "x"\nextends = "siloed"\n[nurture]\ncapture = 3\n'
    )
    assert main(["validate", str(bad)]) == 2
    assert "nurture.capture = 3" in capsys.readouterr().err


def test_list(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "siloed" in out and "Levers:" in out


def test_gui_without_display_says_so_and_runs_the_terminal_comparison(
    capsys, monkeypatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(
        "simulator.cli.HEADLESS_COMMAND", ["compare", "siloed", "aligned", *FAST]
    )
    assert main(["gui"]) == 0
    captured = capsys.readouterr()
    assert "no display found" in captured.err
    assert "arr_growth_y1" in captured.out


def test_subprocess_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "run", "siloed", *FAST, "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runs"] == 300
    bad = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "run", "nope"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("preparing_seconds", "noted"), [(0.4, True), (0.0, False)])
def test_the_preparing_note_shows_only_when_the_wait_is_long(
    monkeypatch, preparing_seconds: float, noted: bool
) -> None:
    """Compiling takes seconds and deserves a word; loading the compiled step
    from the cache takes a fraction of one and does not."""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(cli, "PREPARING_NOTE_AFTER", 0.1)
    monkeypatch.setattr(cli, "prepare", lambda params: time.sleep(preparing_seconds))
    cli.prepare_engine(load_scenario("siloed"))
    time.sleep(0.2)  # a note left pending would show by now
    assert ("preparing the simulation engine" in terminal.getvalue()) is noted
