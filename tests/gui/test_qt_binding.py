"""The Qt binding installed must not corrupt Python's reference counts.

PySide6 6.12.0 lowered None's reference count at each call of a Qt method that
returns nothing; on Python 3.11 (where None is not yet immortal) the app then
aborted within minutes with "Fatal Python error: none_dealloc". pyproject.toml
keeps that release out; this test fails on any binding with the same fault.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel

CALLS = 300


def test_void_qt_calls_leave_nones_reference_count_alone(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(CALLS):
        label.setText(str(i))
        label.update()
        QCoreApplication.processEvents()
    # Other code may take or drop a few references meanwhile; the fault took
    # three per round.
    assert sys.getrefcount(None) >= before - CALLS // 3
