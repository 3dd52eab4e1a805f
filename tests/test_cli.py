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
from simulator.model.scenario_io import load_scenario
from simulator.report.text import KEY_FIGURES, fmt_share
from simulator.run.figures import FIGURE_ORDER, FIGURE_SHORT_LABELS

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


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


#: The default horizon and warm-up, and the longest seed a file may give.
WIDE = ["--runs", "300", "--weeks", "104", "--warmup", "52"]
WIDE += ["--seed", str(2**63 - 1)]


@pytest.mark.parametrize("options", [FAST, WIDE], ids=["short", "widest"])
def test_tables_fit_100_columns(capsys, options: list[str]) -> None:
    for command in (["compare", "siloed", "aligned"], ["run", "siloed"]):
        for every in ([], ["--all"]):
            assert main([*command, *options, *every]) == 0
            lines = _lines(capsys.readouterr().out)
            assert max(len(line) for line in lines) <= 100, command + every


def test_comparison_table_reads_in_words_within_100_columns(capsys) -> None:
    assert main(["compare", "siloed", "aligned", *FAST]) == 0
    text = capsys.readouterr().out
    lines = _lines(text)
    assert max(len(line) for line in lines) <= 100
    # A headline first: who does better, by how much, how often.
    assert lines[0].startswith("Aligned grows ARR ")
    assert "more than Siloed in year 1, better in " in lines[0]
    for figure in KEY_FIGURES:
        assert FIGURE_SHORT_LABELS[figure] in text
    for internal in ("arr_growth_y1", "total_", "cac ", "p50", "P(higher)"):
        assert internal not in text
    # One statistic per column, each named in the header and the legend.
    header = next(line for line in lines if line.startswith("Figure"))
    assert header.split() == [
        "Figure", "Siloed", "Aligned", "Difference", "±", "s.e.", "5th", "pct",
        "95th", "pct", "Better",
    ]  # fmt: skip
    assert any(
        line.startswith("Means; Difference: Aligned - Siloed in each run")
        for line in lines
    )
    # Then the net value and the headline's caveat, wrapped.
    assert "Net value over 52 weeks" in text and "Read with care" in text
    # Key figures only, unless asked.
    assert FIGURE_SHORT_LABELS["total_contacted"] not in text
    assert "Key figures; --all shows every figure." in lines


def test_better_follows_each_figures_direction(capsys) -> None:
    assert main(["compare", "siloed", "aligned", *FAST, "--all"]) == 0
    rows = {
        line[:24].strip(): line[24:].split() for line in _lines(capsys.readouterr().out)
    }
    # Aligned ignores fewer MQLs (better) and spends more (worse), in every run.
    assert rows["MQLs ignored by sales"][-2:] == ["100.0", "%"]
    assert rows["Total cost"][-2:] == ["0.0", "%"]
    # A share's difference is in percentage points.
    assert rows["ARR growth in year 1"][5] == "pts"


def test_every_figure_fits_100_columns_with_long_names(capsys, tmp_path) -> None:
    company = tmp_path / "long.toml"
    company.write_text(
        'schema_version = 1\nname = "Northwind Industrial Supplies (plan B)"\n'
        'extends = "siloed"\n[deals]\nacv_median = 85000.0\n',
        encoding="utf-8",
    )
    assert main(["compare", str(company), "aligned", *FAST, "--all"]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in _lines(text)) <= 100
    for figure in FIGURE_ORDER:
        assert FIGURE_SHORT_LABELS[figure] in text
    assert "Northwind…" in text  # the header's name, shortened


def test_run_table_reads_in_words_within_100_columns(capsys) -> None:
    assert main(["run", "siloed", *FAST, "--all"]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in _lines(text)) <= 100
    assert "Deals won" in text and "Median" in text and "total_won" not in text


def test_shares_of_runs_are_never_rounded_to_certainty() -> None:
    assert fmt_share(0.9996) == ">99.9 %" and fmt_share(1.0) == "100.0 %"
    assert fmt_share(0.0004) == "<0.1 %" and fmt_share(0.0) == "0.0 %"
    assert fmt_share(float("nan")) == "n/a"


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
        "gui.app.HEADLESS_COMMAND", ["compare", "siloed", "aligned", *FAST]
    )
    assert main(["gui"]) == 0
    captured = capsys.readouterr()
    assert "no display found" in captured.err
    assert "ARR growth in year 1" in captured.out


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
    monkeypatch.setattr(
        "simulator.engine.chunk.prepare", lambda params: time.sleep(preparing_seconds)
    )
    cli.prepare_engine(load_scenario("siloed"))
    time.sleep(0.2)  # a note left pending would show by now
    assert ("preparing the simulation engine" in terminal.getvalue()) is noted


def test_suggested_commands_work_as_typed(monkeypatch, tmp_path, capsys) -> None:
    """funnelsim alone is found only on the PATH; else the script's path."""
    from simulator.model.command import funnelsim_command

    script = Path(sys.executable).parent / "funnelsim"
    if not script.is_file():
        pytest.skip("not run from an environment with funnelsim installed")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    assert funnelsim_command() == str(script)
    monkeypatch.chdir(script.parent.parent.parent)
    assert funnelsim_command() == str(script.relative_to(Path.cwd()))  # .venv/bin/..
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    assert funnelsim_command() == "funnelsim"

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(
        "gui.app.HEADLESS_COMMAND", ["compare", "siloed", "aligned", *FAST]
    )
    assert main(["gui"]) == 0
    assert f"`xvfb-run -a {script} gui`" in capsys.readouterr().err


def test_the_bench_times_a_command_that_parses() -> None:
    from simulator.cli.bench import WHOLE_PROCESS

    args = cli._build_parser().parse_args(WHOLE_PROCESS)
    assert args.handler is cli.cmd_compare and args.json and args.runs == 10_000


def test_validate_warns_of_implausible_inputs_and_stays_valid(capsys, tmp_path) -> None:
    """Valid is not plausible: a churn of 70 % and an ARR typed in thousands
    get compare's warnings under the "valid" line; the exit status stays 0."""
    odd = tmp_path / "odd.toml"
    odd.write_text(
        'schema_version = 1\nname = "Odd"\nextends = "siloed"\n'
        "[company]\ninitial_customers = 800\ninitial_arr = 15800.0\n"
        "annual_churn = 0.7\n"
    )
    assert main(["validate", str(odd)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{odd}: valid scenario (Odd)"
    warnings = lines[1:]
    assert any("Annual churn 70 %" in line for line in warnings)
    assert any("Initial ARR $15.8K" in line for line in warnings)
    assert all(line.startswith("  warning: ") for line in warnings)
    assert main(["validate", "siloed"]) == 0
    assert capsys.readouterr().out.splitlines() == ["siloed: valid scenario (Siloed)"]
