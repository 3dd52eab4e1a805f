"""An alternative that extends a scenario with levers (``extends = "aligned"``)
shows, on its tab, the levers and values it keeps from that file."""

from __future__ import annotations

import pytest

from gui.document import ScenarioDocument
from gui.mainwindow import alternative_summary


def test_an_alternative_extending_aligned_lists_aligned_s_levers(
    qtbot, tmp_path
) -> None:
    alt = tmp_path / "alt.toml"
    alt.write_text(
        'schema_version = 1\nname = "My aligned"\nextends = "aligned"\n'
        "[costs]\nalignment_weekly = 2000.0\n",
        encoding="utf-8",
    )
    baseline = ScenarioDocument.from_preset("siloed")
    doc = ScenarioDocument.from_file(alt)
    doc.link_baseline(baseline)
    assert doc.scenario.company.annual_churn == pytest.approx(0.1 * 0.64)
    assert doc.scenario.costs.alignment_weekly == 2000.0
    summary = alternative_summary(doc)
    assert summary.startswith("<b>Baseline + 8 levers + 1 change</b>")
    assert "Customer retention" in summary and "Cost of aligning per week" in summary
