"""The app with a user's own company: alternatives follow the baseline,
percentages as typed, plausibility warnings, provenance, comparison files."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gui.editor import parse_percent
from gui.mainwindow import MainWindow, alternative_summary
from simulator.model.scenario_io import load_scenario, resolve_alternative
from simulator.run.runner import compare

FAST = {"runs": 300, "horizon_weeks": 60, "warmup_weeks": 12, "seed": 7}


@pytest.fixture
def three(qtbot, settings):
    win = MainWindow(
        settings=settings,
        scenarios=["siloed", "aligned", "aligned-conservative"],
        run_settings=dict(FAST),
        debounce_ms=20,
        preview_runs=100,
    )
    win.show()
    yield win
    for doc in win.docs:
        doc.undo_stack.setClean()
    win.close()
    win.controller.shutdown()
    win.deleteLater()


def _type(qtbot, field, text: str) -> None:
    line = field.widget.lineEdit()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_an_edit_of_the_baseline_company_reaches_every_alternative(
    three, qtbot, wait_final
) -> None:
    wait_final(three)
    seen = three.final_results
    previews = []
    three.resultShown.connect(lambda final: previews.append(final))
    editor = three.panes[0].editor
    editor.field("company.initial_customers").widget.setValue(420)
    editor.field("company.initial_arr").widget.setValue(15_080_000)
    wait_final(three, after=seen)
    assert False in previews  # a preview came first, with the new company
    comparison = three.results.comparison
    for result in comparison.results:
        assert result.scenario.company.initial_customers == 420
        assert result.scenario.company.initial_arr == 15_080_000
    # Each alternative's tab says what it is.
    assert "Baseline + 8 levers + 1 change" in three.panes[1].info.text()
    assert "Baseline + 2 levers + 1 change" in three.panes[2].info.text()
    gaps = [d["arr_growth_y1"]["mean"] for d in comparison.differences]
    assert 0 < gaps[1] < gaps[0]  # conservative below full alignment
    # The app shows what the command line computes for that company.
    company = {"company.initial_customers": 420, "company.initial_arr": 15_080_000.0}
    base = load_scenario("siloed", overrides=company)
    alternatives = [
        resolve_alternative(base, ref) for ref in ("aligned", "aligned-conservative")
    ]
    expected = compare(base, alternatives, settings=three.run_settings())
    for shown, wanted in zip(comparison.differences, expected.differences, strict=True):
        assert shown["arr_growth_y1"]["mean"] == wanted["arr_growth_y1"]["mean"]
        assert shown["arr_end"]["p50"] == wanted["arr_end"]["p50"]


def test_each_alternative_says_what_it_is_from_the_start(three) -> None:
    """Before any edit, as the window opens: an alternative's tab reads as a
    set of changes to the baseline, not as the file it extends."""
    assert "Baseline + 8 levers + 1 change" in three.panes[1].info.text()
    assert "Baseline + 2 levers + 1 change" in three.panes[2].info.text()
    assert "The baseline" in three.panes[0].info.text()


def test_an_alternative_cannot_take_its_own_starting_company(three) -> None:
    alt = three.docs[1]
    three.panes[1].editor.field("company.initial_customers").widget.setValue(999)
    assert alt.scenario.company.initial_customers == 300  # refused
    assert "starting company" in three.messages.text


@pytest.mark.parametrize("typed", ["12", "12%", "12 %", " 12 % "])
def test_percentages_as_typed(three, qtbot, typed: str) -> None:
    field = three.panes[0].editor.field("company.annual_churn")
    _type(qtbot, field, typed)
    assert three.docs[0].scenario.company.annual_churn == pytest.approx(0.12)
    assert field.widget.text() == "12"
    assert field.unit_label is not None and field.unit_label.text() == "% a year"


def test_parse_percent() -> None:
    assert parse_percent("12") == 12.0
    assert parse_percent("12,5") is None or parse_percent("12,5") == 125.0
    assert parse_percent("7.5 %") == 7.5
    assert parse_percent("abc") is None and parse_percent("") is None


def test_field_warnings_and_their_fix(three, qtbot) -> None:
    editor = three.panes[0].editor
    churn = editor.field("company.annual_churn")
    assert churn.warning.isHidden()
    _type(qtbot, churn, "75")
    assert not churn.warning.isHidden() and "above 60 %" in churn.warning.text()
    arr = editor.field("company.initial_arr")
    editor.field("company.initial_customers").widget.setValue(420)
    assert not arr.warning.isHidden() and "0.71x" in arr.warning.text()
    arr._fix_clicked("fix:0")  # "Set ARR to $15.08M"
    assert three.docs[0].scenario.company.initial_arr == pytest.approx(15_084_938.78)
    assert arr.warning.isHidden()


def test_a_changed_value_is_yours_and_stays_yours(three, tmp_path, qtbot) -> None:
    from simulator.report import export as report

    editor = three.panes[0].editor
    field = editor.field("company.initial_customers")
    assert field.provenance == "assumption"
    field.widget.setValue(420)
    assert field.provenance == "yours" and field.tag.text() == "yours"
    doc = three.docs[0]
    assert "bundled preset" in doc.scenario.description  # no longer the siloed text
    doc.set_source("company.initial_arr", "finance export, March")
    assert editor.field("company.initial_arr").provenance == "yours"
    # saved, reopened: still the user's
    target = tmp_path / "mine.toml"
    doc.save(target)
    again = load_scenario(target)
    assert again.citations["company.initial_customers"].source == "entered by you"
    assert again.citations["company.initial_arr"].source == "finance export, March"
    # exports credit the user, not a publication
    base = again
    comparison = compare(
        base, [resolve_alternative(base, "aligned")], settings=three.run_settings()
    )
    lines = "\n".join(text for _s, text in report.source_lines(comparison))
    assert "Initial customers = 420 customers — entered by you" in lines
    assert "Initial ARR = $10.77M a year — finance export, March" in lines
    assert "company profile" not in lines
    paths = report.write_csv(comparison, tmp_path / "out.csv")
    head = paths[0].read_text(encoding="utf-8")
    assert "420 customers" in head
    pdf = report.write_pdf(comparison, tmp_path / "out.pdf")
    assert pdf.stat().st_size > 0


def test_comparison_file_round_trip(three, tmp_path, settings, qtbot) -> None:
    three.docs[0].set_value("company.initial_customers", 420)
    three.set_run_settings({**FAST, "seed": 11}, run=False)
    target = tmp_path / "board.toml"
    assert three.save_comparison(target)
    other = MainWindow(settings=settings, debounce_ms=20, preview_runs=100)
    qtbot.addWidget(other)
    try:
        assert [d.name for d in other.docs] == [d.name for d in three.docs]
        assert other.docs[2].scenario.company.initial_customers == 420
        assert other.run_settings().seed == 11
        assert alternative_summary(other.docs[2]).startswith("<b>Baseline + 2 levers")
    finally:
        for doc in other.docs:
            doc.undo_stack.setClean()
        other.close()
        other.controller.shutdown()


def test_a_saved_alternative_reopened_on_its_baseline_is_the_same(
    three, tmp_path
) -> None:
    base, alt = three.docs[0], three.docs[1]
    base.set_value("company.initial_customers", 420)
    base.set_value("company.initial_arr", 15_080_000.0)
    alt.set_value("follow_up.capacity_per_week", 90.0)
    target = tmp_path / "ours-aligned.toml"
    alt.save(target)
    text = target.read_text(encoding="utf-8")
    assert "initial_customers" not in text  # its changes, not the baseline's company
    again = resolve_alternative(base.scenario, target)
    assert again.model_dump() == alt.scenario.model_dump()


def test_an_alternative_says_when_a_lever_was_written_for_another_company(
    three,
) -> None:
    # Retention is an effect (churn x 0.64): it follows the user's churn.
    three.docs[0].set_value("company.annual_churn", 0.15)
    assert three.docs[2].scenario.company.annual_churn == pytest.approx(0.096)
    assert "The lever Customer retention" not in three.panes[2].info.text()
    # Sales works every lead sets a value (10 % of MQLs ignored), written for
    # the bundled company: a baseline that ignores fewer is told so.
    three.docs[0].set_value("handoff.ignore_base", 0.05)
    text = three.panes[1].info.text()
    assert "The lever Sales works every lead sets" in text
    assert "your baseline has 5 %" in text
