"""A corpus of hostile inputs: every file (tests/hostile/*.toml, and large ones
made here) is either refused by ``validate`` and ``run`` in one line with exit
status 2, naming the user's file (never the bundled one it extends), or
accepted and simulated without a warning and with nothing a terminal would
obey in the output. The app's open and drop path is tested on the same corpus
in tests/gui/test_gui_hostile.py."""

from __future__ import annotations

import json
import os
import re
import stat
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
import tomli_w

import scenarios
from simulator.cli import main
from simulator.model.errors import ScenarioError
from simulator.model.safe_text import csv_cell, for_terminal, from_csv_cell
from simulator.model.scenario_io import (
    load_scenario,
    parse_override,
    save_scenario,
    scenario_to_toml,
    stale_temps,
    write_atomic,
)
from simulator.model.schema import MAX_DESCRIPTION, MAX_LEVERS
from simulator.model.untrusted import MAX_FILE_BYTES, RUN_WEEKS_BUDGET
from simulator.run.runner import RunSettings, compare

HOSTILE = Path(__file__).parent / "hostile"
FAST = ["--runs", "20", "--weeks", "12", "--warmup", "4", "--seed", "3"]

#: Corpus files refused, and a fragment of the message (what is wrong, or where).
REFUSED = {
    "absolute_extends.toml": "absolute path",
    "bad_toml.toml": "line 4",
    "binary.toml": "not UTF-8",
    "duplicate_levers.toml": "twice",
    "duplicate_source_names.toml": "must be unique",
    "empty.toml": "name: is required",
    "escaping_extends.toml": "leaves the scenario's folder",
    "huge_seed.toml": "simulation.seed",
    "inf_value.toml": "finite",
    "lever_with_bad_index.toml": "no item named '\u0661'",
    "long_extends.toml": "too long a file name",
    "min_share_times_sources.toml": "min_share",
    "nan_value.toml": "finite",
    "non_ascii_index.toml": "no such parameter",
    "not_utf8.toml": "not UTF-8",
    "nul_in_extends.toml": "extends",
    "range_on_a_share.toml": "cannot be a range",
    "response_profile_not_1.toml": "must sum to 1",
    "schema_version_2.toml": "schema_version",
    "shares_sum_1_5.toml": "must sum to 1",
    "string_for_number.toml": "must be a number",
    "table_for_value.toml": "must be a number",
    "too_many_stages.toml": "at most 12 items",
    "unknown_key.toml": "did you mean 'ignore_base'",
    "value_for_table.toml": "must be a table",
}
#: Corpus files accepted, with the scenario's name as the app shows it.
ACCEPTED = {
    "bom.toml": "With a BOM",
    "control_characters_in_name.toml": "\x1b[2J\x1b]0;owned\x07Fake\x00 valid\r",
    "dollar_name.toml": "$\\frac{1}{$ budget",
    "extreme_but_valid.toml": "Extremes",
    "formula_name.toml": '=HYPERLINK("http://example.com","click")',
    "html_name.toml": "<b>bold</b><img src=x>",
}
#: Files only other corpus files refer to (a lever).
SUPPORT = {"_lever_bad_index.toml"}


