"""File > New from my data…: the wizard end to end."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gui.fit_wizard import FitWizard, open_fitted

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"


def test_menu_has_new_from_my_data(window):
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    assert "New from my &data…" in texts
    # The toolbar still holds New, Open, Save, Save as.
    toolbar = window.findChild(type(window.addToolBar("probe")), "main_toolbar")
    assert [a.text() for a in toolbar.actions()[:4]] == [
        "&New scenario",
        "&Open…",
        "&Save",
        "Save &as…",
    ]


def test_wizard_fits_shows_the_table_and_opens_the_baseline(qtbot, window, tmp_path):
    wizard = FitWizard(window, check_runs=50)
    qtbot.addWidget(wizard)
    wizard.add_files(
        [
            EXAMPLES / "salesforce_opportunities.csv",
            EXAMPLES / "salesforce_stage_history.csv",
            EXAMPLES / "funnel_report.csv",
        ]
    )
    with qtbot.waitSignal(wizard.fitted, timeout=60_000):
        wizard.fit_button.click()
    assert wizard.pages.currentIndex() == 1
    result = wizard.result
    assert result is not None
    # The same table as the command line: one row per fitted value.
    assert wizard.table.rowCount() == len(result.rows)
    params = [wizard.table.item(i, 0).text() for i in range(wizard.table.rowCount())]
    assert "deals.acv_median" in params and "handoff.ignore_base" in params
    assert wizard.checks.rowCount() == len(result.checks)
    within = [wizard.checks.item(i, 4).text() for i in range(wizard.checks.rowCount())]
    assert within and all(w.startswith("yes") for w in within)
    assert "Not identified by the data" in wizard.kept.text()

    out = tmp_path / "mine.toml"
    assert wizard.save_to(out)
    raw = tomllib.loads(out.read_text(encoding="utf-8"))
    assert raw["extends"] == "siloed"
    assert raw["citations"]["deals.acv_median"]["source"].startswith("fitted from")

    assert open_fitted(window, out)
    assert window.docs[0].scenario.name == result.scenario.name
    assert window.docs[0].scenario.deals.acv_median == result.scenario.deals.acv_median
    alternative = window.docs[1].scenario
    # The aligned levers on the fitted company: its own stages, each raised so
    # that the win rate is x 1.38 (no conversion past 100 %); its churn x 0.64.
    stages = result.scenario.pipeline.stages
    factor = 1.38 ** (1 / len(stages))
    assert [s.name for s in alternative.pipeline.stages] == [s.name for s in stages]
    for fitted, aligned in zip(stages, alternative.pipeline.stages, strict=True):
        assert aligned.conversion == pytest.approx(min(1.0, fitted.conversion * factor))
    assert alternative.company.annual_churn == pytest.approx(
        0.64 * result.scenario.company.annual_churn
    )
    assert alternative.handoff.ignore_base == pytest.approx(0.10)
    assert alternative.company.initial_arr == result.scenario.company.initial_arr


def test_wizard_shows_a_bad_file_in_one_line(qtbot, tmp_path):
    bad = tmp_path / "export.csv"
    bad.write_text("Created,Closed\n2025-01-01,2025-02-01\n", encoding="utf-8")
    wizard = FitWizard(check_runs=20)
    qtbot.addWidget(wizard)
    wizard.add_files([bad])
    wizard.fit_button.click()
    qtbot.waitUntil(lambda: wizard.fit_button.isEnabled(), timeout=20_000)
    text = wizard.status.text()
    assert "export.csv" in text and "outcome" in text and "\n" not in text
    assert wizard.pages.currentIndex() == 0 and wizard.result is None


def test_files_can_be_dropped_on_the_wizard(qtbot):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    wizard = FitWizard(check_runs=20)
    qtbot.addWidget(wizard)
    data = QMimeData()
    path = EXAMPLES / "hubspot_deals.csv"
    data.setUrls([QUrl.fromLocalFile(str(path))])
    for _ in range(2):  # the same file twice is listed once
        event = QDropEvent(
            QPointF(10, 10),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        wizard.dropEvent(event)
    assert wizard.files() == [str(path)]
