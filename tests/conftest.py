"""Shared fixtures. Qt runs offscreen in tests: set before any QApplication exists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Examples a property test tries when it does not fix its own number: a few
# hundred in the everyday run (seconds), thousands in the thorough one, for a
# change of the scenario loader or before a release (README, Development):
#   .venv/bin/python -m pytest --hypothesis-profile=thorough
settings.register_profile("everyday", max_examples=300)
settings.register_profile("thorough", max_examples=3000)
settings.load_profile("everyday")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def write_toml(tmp_path: Path):
    """Write a TOML text to a file in a temporary folder and return its path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
