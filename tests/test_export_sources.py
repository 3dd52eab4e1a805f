"""What exports say about where each value comes from, for a user's own
company: every value of the user's file is the user's, a table's citation
does not vouch for a value changed inside it, lever notes hold for any
company, and numbers are written so that people read them right."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.model.errors import ScenarioError
from simulator.model.parameter_text import format_parameter
from simulator.model.provenance import assumption_rows, citation_of, provenance
from simulator.model.scenario_io import load_scenario, resolve_alternative
from simulator.report import deck
from simulator.report import export as report
from simulator.report.charts import ScaledFormatter
from simulator.report.text import fmt_se, two_digits
from simulator.run.runner import RunSettings, compare

TINY = RunSettings(runs=40, horizon_weeks=12, warmup_weeks=4, seed=3)
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

USER_FILE = """\
schema_version = 1
name = "Acme Widgets"
extends = "siloed"

[company]
initial_customers = 800
initial_arr = 15_800_000.0
annual_churn = 0.07

[marketing]
weekly_budget = 15_000.0

[[marketing.sources]]
name = "google_ads"
cost_per_lead = 120.0
share = 0.6
ready = 0.3
future = 0.5
junk = 0.2

[[marketing.sources]]
name = "trade_shows"
cost_per_lead = 250.0
share = 0.4
ready = 0.4
future = 0.45
junk = 0.15

[[pipeline.stages]]
name = "qualify"
conversion = 0.7
mean_weeks = 2.0

[[pipeline.stages]]
name = "contract"
conversion = 0.5
mean_weeks = 3.0

[deals]
acv_median = 17_000.0
acv_sigma = 0.55

[follow_up]
capacity_per_week = 120.0

[citations."company.annual_churn"]
source = "finance churn report FY25"
confidence = "user"
"""

#: The rows the file above sets, by label, all the user's.
USER_LABELS = [
    "Initial customers",
    "Initial ARR",
    "Annual churn",
    "Weekly budget",
    "Source google_ads",
    "Source trade_shows",
    "Stage qualify",
    "Stage contract",
    "Median deal value (ACV)",
    "Deal value spread",
    "Follow-up capacity",
]


@pytest.fixture(scope="module")
def mine(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("user") / "mine.toml"
    path.write_text(USER_FILE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def comparison(mine):
    base = load_scenario(mine)
    return compare(base, [resolve_alternative(base, "aligned")], settings=TINY)


def test_every_value_of_a_users_file_is_the_users(mine) -> None:
    rows = {row.label: row for row in assumption_rows(load_scenario(mine))}
    for label in USER_LABELS:
        assert label in rows, label
        assert rows[label].kind == "yours", label
    assert rows["Initial customers"].source == "from your file mine.toml"
    assert rows["Stage qualify"].value == "Conversion 70 %, Mean weeks 2 weeks"
    # the user's own citation is kept, not replaced by the file's name
    assert rows["Annual churn"].source == "finance churn report FY25"
    # a bundled file's values are not the user's
    assert all(r.kind != "yours" for r in assumption_rows(load_scenario("siloed")))


def test_pdf_and_deck_list_the_users_values(comparison) -> None:
    lines = "\n".join(text for _s, text in report.source_lines(comparison))
    for label in USER_LABELS:
        assert f"{label} = " in lines, label
    assert "Initial customers = 800 customers — from your file mine.toml" in lines
    assert "Follow-up capacity = 120 leads/week — from your file mine.toml" in lines
    rows = deck.assumption_rows(comparison)
    yours = {name for name, _value, kind, _source in rows if kind == "yours"}
    for label in USER_LABELS:
        assert label in yours, label
    # no empty values for tables: the response profile is written out
    values = {name: value for name, value, _kind, _source in rows}
    assert values["Response profile"].startswith("5 / ")
    assert all(value for value in values.values())


def test_a_tables_citation_does_not_vouch_for_a_changed_value() -> None:
    base = load_scenario("siloed")
    aligned = resolve_alternative(base, "aligned")
    scoring = base.citations["marketing.scoring"].source
    for key in ("pass_ready", "pass_future", "pass_junk"):
        cite = citation_of(aligned, f"marketing.scoring.{key}")
        assert cite is not None and cite.source != scoring
    assert "marketing.scoring" not in aligned.citations
    # one stage's dwell time changed: that stage's loses the list's citation,
    # the other stages keep it
    changed = load_scenario(
        "siloed", overrides={"pipeline.stages.proposal.mean_weeks": 5.0}
    )
    bridge = base.citations["pipeline.stages"].source
    assert citation_of(changed, "pipeline.stages.proposal.mean_weeks") is None
    kept = citation_of(changed, "pipeline.stages.discovery.mean_weeks")
    assert kept is not None and kept.source == bridge
    assert provenance(changed, "pipeline.stages.proposal.conversion") == "cited"


def test_lever_notes_hold_for_any_company() -> None:
    for path in SCENARIOS.rglob("*.toml"):
        text = path.read_text(encoding="utf-8")
        for word in ("MODEL.md", "CALIBRATION.md", "issue "):
            assert word not in text, (path.name, word)
    levers = SCENARIOS / "levers"
    assert "0.6235" not in (levers / "enablement.toml").read_text(encoding="utf-8")
    assert "10 %/yr" not in (levers / "retention.toml").read_text(encoding="utf-8")


def test_values_as_people_read_them() -> None:
    assert format_parameter("follow_up.capacity_per_week", 0.0) == "unlimited"
    assert format_parameter("follow_up.capacity_per_week", 63.0) == "63 leads/week"
    profile = {
        "within_5min": 0.2,
        "within_1h": 0.6,
        "within_1d": 0.15,
        "within_1w": 0.05,
    }
    assert format_parameter("follow_up.response_profile", profile).startswith(
        "20 / 60 / 15 / 5 % within 5 minutes"
    )
    assert fmt_se(0.0003, "share") == "0.030 pts"
    assert two_digits(1.234) == "1.2" and two_digits(123.4) == "120"


def test_errors_name_stages_and_list_several_problems(tmp_path) -> None:
    path = tmp_path / "half.toml"
    path.write_text(
        'schema_version = 1\nname = "Half"\nextends = "siloed"\n'
        '[[pipeline.stages]]\nname = "qualify"\nconversion = 0.5\n'
        "[company]\nannual_churn = 7\ninitial_customers = -1\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "pipeline.stages.qualify" in message and "stages.0" not in message
    assert "\n" not in message
    assert "more problem" not in message
    assert message.count("half.toml") == 1
    assert "annual_churn" in message and "initial_customers" in message


def test_sensitivity_help_shows_a_plain_percent(capsys) -> None:
    from simulator.cli import main

    with pytest.raises(SystemExit):
        main(["sensitivity", "--help"])
    out = capsys.readouterr().out
    assert "±20 %" in " ".join(out.split()) and "%%" not in out


def test_count_ticks_of_a_narrow_axis() -> None:
    formatter = ScaledFormatter("count")
    ticks = [-0.04, -0.02, -1e-17, 0.02, 0.04]
    formatter.set_locs(ticks)
    labels = [formatter(v) for v in ticks]
    assert len(set(labels)) == len(labels)
    assert "-0" not in labels and "\u22120" not in labels
    formatter.set_locs([0.0, 500.0, 1000.0])
    assert formatter(1000.0) == "1,000"