def generated(folder: Path) -> dict[str, tuple[Path, str]]:
    """Hostile files too large (or too odd: links) to keep in the repository:
    name -> (path, fragment of the refusal)."""
    head = 'schema_version = 1\nname = "Big"\nextends = "siloed"\n'
    files = {
        "integer_of_5000_digits": (
            head + "[simulation]\nseed = " + "9" * 5000 + "\n",
            "at line 5",
        ),
        "nested_arrays": (head + "x = " + "[" * 5000 + "]" * 5000 + "\n", "TOML"),
        "over_a_megabyte": (head + "# " + "x" * MAX_FILE_BYTES + "\n", "1,000,000"),
        "ten_thousand_levers": (
            head.replace('"siloed"\n', '"siloed"\nlevers = [')
            + ", ".join(['"nurture"'] * 10_000)
            + "]\n",
            "10,000 levers",
        ),
        "too_many_levers": (
            head.replace('"siloed"\n', '"siloed"\nlevers = [')
            + ", ".join(f'"l{i}"' for i in range(MAX_LEVERS + 1))
            + "]\n",
            f"at most {MAX_LEVERS}",
        ),
        "long_description": (
            head.replace(
                'name = "Big"',
                f'name = "Big"\ndescription = "{"d" * (MAX_DESCRIPTION + 1)}"',
            ),
            f"at most {MAX_DESCRIPTION:,}".replace(",", ""),
        ),
    }
    out = {}
    for name, (text, fragment) in files.items():
        path = folder / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        out[name] = (path, fragment)
    (folder / "loop_a.toml").symlink_to("loop_b.toml")
    (folder / "loop_b.toml").symlink_to("loop_a.toml")
    looped = folder / "extends_a_symlink_loop.toml"
    looped.write_text('schema_version = 1\nname = "L"\nextends = "loop_a.toml"\n')
    out["extends_a_symlink_loop"] = (looped, "loop of symbolic links")
    out["is_a_symlink_loop"] = (folder / "loop_a.toml", "loop of symbolic links")
    folder_named = folder / "a_folder.toml"
    folder_named.mkdir()
    out["a_folder"] = (folder_named, "not a file")
    return out


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exit:  # argparse's own usage errors
        code = int(exit.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(code: int, out: str, err: str, path: Path, fragment: str) -> None:
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("funnelsim: error: "), err
    assert "Traceback" not in err
    assert fragment in err, err
    bundled = str(Path(scenarios.__file__).parent)
    assert not err.startswith(f"funnelsim: error: {bundled}"), "blames a bundled file"
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", err), "raw control character"


def test_the_corpus_is_complete() -> None:
    on_disk = {p.name for p in HOSTILE.glob("*.toml")}
    assert on_disk == set(REFUSED) | set(ACCEPTED) | SUPPORT


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_corpus_refused(capsys, name: str) -> None:
    path = HOSTILE / name
    for command in (["validate", str(path)], ["run", str(path), *FAST]):
        assert_refused(*cli(capsys, *command), path, REFUSED[name])


def test_generated_corpus_refused(capsys, tmp_path) -> None:
    for name, (path, fragment) in generated(tmp_path).items():
        for command in (["validate", str(path)], ["run", str(path), *FAST]):
            started = time.perf_counter()
            code, out, err = cli(capsys, *command)
            assert_refused(code, out, err, path, fragment)
            # Refused before any work: ten thousand levers once took seconds.
            assert time.perf_counter() - started < 5, name


def assert_no_warnings(err: str) -> None:
    """Nothing on stderr but the project's own one-line warnings about
    implausible inputs (no Python or numpy warning, no traceback, no note of
    a computation that overflowed), none with a raw control character."""
    for line in err.splitlines():
        assert line.startswith("funnelsim: warning: "), err
        assert "a computation gave" not in line, err
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", line), line


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_corpus_accepted_and_simulated_without_warnings(capsys, name: str) -> None:
    path = HOSTILE / name
    code, out, err = cli(capsys, "validate", str(path))
    assert (code, err) == (0, "")
    assert load_scenario(path).name == ACCEPTED[name]
    # As the baseline: an alternative may not change the starting company
    # (extreme_but_valid.toml does).
    for command in (
        ["run", str(path), *FAST],
        ["compare", str(path), "aligned", *FAST],
    ):
        code, out, err = cli(capsys, *command)
        assert code == 0, err
        assert_no_warnings(err)
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", out), "raw control character"
    code, out, err = cli(capsys, "run", str(path), *FAST, "--json")
    assert code == 0
    assert_no_warnings(err)
    assert json.loads(out)["scenario"] == ACCEPTED[name]


def test_errors_blame_the_layer_that_set_the_value(capsys, tmp_path) -> None:
    code, _, err = cli(
        capsys, "run", "siloed", *FAST, "--set", "pipeline.stages.proposal.conversion=2"
    )
    assert code == 2 and err.startswith("funnelsim: error: --set: ")
    assert "pipeline.stages.proposal.conversion = 2" in err
    # A lever's value is the lever's.
    (tmp_path / "half.toml").write_text(
        'name = "Half"\n[set]\n"follow_up.response_profile.within_5min" = 0.9\n'
    )
    user = tmp_path / "user.toml"
    user.write_text(
        'schema_version = 1\nname = "U"\nextends = "siloed"\nlevers = ["half.toml"]\n'
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(user)
    assert caught.value.file == str(tmp_path / "half.toml")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("simulation.runs=" + "9" * 5000, "thousands of digits"),
        ("simulation.seed=" + "9" * 30, "30 digits"),
        ("handoff.ignore_base=0.3\nhandoff.trust_sensitivity=1", "control character"),
        ("pipeline.stages.²=1", "no item named"),
        ("pipeline.stages." + "9" * 5000 + ".conversion=1", "no item named"),
    ],
)
def test_hostile_overrides(capsys, text: str, fragment: str) -> None:
    with pytest.raises(ScenarioError, match=fragment):
        load_scenario("siloed", overrides=dict([parse_override(text)]))
    code, _, err = cli(capsys, "run", "siloed", *FAST, "--set", text)
    assert code == 2 and len(err.strip().splitlines()) == 1 and fragment in err
    assert len(err) < 600


