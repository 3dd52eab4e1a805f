"""Loading, validating and writing scenario files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.model.errors import ScenarioError
from simulator.model.library import bundled_levers, bundled_scenarios
from simulator.model.scenario_io import (
    load_lever,
    load_scenario,
    parse_override,
    read_toml,
    save_scenario,
    scenario_to_toml,
)


def minimal(extra: str = "") -> str:
    return f"""schema_version = 1
name = "Test"
extends = "siloed"
{extra}
"""


def error_for(write_toml, text: str) -> ScenarioError:
    path = write_toml(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def test_every_bundled_file_loads() -> None:
    assert {e.id for e in bundled_scenarios()} >= {"siloed", "aligned"}
    for entry in bundled_scenarios():
        assert load_scenario(entry.id).name
    for entry in bundled_levers():
        assert load_lever(entry.id).set


def test_aligned_is_siloed_plus_levers() -> None:
    siloed, aligned = load_scenario("siloed"), load_scenario("aligned")
    assert aligned.extends == "siloed"
    assert len(aligned.levers) >= 8
    assert siloed.company.initial_arr == aligned.company.initial_arr
    for lever_id in aligned.levers:
        lever = load_lever(lever_id)
        assert lever.name and lever.description and lever.sources


@pytest.mark.parametrize(
    ("extra", "parameter", "value_text", "allowed"),
    [
        (
            "[company]\nannual_churn = 1.5",
            "company.annual_churn",
            "1.5",
            "less than or equal to 1",
        ),
        (
            "[company]\nannual_churn = -0.1",
            "company.annual_churn",
            "-0.1",
            "greater than or equal to 0",
        ),
        (
            '[company]\ninitial_customers = "300"',
            "company.initial_customers",
            "'300'",
            "whole number",
        ),
        (
            "[company]\ninitial_customers = true",
            "company.initial_customers",
            "True",
            "whole number",
        ),
        ("[company]\ninitial_arr = nan", "company.initial_arr", "nan", "finite"),
        ("[company]\ninitial_arr = inf", "company.initial_arr", "inf", "finite"),
        (
            "[handoff]\nrecycle_rejected = 1",
            "handoff.recycle_rejected",
            "1",
            "true or false",
        ),
        (
            '[marketing.reallocation]\nmetric = "clicks"',
            "marketing.reallocation.metric",
            "'clicks'",
            "'mql' or 'qualified'",
        ),
        (
            "[follow_up]\nstale_after_weeks = 0",
            "follow_up.stale_after_weeks",
            "0",
            "greater than or equal to 1",
        ),
        (
            '[[pipeline.stages]]\nname = "x"\nconversion = 0.5\nmean_weeks = 0.5',
            "pipeline.stages.x.mean_weeks",
            "0.5",
            "greater than or equal to 1",
        ),
    ],
)
def test_bad_values_name_file_parameter_value_and_range(
    write_toml, extra: str, parameter: str, value_text: str, allowed: str
) -> None:
    error = error_for(write_toml, minimal(extra))
    message = str(error)
    assert "scenario.toml" in message
    assert f"{parameter} = {value_text}" in message
    assert allowed in message


def test_unknown_key_is_an_error_with_a_suggestion(write_toml) -> None:
    message = str(error_for(write_toml, minimal("[company]\nanual_churn = 0.1")))
    assert "company.anual_churn" in message
    assert "did you mean 'annual_churn'" in message


def test_unknown_table_is_an_error(write_toml) -> None:
    message = str(error_for(write_toml, minimal("[compny]\nannual_churn = 0.1")))
    assert "compny" in message and "unknown parameter" in message


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (
            "[follow_up.response_profile]\nwithin_5min = 0.5",
            "response_profile must sum to 1",
        ),
        (
            '[[marketing.sources]]\nname = "a"\ncost_per_lead = 10.0\nshare = 1.0\n'
            "ready = 0.5\nfuture = 0.5\njunk = 0.5",
            "quality mix of source 'a' must sum to 1",
        ),
        (
            '[[marketing.sources]]\nname = "a"\ncost_per_lead = 10.0\nshare = 0.5\n'
            "ready = 0.5\nfuture = 0.25\njunk = 0.25",
            "shares must sum to 1",
        ),
    ],
)
def test_mixes_and_shares_must_sum_to_one(
    write_toml, extra: str, fragment: str
) -> None:
    assert fragment in str(error_for(write_toml, minimal(extra)))


def test_broken_toml_names_the_file_and_line(write_toml) -> None:
    message = str(error_for(write_toml, "name = \n"))
    assert (
        "scenario.toml" in message
        and "not valid TOML" in message
        and "line 1" in message
    )


def test_missing_lever_and_extends(write_toml) -> None:
    assert "lever 'no_such_lever' not found" in str(
        error_for(write_toml, minimal('levers = ["no_such_lever"]'))
    )
    assert "scenario 'nowhere.toml' not found" in str(
        error_for(
            write_toml, 'schema_version = 1\nname = "x"\nextends = "nowhere.toml"'
        )
    )


def test_extends_loop_is_reported(write_toml) -> None:
    write_toml('schema_version = 1\nname = "a"\nextends = "b.toml"\n', "a.toml")
    b = write_toml('schema_version = 1\nname = "b"\nextends = "a.toml"\n', "b.toml")
    with pytest.raises(ScenarioError, match="extends loop"):
        load_scenario(b)


def test_paths_may_not_leave_the_scenario_folder(write_toml) -> None:
    message = str(error_for(write_toml, minimal('levers = ["../../etc/passwd"]')))
    assert "leaves the scenario's folder" in message


def test_oversized_file_is_refused(write_toml) -> None:
    message = str(error_for(write_toml, minimal("# " + "x" * 1_100_000)))
    assert "limited to" in message


def test_unsupported_schema_version(write_toml) -> None:
    message = str(error_for(write_toml, 'schema_version = 2\nname = "x"'))
    assert "schema_version = 2" in message


def test_value_from_a_lever_is_blamed_on_the_lever(write_toml, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'name = "Bad"\ndescription = "d"\nsources = ["s"]\n[set]\n'
        '"handoff.ignore_base" = 2.0\n'
    )
    message = str(error_for(write_toml, minimal('levers = ["bad.toml"]')))
    assert "bad.toml, line 5: handoff.ignore_base = 2.0" in message


def test_file_values_override_levers_and_overrides_override_both(write_toml) -> None:
    path = write_toml(
        minimal('levers = ["sales_works_every_lead"]\n[handoff]\nignore_base = 0.33')
    )
    assert load_scenario(path).handoff.ignore_base == 0.33
    scenario = load_scenario(path, overrides={"handoff.ignore_base": 0.44})
    assert scenario.handoff.ignore_base == 0.44


def test_overrides_address_list_items_by_index_or_name() -> None:
    siloed = load_scenario("siloed")
    first = siloed.pipeline.stages[0].name
    by_name = load_scenario(
        "siloed", overrides={f"pipeline.stages.{first}.conversion": 0.9}
    )
    by_index = load_scenario("siloed", overrides={"pipeline.stages.0.conversion": 0.9})
    assert (
        by_name.pipeline.stages[0].conversion
        == 0.9
        == by_index.pipeline.stages[0].conversion
    )
    with pytest.raises(ScenarioError, match="no item named 'nope'"):
        load_scenario("siloed", overrides={"pipeline.stages.nope.conversion": 0.9})


def test_parse_override_takes_toml_literals() -> None:
    assert parse_override("handoff.ignore_base=0.3") == ("handoff.ignore_base", 0.3)
    assert parse_override("nurture.enabled=true") == ("nurture.enabled", True)
    assert parse_override('marketing.reallocation.metric="qualified"')[1] == "qualified"
    assert (
        parse_override(
            "follow_up.response_profile={within_5min=1.0, within_1h=0, "
            "within_1d=0, within_1w=0}"
        )[1]["within_5min"]
        == 1.0
    )
    with pytest.raises(ScenarioError, match="strings need quotes"):
        parse_override("marketing.reallocation.metric=qualified")


@pytest.mark.parametrize("scenario_id", ["siloed", "aligned"])
def test_round_trip_load_save_load(tmp_path: Path, scenario_id: str) -> None:
    original = load_scenario(scenario_id)
    path = tmp_path / f"{scenario_id}-copy.toml"
    save_scenario(original, path)
    again = load_scenario(path)
    assert same_but_yours(again, original, path.name)


def test_saved_file_keeps_extends_and_levers_and_only_the_changes(
    tmp_path: Path,
) -> None:
    edited = load_scenario("aligned", overrides={"company.annual_expansion": 0.07})
    text = scenario_to_toml(edited, relative_to=tmp_path / "mine.toml")
    assert 'extends = "siloed"' in text and "levers = [" in text
    assert "annual_expansion = 0.07" in text
    assert "initial_customers" not in text  # inherited, unchanged
    save_scenario(edited, tmp_path / "mine.toml")
    again = load_scenario(tmp_path / "mine.toml")
    assert same_but_yours(again, edited, "mine.toml")
    # the value the file sets without a source is now credited to the file
    assert again.citations["company.annual_expansion"].source == (
        "from your file mine.toml"
    )


def same_but_yours(again, original, file_name: str) -> bool:
    """Equal, except that values the saved file sets without a citation of
    their own are credited to that file."""
    dumped = again.model_dump()
    credited = {
        k
        for k, c in dumped["citations"].items()
        if c["source"] == f"from your file {file_name}"
    }
    assert all(k not in original.citations for k in credited)
    dumped["citations"] = {
        k: c for k, c in dumped["citations"].items() if k not in credited
    }
    return dumped == original.model_dump()


def test_save_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "s.toml"
    target.write_text("old contents")
    save_scenario(load_scenario("siloed"), target)
    assert load_scenario(target).name == load_scenario("siloed").name
    assert [p.name for p in tmp_path.iterdir()] == ["s.toml"]  # no temporary left


def test_replacing_a_list_drops_the_citations_of_its_old_items(write_toml) -> None:
    path = write_toml(
        minimal(
            '[citations."pipeline.stages.0.conversion"]\nsource = "old"\n'
            '[[pipeline.stages]]\nname = "only"\nconversion = 0.5\nmean_weeks = 2.0\n'
        )
    )
    # The file's own citation comes after its list, so it survives; an inherited one
    # for the replaced list's items would not.
    assert "pipeline.stages.0.conversion" in load_scenario(path).citations
    base = write_toml(
        'schema_version = 1\nname = "b"\nextends = "siloed"\n'
        '[citations."pipeline.stages.0.conversion"]\nsource = "old"\n',
        "base.toml",
    )
    child = write_toml(
        'schema_version = 1\nname = "c"\nextends = "base.toml"\n'
        '[[pipeline.stages]]\nname = "only"\nconversion = 0.5\nmean_weeks = 2.0\n',
        "child.toml",
    )
    assert "pipeline.stages.0.conversion" in load_scenario(base).citations
    assert "pipeline.stages.0.conversion" not in load_scenario(child).citations


def test_a_parsed_file_is_reused_only_while_unchanged(tmp_path) -> None:
    """read_toml keeps recent parses: each caller gets its own copy, and a file
    changed on disk (a new modification time) is parsed again."""
    path = tmp_path / "s.toml"
    path.write_text('name = "A"\n[company]\ninitial_customers = 10\n')
    first = read_toml(path)
    first["company"]["initial_customers"] = 99
    assert read_toml(path)["company"]["initial_customers"] == 10
    stat = path.stat()
    path.write_text('name = "B"\n[company]\ninitial_customers = 20\n')  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert read_toml(path) == {"name": "B", "company": {"initial_customers": 20}}
