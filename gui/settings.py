"""UI preferences kept with QSettings only (window geometry, recent files, run
settings). Scenario content never goes here: it lives in TOML files.

The storage location is injectable (an INI file path), so tests never touch the
user's real settings; ``FUNNELSIM_SETTINGS`` does the same for the app.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8
ENV_VAR = "FUNNELSIM_SETTINGS"


class AppSettings:
    """Typed access to the app's QSettings.

    Parameters
    ----------
    path
        An INI file to keep the settings in; by default ``$FUNNELSIM_SETTINGS`` or
        the platform's place for FunnelSim's settings.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        path = path or os.environ.get(ENV_VAR)
        if path:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings(
                QSettings.Format.IniFormat,
                QSettings.Scope.UserScope,
                "FunnelSim",
                "FunnelSim",
            )

    @property
    def path(self) -> str:
        return self.qsettings.fileName()

    def sync(self) -> None:
        self.qsettings.sync()

    # geometry
    def window_geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    # recent files
    def recent_files(self) -> list[str]:
        value = self.qsettings.value("files/recent", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> list[str]:
        text = str(Path(path).resolve())
        files = [text, *[f for f in self.recent_files() if f != text]][:MAX_RECENT]
        self.qsettings.setValue("files/recent", files)
        return files

    def remove_recent(self, path: str | Path) -> None:
        files = [f for f in self.recent_files() if f != str(path)]
        self.qsettings.setValue("files/recent", files)

    # the last comparison file opened or saved, reopened at the next start
    def last_comparison(self) -> str | None:
        value = self.qsettings.value("files/last_comparison")
        return str(value) if value else None

    def set_last_comparison(self, path: str | Path | None) -> None:
        text = str(Path(path).resolve()) if path else ""
        self.qsettings.setValue("files/last_comparison", text)

    # run settings
    def run_settings(self) -> dict[str, int] | None:
        """Runs, horizon, warm-up and seed last used, or ``None``."""
        keys = ("runs", "horizon_weeks", "warmup_weeks", "seed")
        out: dict[str, int] = {}
        for key in keys:
            value: Any = self.qsettings.value(f"run/{key}")
            if value is None:
                return None
            try:
                out[key] = int(value)
            except (TypeError, ValueError):
                return None
        return out

    def set_run_settings(self, **values: int) -> None:
        for key, value in values.items():
            self.qsettings.setValue(f"run/{key}", int(value))