@pytest.mark.parametrize("option", ["--runs", "--weeks", "--seed"])
def test_numbers_on_the_command_line_are_ascii(capsys, option: str) -> None:
    for value in ("\u0661\u0660", "\u00b2", "1_000", "9" * 5000):
        code, _, err = cli(capsys, "run", "siloed", option, value)
        assert code == 2 and len(err.strip().splitlines()) == 1, err


def test_run_settings_beyond_the_budget_need_yes(capsys, tmp_path) -> None:
    lever = tmp_path / "long.toml"
    lever.write_text(
        'name = "Long"\n[set]\n"simulation.runs" = 10000000\n'
        '"simulation.horizon_weeks" = 1040\n'
    )
    user = tmp_path / "user.toml"
    user.write_text(
        'schema_version = 1\nname = "U"\nextends = "siloed"\nlevers = ["long.toml"]\n'
    )
    code, out, err = cli(capsys, "validate", str(user))
    assert code == 0 and "valid scenario" in out
    assert "funnelsim: note:" in err and f"{RUN_WEEKS_BUDGET:,}" in err
    code, _, err = cli(capsys, "run", str(user))
    assert code == 2 and "--yes" in err and str(user) in err
    # Numbers the user typed are the user's choice.
    code, _, err = cli(capsys, "run", str(user), *FAST)
    assert (code, err) == (0, "")


def test_terminal_output_escapes_control_characters(capsys) -> None:
    path = HOSTILE / "control_characters_in_name.toml"
    code, out, _ = cli(capsys, "run", str(path), *FAST)
    assert code == 0
    # (the table may wrap a title: a carriage return is then a space)
    assert "\\x1b[2J\\x1b]0;owned\\x07Fake\\x00 valid" in out
    assert "\x1b" not in out and "\x00" not in out and "\r" not in out
    # The project's warnings about implausible inputs name the scenario too.
    code, _, err = cli(
        capsys, "run", str(path), *FAST, "--set", "company.annual_expansion=5"
    )
    assert code == 0 and "funnelsim: warning: \\x1b[2J" in err
    assert "\x1b" not in err and "\x00" not in err
    assert for_terminal("a\u202eb\nc") == "a\\u202eb\\x0ac"
    assert for_terminal("a\nb", keep_newlines=True) == "a\nb"


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1+2", "'+1+2"),
        ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-4.5", "-4.5"),
        ("-1e-3", "-1e-3"),
        ("+7", "+7"),
        ("Siloed", "Siloed"),
        (-4.5, -4.5),
    ],
)
def test_csv_cells_cannot_be_formulas(cell: object, expected: object) -> None:
    assert csv_cell(cell) == expected
    if isinstance(cell, str):
        assert from_csv_cell(str(expected)) == cell


def test_csv_export_of_a_formula_name(tmp_path) -> None:
    from simulator.report import export as report

    scenario = load_scenario(HOSTILE / "formula_name.toml")
    comparison = compare(
        load_scenario("siloed"),
        [scenario],
        settings=RunSettings(runs=20, horizon_weeks=8, warmup_weeks=2, seed=1),
    )
    figures, weekly = report.write_csv(comparison, tmp_path / "out.csv")
    for path in (figures, weekly):
        lines = path.read_text(encoding="utf-8").splitlines()
        cells = [c for line in lines for c in line.split(",")]
        assert not [c for c in cells if c.lstrip('"').startswith(("=", "+", "@"))]
        negatives = [c for c in cells if c.startswith("-")]
        assert all(re.fullmatch(r"-[0-9.e+-]+|-inf", c) for c in negatives)
    back = report.read_csv(figures)
    assert scenario.name in back.data


# ----------------------------------------------------------------------- saves


def test_save_keeps_the_mode(tmp_path) -> None:
    path = tmp_path / "shared.toml"
    save_scenario(load_scenario("siloed"), path)
    os.chmod(path, 0o664)
    save_scenario(load_scenario("aligned"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    fresh = tmp_path / "new.toml"
    save_scenario(load_scenario("siloed"), fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


def test_save_writes_through_a_symlink(tmp_path) -> None:
    real = tmp_path / "real" / "scenario.toml"
    real.parent.mkdir()
    save_scenario(load_scenario("siloed"), real)
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    save_scenario(load_scenario("aligned"), link)
    assert link.is_symlink()
    assert load_scenario(real).name == "Aligned"
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    with pytest.raises(ScenarioError, match="loop of symbolic links"):
        write_atomic(loop, "x = 1\n")


def test_stale_temporary_files_are_cleaned(tmp_path) -> None:
    target = tmp_path / "scenario.toml"
    old = tmp_path / ".scenario.toml.abc123xy.tmp"
    new = tmp_path / ".scenario.toml.zzz999qq.tmp"
    other = tmp_path / ".other.toml.abc123xy.tmp"
    for leftover in (old, new, other):
        leftover.write_text("half a file")
    past = time.time() - 3600
    for leftover in (old, other):
        os.utime(leftover, (past, past))
    assert stale_temps(target) == [old]
    save_scenario(load_scenario("siloed"), target)
    assert not old.exists() and new.exists() and other.exists()


def test_a_save_that_could_not_be_reopened_is_refused(tmp_path, monkeypatch) -> None:
    import simulator.model.scenario_io as scenario_io

    scenario = load_scenario("siloed")
    big = scenario.model_copy(update={"description": "é" * MAX_DESCRIPTION})
    # Valid by every cap and saved below; refused under a smaller reader limit.
    with monkeypatch.context() as patch:
        patch.setattr(scenario_io, "MAX_FILE_BYTES", 10_000)
        with pytest.raises(ScenarioError, match="limited to 10,000 bytes"):
            save_scenario(big, tmp_path / "big.toml")
    assert not (tmp_path / "big.toml").exists()
    save_scenario(big, tmp_path / "big.toml")
    assert load_scenario(tmp_path / "big.toml").description == big.description


def test_the_largest_valid_scenario_can_be_reopened(tmp_path) -> None:
    """The caps keep any valid scenario below the reader's limit: every text at
    its longest, in characters of three UTF-8 bytes."""
    from simulator.model import schema

    scenario = load_scenario("siloed")
    wide = "語"
    citation = schema.Citation(
        source=wide * schema.MAX_CITATION_SOURCE, note=wide * schema.MAX_CITATION_NOTE
    )
    big = scenario.model_copy(
        update={
            "name": wide * 200,
            "description": wide * MAX_DESCRIPTION,
            "citations": {
                f"{i:03}{wide * (schema.MAX_CITATION_KEY - 3)}": citation
                # (room for the citations a save adds to the user's own values)
                for i in range(schema.MAX_CITATIONS // 2)
            },
        }
    )
    # A document as the app holds it: levers and extends at their longest too.
    raw = tomllib.loads(scenario_to_toml(big))
    raw["levers"] = [
        f"{i:02}{wide * (schema.MAX_REFERENCE - 2)}" for i in range(MAX_LEVERS)
    ]
    assert len(tomli_w.dumps(raw).encode("utf-8")) < MAX_FILE_BYTES
    path = tmp_path / "largest.toml"
    save_scenario(big, path)
    assert path.stat().st_size < MAX_FILE_BYTES
    assert load_scenario(path).description == big.description


# ----------------------------------------------------------------- numbers


EXTREMES = {
    "company.annual_expansion": 10.0,
    "company.initial_arr": 1e13,
    "company.annual_churn": 0.0,
    "deals.acv_median": 1e10,
    "deals.acv_sigma": 3.0,
    "marketing.weekly_budget": 1e9,
}


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("keep_weekly", [True, False])
def test_valid_extremes_never_vanish(keep_weekly: bool) -> None:
    scenarios = [
        load_scenario(ref, overrides=EXTREMES) for ref in ("siloed", "aligned")
    ]
    settings = RunSettings(runs=40, horizon_weeks=1040, warmup_weeks=8, seed=1)
    comparison = compare(
        scenarios[0],
        scenarios[1:],
        settings=settings,
        keep_weekly=keep_weekly,
    )
    out = comparison.to_json()
    text = json.dumps(out, allow_nan=False)
    for result in (out["baseline"], *out["alternatives"]):
        for series in result["series"].values():
            assert None not in series["mean"] and None not in series["p95"]
    assert comparison.notes, "an overflow clipped with no note"
    assert "clipped" in text
    top = max(np.max(r.series("arr")["p95"]) for r in comparison.results)
    assert np.isfinite(top) and top <= np.finfo(np.float32).max


def test_json_says_whether_weekly_series_were_kept_or_streamed() -> None:
    settings = RunSettings(runs=128, horizon_weeks=20, warmup_weeks=4, seed=9)
    base, alt = load_scenario("siloed"), load_scenario("aligned")
    kept, streamed = (
        compare(base, [alt], settings=settings, keep_weekly=keep).to_json()
        for keep in (True, False)
    )
    assert kept["baseline"]["weekly_series"] == "kept"
    assert streamed["baseline"]["weekly_series"] == "streamed"
    # Per-run figures and their differences are the same runs either way.
    assert kept["differences"] == streamed["differences"]
    for a, b in zip(
        (kept["baseline"], *kept["alternatives"]),
        (streamed["baseline"], *streamed["alternatives"]),
        strict=True,
    ):
        assert a["summary"] == b["summary"]
        for name, series in a["series"].items():
            np.testing.assert_allclose(
                series["mean"], b["series"][name]["mean"], rtol=1e-9, atol=1e-9
            )


@pytest.mark.parametrize(
    "name, line",
    [
        ("nan_value.toml", 5),
        ("unknown_key.toml", 5),
        ("huge_seed.toml", 5),
        ("shares_sum_1_5.toml", 4),
        ("range_on_a_share.toml", 5),
        ("bad_toml.toml", 4),
    ],
)
def test_errors_name_the_line(capsys, name: str, line: int) -> None:
    code, _, err = cli(capsys, "validate", str(HOSTILE / name))
    assert code == 2
    assert f"{name}, line {line}: " in err or f"(at line {line}," in err, err


def test_key_lines_follow_tables_and_arrays_of_tables() -> None:
    from simulator.model.untrusted import key_lines, line_of

    text = (
        'name = "x"\n'  # 1
        "[handoff]\n"  # 2
        "ignore_base = 0.2  # comment\n"  # 3
        "[[marketing.sources]]\n"  # 4
        'name = "a"\n'  # 5
        "[[marketing.sources]]\n"  # 6
        "share = 0.5\n"  # 7
        "[follow_up]\n"  # 8
        "response_profile = {within_5min = 0.5}\n"  # 9
        '"a.b" . c = 1\n'  # 10
    )
    lines = key_lines(text)
    assert lines["handoff.ignore_base"] == 3
    assert lines["marketing.sources.1.share"] == 7
    assert lines["follow_up.a.b.c"] == 10
    assert line_of(text, "follow_up.response_profile.within_5min") == 9
    assert line_of(text, "marketing") == 4
    assert line_of(text, "deals.acv_sigma") is None


def test_the_front_door_for_other_readers(tmp_path) -> None:
    """What a reader of another kind of file (a comparison) calls."""
    from simulator.model.untrusted import read_toml_file, refusing

    good = tmp_path / "c.toml"
    good.write_text('\ufeffbaseline = "siloed"\n', encoding="utf-8")
    assert read_toml_file(good) == {"baseline": "siloed"}
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    with pytest.raises(ScenarioError, match="loop of symbolic links"):
        read_toml_file(loop)
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(ScenarioError, match=r"^comparison: is not a file$"):
        read_toml_file(tmp_path / "folder.toml", origin="comparison")
    unforeseen = pytest.raises(
        ScenarioError, match=r"^c\.toml: cannot be used \(boom\)$"
    )
    with unforeseen, refusing("c.toml"):
        raise ValueError("boom")


HEAVY_COMPARISON = """schema_version = 1
kind = "comparison"
[run]
runs = 10000000
horizon_weeks = 1040
[baseline]
name = "B"
extends = "siloed"
[[alternatives]]
name = "A"
extends = "aligned"
"""


def test_a_comparison_file_beyond_the_budget_needs_yes(capsys, tmp_path) -> None:
    path = tmp_path / "heavy.toml"
    path.write_text(HEAVY_COMPARISON)
    code, out, err = cli(capsys, "validate", str(path))
    assert code == 0 and "valid comparison" in out and "run-weeks" in err
    code, _, err = cli(capsys, "compare", str(path))
    assert code == 2 and "--yes" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, "compare", str(path), *FAST)
    assert (code, err) == (0, "")


def test_a_hostile_comparison_file_is_refused_in_one_line(capsys, tmp_path) -> None:
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    deep = tmp_path / "deep.toml"
    deep.write_text(
        HEAVY_COMPARISON.replace('extends = "aligned"', 'levers = ["\\u00b2"]')
    )
    for path, fragment in ((loop, "loop of symbolic links"), (deep, "levers")):
        for command in ("validate", "compare"):
            code, _, err = cli(capsys, command, str(path))
            assert code == 2 and fragment in err, err
            assert len(err.strip().splitlines()) == 1


def test_a_save_that_could_not_be_reopened_writes_nothing(tmp_path) -> None:
    """A scenario held in memory beyond a cap (edits add a citation per value
    the user enters) is refused at save with the reason, and the file on disk
    stays as it was."""
    from simulator.model import schema

    scenario = load_scenario("siloed")
    over = scenario.model_copy(
        update={
            "citations": {
                f"note_{i}": schema.Citation(source="ours")
                for i in range(schema.MAX_CITATIONS + 1)
            }
        }
    )
    path = tmp_path / "ours.toml"
    save_scenario(scenario, path)
    before = path.read_bytes()
    with pytest.raises(ScenarioError, match="could not be opened again") as info:
        save_scenario(over, path)
    assert "citations" in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ours.toml"]
